"""Importing an RSS or Atom feed from its bytes.

The shell fetches the document (over the network, with a timeout and a size cap) and
hands the bytes here; feedparser is given bytes only, so it never touches the network or
the disk itself."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from campaigns.htmltext import html_to_words
from campaigns.news.errors import NewsError
from campaigns.news.models import SUMMARY_MAX
from campaigns.news.store import NewsImportSummary, source_of, store
from campaigns.news.validation import Candidate, Rejected, validated, web_address
from subscribers.errors import InvalidField
from subscribers.languages import check_language

FEED_BYTES_MAX = 5 * 1024 * 1024
FEED_ENTRIES_MAX = 2000


def import_feed(session: Session, *, source: bytes, name: str) -> NewsImportSummary:
    """Import a feed document; ``name`` (its address or file name) is its source."""
    if len(source) > FEED_BYTES_MAX:
        raise NewsError(f"{name}: the feed is larger than {FEED_BYTES_MAX // 1024**2} MB")
    import feedparser  # type: ignore[import-untyped]  # loaded for a feed import only

    try:
        parsed = feedparser.parse(source, sanitize_html=True, resolve_relative_uris=False)
    except Exception as error:  # a third-party parser on untrusted bytes: report, never crash
        raise NewsError(f"{name}: the feed cannot be read{_detail(error)}") from None
    entries = list(parsed.get("entries", []))
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise NewsError(f"{name}: not an RSS or Atom feed{_detail(parsed.get('bozo_exception'))}")
    language = parsed.get("feed", {}).get("language")
    summary = NewsImportSummary()
    for index, entry in enumerate(entries[:FEED_ENTRIES_MAX], start=1):
        try:
            candidate = _feed_candidate(entry, language)
        except Rejected as error:
            summary.reject(f"{name}, entry {index}", str(error))
            continue
        store(session, candidate, source_of("feed", name), summary)
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


def _feed_candidate(entry: Any, feed_language: str | None) -> Candidate:
    title = _plain(entry.get("title", ""), entry.get("title_detail"))
    if not title.strip():
        raise Rejected("no title")
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    if not moment:
        raise Rejected("no date (neither published nor updated)")
    content = entry.get("content") or []
    detail = entry.get("summary_detail") or (content[0] if content else None)
    text = _plain(entry.get("summary") or (content[0].get("value", "") if content else ""), detail)
    tags = entry.get("tags") or []
    link = entry.get("link") or None
    return validated(
        Candidate(
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
            return web_address(url, field="image") if url else None
        except Rejected:
            continue
    return None


def _plain(value: str, detail: Any) -> str:
    """Plain text from a feed text construct: HTML is stripped, plain text kept."""
    kind = str((detail or {}).get("type", "text/html"))
    if "html" not in kind:
        return value.strip()
    return html_to_words(value)


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
