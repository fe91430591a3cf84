"""News items for newsletters: the store, and importers from feeds, CSV files and listings.

Every importer funnels into one validated upsert, so a re-import changes nothing: an item
is the same item when it has the same link, the same feed entry id from the same feed, or,
having no link, the same title and date. Bad entries are counted and explained; good ones land.
"""

from __future__ import annotations

import csv
import http.client
import io
import re
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import Date, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaigns.errors import CampaignsError
from subscribers.addresses import check_language
from subscribers.base import Base, IdType, UTCDateTime, utcnow
from subscribers.errors import InvalidField
from subscribers.importer import csv_records
from subscribers.models import LANGUAGE_MAX

TITLE_MAX = 300
CATEGORY_MAX = 100
LINK_MAX = 2000
EXTERNAL_ID_MAX = 500
SOURCE_MAX = LINK_MAX + 100  # "feed:" and a feed address, or "csv:" and a file name
SUMMARY_MAX = 10_000
FEED_BYTES_MAX = 5 * 1024 * 1024
FEED_ENTRIES_MAX = 2000
FEED_FETCH_TIMEOUT = 20  # seconds
FILE_BYTES_MAX = 10 * 1024 * 1024
STAFF_SOURCE = "staff"
CSV_COLUMNS = ("title", "date", "category", "summary", "link")
CSV_OPTIONAL_COLUMNS = ("image_url", "language")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class NewsItem(Base):
    """One piece of news a newsletter can carry; ``source`` says where it came from."""

    __tablename__ = "news_items"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    published_on: Mapped[date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    # Unique where present (NULLs never collide): the same link is the same news, whoever sent it.
    link: Mapped[str | None] = mapped_column(String(LINK_MAX), unique=True, default=None)
    image_url: Mapped[str | None] = mapped_column(String(LINK_MAX), default=None)
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_MAX), default=None)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    # A feed entry's id: found again even when the entry's link changes.
    external_id: Mapped[str | None] = mapped_column(
        String(EXTERNAL_ID_MAX), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NewsError(CampaignsError):
    """A news item or an import source cannot be used; the message says where and why."""


class NewsItemNotFound(NewsError):
    def __init__(self, item_id: int) -> None:
        super().__init__(f"there is no news item {item_id}; see `coopmail news list`")


@dataclass(kw_only=True)
class NewsImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)  # "where: why", one per rejection

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def reject(self, where: str, why: str, *, count: int = 1) -> None:
        self.rejected += count
        self.reasons.append(f"{where}: {why}")


@dataclass(kw_only=True)
class _Candidate:
    """An item as a source gave it, not yet validated."""

    title: str
    published_on: date
    link: str | None
    summary: str = ""
    category: str = ""
    image_url: str | None = None
    language: str | None = None
    external_id: str | None = None


_FIELDS = ("title", "published_on", "category", "summary", "link", "image_url", "language")


# --- use-cases -------------------------------------------------------------------------


def add_item(
    session: Session,
    *,
    title: str,
    published_on: date,
    link: str,
    summary: str = "",
    category: str = "",
    image_url: str | None = None,
    language: str | None = None,
) -> NewsItem:
    """Add one item written by staff; its link must be new."""
    candidate = _Candidate(
        title=title,
        published_on=published_on,
        link=link,
        summary=summary,
        category=category,
        image_url=image_url or None,
        language=language,
    )
    try:
        candidate = _validated(candidate, link_required=True)
    except _Rejected as error:
        raise NewsError(str(error)) from None
    existing = session.scalar(select(NewsItem).where(NewsItem.link == candidate.link))
    if existing is not None:
        raise NewsError(
            f"news item {existing.id} already has the link {candidate.link}; "
            f"remove it first with `coopmail news remove {existing.id}`"
        )
    item = NewsItem(source=STAFF_SOURCE, **{name: getattr(candidate, name) for name in _FIELDS})
    session.add(item)
    session.flush()
    return item


def list_items(session: Session, *, month: str | None = None, limit: int = 50) -> list[NewsItem]:
    """The newest items, of one month (YYYY-MM) when given."""
    query = select(NewsItem)
    if month is not None:
        first, after = _month_bounds(*parse_month(month))
        query = query.where(NewsItem.published_on >= first, NewsItem.published_on < after)
    query = query.order_by(NewsItem.published_on.desc(), NewsItem.id.desc()).limit(limit)
    return list(session.scalars(query))


def items_for_month(session: Session, *, year: int, month: int) -> list[NewsItem]:
    """Every item published in one month, newest first: what a monthly newsletter carries."""
    if not 1 <= month <= 12:
        raise NewsError(f"month must be 1 to 12, not {month}")
    first, after = _month_bounds(year, month)
    query = (
        select(NewsItem)
        .where(NewsItem.published_on >= first, NewsItem.published_on < after)
        .order_by(NewsItem.published_on.desc(), NewsItem.id.desc())
    )
    return list(session.scalars(query))


def remove_item(session: Session, *, item_id: int) -> None:
    item = session.get(NewsItem, item_id)
    if item is None:
        raise NewsItemNotFound(item_id)
    session.delete(item)
    session.flush()


def parse_day(value: str) -> date:
    """A YYYY-MM-DD date, or a one-line NewsError."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    try:
        if match is None:
            raise ValueError
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise NewsError(f"date {value!r} is not a date written YYYY-MM-DD") from None


def parse_month(value: str) -> tuple[int, int]:
    """(year, month) from YYYY-MM, or a one-line NewsError."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise NewsError(f"month {value!r} is not a month written YYYY-MM, such as 2022-04")
    return int(match[1]), int(match[2])


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    return first, date(year + month // 12, month % 12 + 1, 1)


# --- importers -------------------------------------------------------------------------


def import_feed(session: Session, *, source: str | bytes, name: str) -> NewsImportSummary:
    """Import an RSS or Atom feed given as an http(s) address, a file path or its bytes.

    The document is always read here, with a timeout and a size cap, and handed to
    feedparser as bytes, so feedparser itself never touches the network or the disk.
    """
    data = source if isinstance(source, bytes) else read_feed(source)
    if len(data) > FEED_BYTES_MAX:
        raise NewsError(f"{name}: the feed is larger than {FEED_BYTES_MAX // 1024**2} MB")
    import feedparser  # type: ignore[import-untyped]  # loaded for a feed import only

    try:
        parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    except Exception as error:  # a third-party parser on untrusted bytes: report, never crash
        raise NewsError(f"{name}: the feed cannot be read{_detail(error)}") from None
    entries = list(parsed.get("entries", []))
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise NewsError(f"{name}: not an RSS or Atom feed{_detail(parsed.get('bozo_exception'))}")
    language = parsed.get("feed", {}).get("language")
    summary = NewsImportSummary()
    for index, entry in enumerate(entries[:FEED_ENTRIES_MAX], start=1):
        where = f"{name}, entry {index}"
        try:
            candidate = _feed_candidate(entry, language)
        except _Rejected as error:
            summary.reject(where, str(error))
            continue
        _store(session, candidate, _source("feed", name), where, summary)
    if len(entries) > FEED_ENTRIES_MAX:
        summary.reject(
            f"{name}, entries {FEED_ENTRIES_MAX + 1}-{len(entries)}",
            f"a feed is read up to its first {FEED_ENTRIES_MAX} entries",
            count=len(entries) - FEED_ENTRIES_MAX,
        )
    return summary


def _detail(problem: object) -> str:
    """The problem's first line in parentheses, or nothing when there is none to tell."""
    text = str(problem or "").strip().replace("<unknown>:", "at ")
    return f" ({text.splitlines()[0]})" if text else ""


def import_csv(session: Session, *, path: Path) -> NewsImportSummary:
    """Import a CSV file: title,date,category,summary,link[,image_url,language]."""
    text = _read_text_file(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise NewsError(f"{path.name}: the file is empty; it needs a header row") from None
    except csv.Error as error:
        raise NewsError(f"{path.name}, line 1: the header cannot be read ({error})") from None
    expected = ", ".join(CSV_COLUMNS) + "[, " + ", ".join(CSV_OPTIONAL_COLUMNS) + "]"
    missing = [column for column in CSV_COLUMNS if column not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS + CSV_OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise NewsError(
            f"{path.name}, line 1: the header must name the columns {expected}, "
            f"each once; found: {', '.join(header) or 'nothing'}"
        )
    summary = NewsImportSummary()
    for line, fields, unreadable in csv_records(reader):
        where = f"{path.name}, line {line}"
        if unreadable is not None:
            summary.reject(where, unreadable)
            continue
        if len(fields) != len(header):
            summary.reject(
                where, f"expected {len(header)} fields as in the header, found {len(fields)}"
            )
            continue
        row = dict(zip(header, fields, strict=True))
        try:
            candidate = _Candidate(
                title=row["title"],
                published_on=_csv_date(row["date"]),
                link=row["link"].strip() or None,
                summary=row["summary"],
                category=row["category"],
                image_url=row.get("image_url", "").strip() or None,
                language=row.get("language"),
            )
            candidate = _validated(candidate)
        except _Rejected as error:
            summary.reject(where, str(error))
            continue
        _store(session, candidate, _source("csv", path.name), where, summary)
    return summary


def import_listing(session: Session, *, text: str, name: str) -> NewsImportSummary:
    """Import a plain-text news listing: month headings ("April 2022"), then numbered items
    of a category line, a title line, a date line ("01 April 2022") and a summary.

    Lines before the date other than the title and category (a photo credit) are dropped;
    anything before the first month heading (a page's contact block) is not news.
    """
    blocks = list(_listing_items(text))
    if not blocks:
        raise NewsError(
            f"{name}: no news items found; a listing has month headings such as 'April 2022' "
            "followed by numbered items"
        )
    summary = NewsImportSummary()
    for line, lines in blocks:
        where = f"{name}, line {line}"
        try:
            candidate = _validated(_listing_candidate(lines))
        except _Rejected as error:
            summary.reject(where, str(error))
            continue
        _store(session, candidate, _source("listing", name), where, summary)
    return summary


# --- storing ---------------------------------------------------------------------------


def _source(kind: str, name: str) -> str:
    return f"{kind}:{name}"[:SOURCE_MAX]


def _store(
    session: Session, candidate: _Candidate, source: str, where: str, summary: NewsImportSummary
) -> None:
    """Insert, update or leave alone the item this candidate is."""
    item = _existing(session, candidate, source)
    if item is None:
        session.add(
            NewsItem(
                source=source,
                external_id=candidate.external_id,
                **{name: getattr(candidate, name) for name in _FIELDS},
            )
        )
        session.flush()
        summary.added += 1
        return
    wanted = {name: getattr(candidate, name) for name in _FIELDS}
    if candidate.link is None:
        wanted["link"] = item.link  # a listing without links never takes a known link away
    if candidate.external_id is not None and item.source == source:
        wanted["external_id"] = candidate.external_id
    changed = {name: value for name, value in wanted.items() if getattr(item, name) != value}
    if not changed:
        summary.unchanged += 1
        return
    for name, value in changed.items():
        setattr(item, name, value)
    session.flush()
    summary.updated += 1


def _existing(session: Session, candidate: _Candidate, source: str) -> NewsItem | None:
    if candidate.link is not None:
        found = session.scalar(select(NewsItem).where(NewsItem.link == candidate.link))
        if found is not None:
            return found
    if candidate.external_id is not None:
        found = session.scalar(
            select(NewsItem)
            .where(NewsItem.source == source, NewsItem.external_id == candidate.external_id)
            .limit(1)
        )
        if found is not None:
            return found
    if candidate.link is None:
        return session.scalar(
            select(NewsItem)
            .where(
                NewsItem.title == candidate.title,
                NewsItem.published_on == candidate.published_on,
            )
            .order_by(NewsItem.id)
            .limit(1)
        )
    return None


class _Rejected(Exception):
    """Why one entry or row cannot become an item."""


def _validated(candidate: _Candidate, *, link_required: bool = False) -> _Candidate:
    link = _web_address(candidate.link, field="link") if candidate.link else None
    if link is None and link_required:
        raise _Rejected("link is empty; give the http:// or https:// address of the news")
    summary = candidate.summary.strip()
    if _has_control_characters(summary.replace("\n", "")):
        raise _Rejected("summary contains a NUL or other control character")
    if len(summary) > SUMMARY_MAX:
        raise _Rejected(f"summary is longer than {SUMMARY_MAX} characters")
    try:
        language = check_language(candidate.language or "")
    except InvalidField as error:
        raise _Rejected(str(error)) from None
    external_id = candidate.external_id
    if external_id is not None:
        external_id = external_id.strip()[:EXTERNAL_ID_MAX] or None
    return _Candidate(
        title=_one_line(candidate.title, field="title", limit=TITLE_MAX, required=True),
        published_on=candidate.published_on,
        link=link,
        summary=summary,
        category=_one_line(candidate.category, field="category", limit=CATEGORY_MAX),
        image_url=_web_address(candidate.image_url, field="image") if candidate.image_url else None,
        language=language,
        external_id=external_id,
    )


def _one_line(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = " ".join(value.split())
    if required and not value:
        raise _Rejected(f"{field} is empty")
    if _has_control_characters(value):
        raise _Rejected(f"{field} contains a NUL or other control character")
    if len(value) > limit:
        raise _Rejected(f"{field} is longer than {limit} characters")
    return value


def _web_address(value: str, *, field: str) -> str:
    value = value.strip()
    # IRIs become ASCII, so the unique index on link never sees a multi-byte character.
    address = quote(value, safe="!#$%&'()*+,-./:;=?@[]~_")
    parts = urlsplit(address) if not _has_control_characters(value) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _Rejected(f"{field} {value[:80]!r} is not an http:// or https:// address")
    if len(address) > LINK_MAX:
        raise _Rejected(f"{field} is longer than {LINK_MAX} characters")
    return address


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in value)


# --- feeds -----------------------------------------------------------------------------


def read_feed(source: str) -> bytes:
    """A feed's bytes from its http(s) address or a file, size-capped and time-limited."""
    if urlsplit(source).scheme.lower() in ("http", "https"):
        return _fetch(source)
    return _read_file(Path(source), limit=FEED_BYTES_MAX)


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(  # noqa: S310  (the scheme is checked: http(s) only)
        url, headers={"User-Agent": "coopmail news import", "Accept": "application/xml, */*"}
    )
    try:
        with urllib.request.urlopen(request, timeout=FEED_FETCH_TIMEOUT) as response:  # noqa: S310
            data: bytes = response.read(FEED_BYTES_MAX + 1)
    except urllib.error.HTTPError as error:
        raise NewsError(
            f"cannot fetch {url}: the server answered {error.code} {error.reason}"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise NewsError(f"cannot fetch {url}: {reason}") from None
    if len(data) > FEED_BYTES_MAX:
        raise NewsError(f"{url}: the feed is larger than {FEED_BYTES_MAX // 1024**2} MB")
    return data


def _feed_candidate(entry: Any, feed_language: str | None) -> _Candidate:
    title = _plain(entry.get("title", ""), entry.get("title_detail"))
    if not title.strip():
        raise _Rejected("no title")
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    if not moment:
        raise _Rejected("no date (neither published nor updated)")
    content = entry.get("content") or []
    detail = entry.get("summary_detail") or (content[0] if content else None)
    text = _plain(entry.get("summary") or (content[0].get("value", "") if content else ""), detail)
    tags = entry.get("tags") or []
    link = entry.get("link") or None
    return _validated(
        _Candidate(
            title=title,
            published_on=date(moment.tm_year, moment.tm_mon, moment.tm_mday),
            link=link,
            summary=_shortened(text, SUMMARY_MAX),
            category=(tags[0].get("term") or "") if tags else "",
            image_url=_feed_image(entry),
            language=_feed_language((detail or {}).get("language"), feed_language),
            external_id=entry.get("id") or link,
        )
    )


def _feed_language(*tags: str | None) -> str | None:
    """The first well-formed language tag: a feed's odd tag is no reason to lose its news."""
    for tag in tags:
        try:
            if tag and (language := check_language(tag)):
                return language
        except InvalidField:
            continue
    return None


def _feed_image(entry: Any) -> str | None:
    """The first usable picture among media:thumbnail, media:content and enclosures."""
    candidates = [media.get("url") for media in entry.get("media_thumbnail") or []]
    candidates += [
        media.get("url")
        for media in entry.get("media_content") or []
        if media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")
    ]
    candidates += [
        link.get("href")
        for link in entry.get("links") or []
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/")
    ]
    for url in candidates:
        try:
            return _web_address(url, field="image") if url else None
        except _Rejected:
            continue
    return None


def _plain(value: str, detail: Any) -> str:
    """Plain text from a feed text construct: HTML is stripped, plain text kept."""
    kind = str((detail or {}).get("type", "text/html"))
    if "html" not in kind:
        return value.strip()
    stripper = _TextOnly()
    stripper.feed(value)
    stripper.close()
    return stripper.text()


class _TextOnly(HTMLParser):
    """The text of an HTML fragment: paragraphs kept, tags, scripts and styles dropped."""

    _BREAKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _SKIPPED = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skip += 1
        elif tag in self._BREAKS:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BREAKS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._parts.append(data.replace("\r", " ").replace("\n", " "))

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self._parts).split("\n"))
        return "\n\n".join(line for line in lines if line)


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


# --- CSV and listings ------------------------------------------------------------------


def _read_file(path: Path, *, limit: int) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except FileNotFoundError:
        raise NewsError(f"{path}: no such file") from None
    except OSError as error:
        raise NewsError(f"{path}: cannot be read ({error.strerror})") from None
    if len(data) > limit:
        raise NewsError(f"{path}: larger than {limit // 1024**2} MB; is it the right file?")
    return data


def _read_text_file(path: Path) -> str:
    try:
        return _read_file(path, limit=FILE_BYTES_MAX).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NewsError(
            f"{path.name}: not UTF-8 text (byte {error.start}); save it as UTF-8 and retry"
        ) from None


def read_listing(path: Path) -> str:
    """A listing file's text, size-capped, with a one-line error when it is unusable."""
    return _read_text_file(path)


def _csv_date(value: str) -> date:
    try:
        return parse_day(value)
    except NewsError as error:
        raise _Rejected(str(error)) from None


_MONTH_NAMES = "|".join(MONTHS)
_MONTH_HEADING = re.compile(rf"(?:{_MONTH_NAMES}) \d{{4}}")
_ITEM_START = re.compile(r"(\s*)\d+\.\s+(\S.*)")
_DAY_LINE = re.compile(rf"(\d{{1,2}}) ({_MONTH_NAMES}) (\d{{4}})")


def _listing_items(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, the item's lines with "" for blank ones) for each numbered item under a
    month heading. An item ends at the next item, heading, or a line indented less than its
    number (the page's own text after the list)."""
    in_month = False
    current: tuple[int, list[str]] | None = None
    indent = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        stripped = line.strip()
        start = _ITEM_START.fullmatch(line)
        ends_item = (
            _MONTH_HEADING.fullmatch(stripped)
            or start
            or (stripped and len(line) - len(line.lstrip()) < indent)
        )
        if current is not None and ends_item:
            yield current
            current = None
        if _MONTH_HEADING.fullmatch(stripped):
            in_month = True
        elif start and in_month:
            indent = len(start[1])
            current = (number, [start[2].strip()])
        elif current is not None:
            current[1].append(stripped)
    if current is not None:
        yield current


def _listing_candidate(lines: list[str]) -> _Candidate:
    filled = [line for line in lines if line]
    day = next((i for i, line in enumerate(filled) if _DAY_LINE.fullmatch(line)), None)
    if day is None:
        raise _Rejected("no date line such as '01 April 2022'")
    if day == 0:
        raise _Rejected("no title line before the date")
    match = _DAY_LINE.fullmatch(filled[day])
    assert match is not None
    try:
        published_on = date(int(match[3]), MONTHS.index(match[2]) + 1, int(match[1]))
    except ValueError:
        raise _Rejected(f"{filled[day]!r} is not a real date") from None
    after = lines[lines.index(filled[day]) + 1 :]
    return _Candidate(
        title=filled[day - 1],
        published_on=published_on,
        link=None,
        category=filled[day - 2] if day >= 2 else "",
        summary="\n\n".join(_paragraphs(after)),
    )


def _paragraphs(lines: Iterable[str]) -> Iterator[str]:
    paragraph: list[str] = []
    for line in [*lines, ""]:
        if line:
            paragraph.append(line)
        elif paragraph:
            yield " ".join(" ".join(paragraph).split())  # also folds no-break spaces
            paragraph = []
