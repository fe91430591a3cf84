"""One item's fields checked and normalised, whoever gave them: staff or an importer.

An importer turns a ``Rejected`` into a counted, explained rejection of one entry; a staff
use case turns it into a ``NewsError``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlsplit

from campaigns.news.models import (
    CATEGORY_MAX,
    EXTERNAL_ID_MAX,
    LINK_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
)
from subscribers.errors import InvalidField
from subscribers.languages import check_language

# The fields a candidate gives its item.
FIELDS = ("title", "published_on", "category", "summary", "link", "image_url", "language")


@dataclass(kw_only=True)
class Candidate:
    """An item as a source gave it, not yet validated."""

    title: str
    published_on: date
    link: str | None
    summary: str = ""
    category: str = ""
    image_url: str | None = None
    language: str | None = None
    external_id: str | None = None


class Rejected(Exception):
    """Why one entry or row cannot become an item: the message, and for a field's value
    which field and what is wrong with it ("empty", "too_long", "control_character",
    "not_web_address", "not_language"), for a page to say in its own words."""

    def __init__(
        self, message: str, *, field: str | None = None, problem: str | None = None, limit: int = 0
    ) -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem
        self.limit = limit


def validated(candidate: Candidate, *, link_required: bool = False) -> Candidate:
    link = web_address(candidate.link, field="link") if candidate.link else None
    if link is None and link_required:
        raise Rejected(
            "link is empty; give the http:// or https:// address of the news",
            field="link",
            problem="empty",
        )
    summary = checked_summary(candidate.summary)
    try:
        language = check_language(candidate.language or "")
    except InvalidField as error:
        raise Rejected(str(error), field="language", problem="not_language") from None
    external_id = candidate.external_id
    if external_id is not None:
        external_id = external_id.strip()[:EXTERNAL_ID_MAX] or None
    return Candidate(
        title=one_line(candidate.title, field="title", limit=TITLE_MAX, required=True),
        published_on=candidate.published_on,
        link=link,
        summary=summary,
        category=one_line(candidate.category, field="category", limit=CATEGORY_MAX),
        image_url=web_address(candidate.image_url, field="image") if candidate.image_url else None,
        language=language,
        external_id=external_id,
    )


def checked_summary(value: str) -> str:
    """Paragraphs of plain text; a form's CRLF line ends become LF."""
    summary = value.replace("\r\n", "\n").strip()
    if has_control_characters(summary.replace("\n", "")):
        raise Rejected(
            "summary contains a NUL or other control character",
            field="summary",
            problem="control_character",
        )
    if len(summary) > SUMMARY_MAX:
        raise Rejected(
            f"summary is longer than {SUMMARY_MAX} characters",
            field="summary",
            problem="too_long",
            limit=SUMMARY_MAX,
        )
    return summary


def one_line(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = " ".join(value.split())
    if required and not value:
        raise Rejected(f"{field} is empty", field=field, problem="empty")
    if has_control_characters(value):
        raise Rejected(
            f"{field} contains a NUL or other control character",
            field=field,
            problem="control_character",
        )
    if len(value) > limit:
        raise Rejected(
            f"{field} is longer than {limit} characters",
            field=field,
            problem="too_long",
            limit=limit,
        )
    return value


def web_address(value: str, *, field: str) -> str:
    value = value.strip()
    # IRIs become ASCII, so the unique index on link never sees a multi-byte character.
    address = quote(value, safe="!#$%&'()*+,-./:;=?@[]~_")
    parts = urlsplit(address) if not has_control_characters(value) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Rejected(
            f"{field} {value[:80]!r} is not an http:// or https:// address",
            field=field,
            problem="not_web_address",
        )
    if len(address) > LINK_MAX:
        raise Rejected(
            f"{field} is longer than {LINK_MAX} characters",
            field=field,
            problem="too_long",
            limit=LINK_MAX,
        )
    return address


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in value)
