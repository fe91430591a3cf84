"""Importing a plain-text news listing, as a unit's news page reads when copied.

Month headings ("April 2022"), then numbered items of a category line, a title line, a
date line ("01 April 2022") and a summary. A listing has no links: its items have no
"read more" in the digest until staff give them one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date

from sqlalchemy.orm import Session

from campaigns.news.errors import NewsError
from campaigns.news.months import MONTHS
from campaigns.news.store import NewsImportSummary, source_of, store
from campaigns.news.validation import Candidate, Rejected, validated

_MONTH_NAMES = "|".join(MONTHS)
_MONTH_HEADING = re.compile(rf"(?:{_MONTH_NAMES}) \d{{4}}")
_ITEM_START = re.compile(r"(\s*)\d+\.\s+(\S.*)")
_DAY_LINE = re.compile(rf"(\d{{1,2}}) ({_MONTH_NAMES}) (\d{{4}})")


def import_listing(session: Session, *, text: str, name: str) -> NewsImportSummary:
    """Import a listing's text.

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
            candidate = validated(_listing_candidate(lines))
        except Rejected as error:
            summary.reject(where, str(error))
            continue
        store(session, candidate, source_of("listing", name), summary)
    return summary


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


def _listing_candidate(lines: list[str]) -> Candidate:
    filled = [line for line in lines if line]
    day = next((i for i, line in enumerate(filled) if _DAY_LINE.fullmatch(line)), None)
    if day is None:
        raise Rejected("no date line such as '01 April 2022'")
    if day == 0:
        raise Rejected("no title line before the date")
    match = _DAY_LINE.fullmatch(filled[day])
    assert match is not None
    try:
        published_on = date(int(match[3]), MONTHS.index(match[2]) + 1, int(match[1]))
    except ValueError:
        raise Rejected(f"{filled[day]!r} is not a real date") from None
    after = lines[lines.index(filled[day]) + 1 :]
    return Candidate(
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
