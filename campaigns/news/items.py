"""The use cases on one item that staff write: add, edit, translate, remove."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.news.errors import (
    DuplicateNewsLink,
    InvalidNewsItem,
    NewsError,
    NewsItemNotFound,
)
from campaigns.news.models import STAFF_SOURCE, TITLE_MAX, NewsItem
from campaigns.news.validation import (
    FIELDS,
    Candidate,
    Rejected,
    checked_summary,
    one_line,
    validated,
)
from subscribers.errors import InvalidField
from subscribers.languages import best_language, check_language


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
    candidate = _checked(
        Candidate(
            title=title,
            published_on=published_on,
            link=link,
            summary=summary,
            category=category,
            image_url=image_url or None,
            language=language,
        ),
        link_required=True,
    )
    _refuse_taken_link(session, candidate.link, item_id=None)
    item = NewsItem(source=STAFF_SOURCE, **{name: getattr(candidate, name) for name in FIELDS})
    session.add(item)
    session.flush()
    return item


def edit_item(
    session: Session,
    *,
    item_id: int,
    title: str | None = None,
    published_on: date | None = None,
    link: str | None = None,
    summary: str | None = None,
    category: str | None = None,
    image_url: str | None = None,
    language: str | None = None,
) -> NewsItem:
    """Change an item, whoever brought it: a field left out (None) stays as it is; an
    empty link, image or language takes it away. Giving a listing's item its link is
    how it gets its "read more" in the digest."""
    item = get_item(session, item_id=item_id)

    def given(value: str | None, current: str | None) -> str | None:
        return current if value is None else value.strip() or None

    candidate = _checked(
        Candidate(
            title=item.title if title is None else title,
            published_on=published_on or item.published_on,
            link=given(link, item.link),
            summary=item.summary if summary is None else summary,
            category=item.category if category is None else category,
            image_url=given(image_url, item.image_url),
            language=given(language, item.language),
        )
    )
    _refuse_taken_link(session, candidate.link, item_id=item.id)
    for name in FIELDS:
        setattr(item, name, getattr(candidate, name))
    session.flush()
    return item


def translate_item(
    session: Session, *, item_id: int, language: str, title: str, summary: str = ""
) -> NewsItem:
    """Give an item its title and summary in ``language``: the digest's version in that
    language shows them to the partners who read it."""
    item = get_item(session, item_id=item_id)
    try:
        tag = check_language(language)
    except InvalidField as error:
        raise InvalidNewsItem(str(error), field="language", problem="not_language") from None
    try:
        words = {"title": one_line(title, field="title", limit=TITLE_MAX, required=True)}
        text = checked_summary(summary)
    except Rejected as error:
        raise _invalid(error) from None
    if tag is None:
        raise NewsError("a translation needs a language such as fr or es")
    if text:
        words["summary"] = text
    item.translations = {**(item.translations or {}), tag: words}
    session.flush()
    return item


def untranslate_item(session: Session, *, item_id: int, language: str) -> NewsItem:
    """Take away the item's words in ``language``: that version shows its own again."""
    item = get_item(session, item_id=item_id)
    item.translations = {
        tag: words for tag, words in (item.translations or {}).items() if tag != language
    }
    session.flush()
    return item


def item_words(item: NewsItem, *, language: str) -> tuple[str, str]:
    """The item's title and summary in ``language`` where translated, else its own."""
    translations = item.translations or {}
    said = translations.get(best_language([language], available=translations) or "", {})
    return said.get("title") or item.title, said.get("summary") or item.summary


def get_item(session: Session, *, item_id: int) -> NewsItem:
    item = session.get(NewsItem, item_id)
    if item is None:
        raise NewsItemNotFound(item_id)
    return item


def remove_item(session: Session, *, item_id: int) -> None:
    session.delete(get_item(session, item_id=item_id))
    session.flush()


def _checked(candidate: Candidate, *, link_required: bool = False) -> Candidate:
    try:
        return validated(candidate, link_required=link_required)
    except Rejected as error:
        raise _invalid(error) from None


def _invalid(error: Rejected) -> InvalidNewsItem:
    assert error.field is not None and error.problem is not None  # a field's value: both known
    return InvalidNewsItem(str(error), field=error.field, problem=error.problem, limit=error.limit)


def _refuse_taken_link(session: Session, link: str | None, *, item_id: int | None) -> None:
    if link is None:
        return
    existing = session.scalar(select(NewsItem).where(NewsItem.link == link))
    if existing is not None and existing.id != item_id:
        raise DuplicateNewsLink(existing_id=existing.id, link=link)
