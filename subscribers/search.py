"""Finding people among a million: filters that combine, newest first, a page at a time by
keyset (the last id seen), never by OFFSET.

OFFSET makes the database read and drop every row before the page, so page 5,000 of a
large list reads 250,000 rows; a keyset seek (``id < last id seen``) reads only the page.
The address search is a prefix range on the address's index (addresses are stored in lower
case): on SQLite a range on the unique index, on PostgreSQL a ``LIKE 'prefix%'`` on the
``text_pattern_ops`` index, which is correct whatever the database's collation. Names and
attributes have no index: a search on them reads people newest first until the page is
full, which is quick for common words and slower (a pass over the table) for rare ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, null, or_, select
from sqlalchemy.orm import Session

from subscribers.base import LIKE_ESCAPE, like_containing
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from subscribers.people import SubscriberRow

PAGE_SIZE = 50
COUNT_CAP = 10_000  # beyond this the page says "more than 10,000": counting all is slow


@dataclass(frozen=True, kw_only=True)
class PeopleQuery:
    """What staff asked for; every filter left empty matches everyone."""

    text: str = ""  # the start of an address, or of any word of a name
    # ``text`` anywhere in the address or the name instead: what the API and the CLI have
    # always searched for. No index serves it: a pass over the people, newest first.
    text_anywhere: bool = False
    attribute: str = ""  # an attribute's name ...
    attribute_value: str = ""  # ... and its exact value
    list_id: int | None = None
    status: SubscriptionStatus | None = None  # on ``list_id``, or on any list without it
    language: str | None = None
    added_from: datetime | None = None  # inclusive
    added_before: datetime | None = None  # exclusive

    def as_json(self) -> dict[str, Any]:
        """The query as JSON values, to be kept (by a background job) and read back."""
        values = asdict(self)
        for name in ("added_from", "added_before"):
            moment = values[name]
            values[name] = moment.isoformat() if moment is not None else None
        values["status"] = self.status.value if self.status is not None else None
        return values

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> PeopleQuery:
        moments = {
            name: datetime.fromisoformat(values[name]) if values.get(name) else None
            for name in ("added_from", "added_before")
        }
        status = values.get("status")
        return cls(
            text=str(values.get("text") or ""),
            text_anywhere=bool(values.get("text_anywhere")),
            attribute=str(values.get("attribute") or ""),
            attribute_value=str(values.get("attribute_value") or ""),
            list_id=values.get("list_id"),
            status=SubscriptionStatus(status) if status else None,
            language=values.get("language"),
            **moments,
        )


@dataclass(frozen=True, kw_only=True)
class PeoplePage:
    rows: list[SubscriberRow]
    # The key of the next page (the last id of this one), or None on the last page.
    next_after: int | None


@dataclass(frozen=True, kw_only=True)
class PeopleCount:
    count: int
    capped: bool  # there are more than ``count``; counting stopped there


def search_people(
    session: Session, *, query: PeopleQuery, after: int | None = None, limit: int = PAGE_SIZE
) -> PeoplePage:
    """One page of the people ``query`` matches, newest first, after the key ``after``."""
    key = _key(query)
    # The page's keys first, from the indexes alone; then only those rows are read. Read
    # in one step, a prefix matching thousands would load every match to sort them.
    keys = _matching(session, query).with_only_columns(key)
    if after is not None:
        keys = keys.where(key < after)
    page_keys = keys.order_by(key.desc()).limit(limit + 1).scalar_subquery()
    statement = _matching(session, query).where(key.in_(page_keys)).order_by(key.desc())
    found = list(session.execute(statement))
    rows = [
        SubscriberRow(
            id=subscriber_id,
            email=email,
            name=name,
            language=language,
            status=SubscriptionStatus(status).value if status is not None else None,
            created_at=created_at,
        )
        for subscriber_id, email, name, language, created_at, status in found[:limit]
    ]
    more = len(found) > limit
    return PeoplePage(rows=rows, next_after=rows[-1].id if more and rows else None)


def after_offset(session: Session, *, query: PeopleQuery, offset: int) -> int | None:
    """The key ``after`` of the page that starts ``offset`` people in, for the API's
    deprecated ``offset``; None for the first page. It reads ``offset`` keys of the index
    (never the rows): what makes an offset slow on a large list, and why a cursor replaces
    it. Past the last person, a key below every id, so that the page is empty."""
    if offset == 0:
        return None
    key = _key(query)
    keys = _matching(session, query).with_only_columns(key).order_by(key.desc())
    found: int | None = session.scalar(keys.offset(offset - 1).limit(1))
    return found if found is not None else 0


def count_people(
    session: Session, *, query: PeopleQuery, cap: int | None = COUNT_CAP
) -> PeopleCount:
    """How many people ``query`` matches, counting at most ``cap`` (None: all of them)."""
    statement = _matching(session, query).with_only_columns(Subscriber.id)
    if query.list_id is not None and not _about_the_person(query):
        # A list's people by status: counted on the subscriptions index alone.
        statement = select(Subscription.id).where(Subscription.list_id == query.list_id)
        if query.status is not None:
            statement = statement.where(Subscription.status == query.status)
    if cap is not None:
        statement = statement.limit(cap + 1)
    count = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    if cap is not None and count > cap:
        return PeopleCount(count=cap, capped=True)
    return PeopleCount(count=count, capped=False)


def walk_people(
    session: Session, *, query: PeopleQuery, batch: int = 500
) -> Iterator[list[SubscriberRow]]:
    """Every person ``query`` matches, a batch at a time, by keyset: what a bulk action
    goes through. Safe when each batch changes or deletes its people before the next is
    read, since the next batch starts below the last id already seen."""
    after: int | None = None
    while True:
        page = search_people(session, query=query, after=after, limit=batch)
        if page.rows:
            yield page.rows
        if page.next_after is None:
            return
        after = page.next_after


def _about_the_person(query: PeopleQuery) -> bool:
    """Whether ``query`` filters on the person's own columns (not only their lists)."""
    return bool(
        query.text.strip()
        or query.attribute
        or query.language
        or query.added_from is not None
        or query.added_before is not None
    )


def _key(query: PeopleQuery) -> Any:
    # Filtering by list walks the subscriptions index (list, status, subscriber) in order.
    return Subscription.subscriber_id if query.list_id is not None else Subscriber.id


def _matching(session: Session, query: PeopleQuery) -> Select[*tuple[Any, ...]]:
    columns = (
        Subscriber.id,
        Subscriber.email,
        Subscriber.name,
        Subscriber.language,
        Subscriber.created_at,
    )
    statement: Select[*tuple[Any, ...]]
    if query.list_id is not None:
        statement = (
            select(*columns, Subscription.status)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == query.list_id)
        )
        if query.status is not None:
            statement = statement.where(Subscription.status == query.status)
    elif query.status is not None:
        on_any_list = exists().where(
            Subscription.subscriber_id == Subscriber.id, Subscription.status == query.status
        )
        statement = select(*columns, literal(query.status.value).label("status")).where(on_any_list)
    else:
        statement = select(*columns, null().label("status"))
    postgresql = session.get_bind().dialect.name == "postgresql"
    text = query.text.strip().lower()
    if text and query.text_anywhere:
        pattern = like_containing(text)
        statement = statement.where(
            or_(
                Subscriber.email.like(pattern, escape=LIKE_ESCAPE),
                func.lower(Subscriber.name).like(pattern, escape=LIKE_ESCAPE),
            )
        )
    elif text:
        statement = statement.where(_text_matches(text, postgresql=postgresql))
    if query.attribute:
        value = Subscriber.attributes[query.attribute].as_string()
        statement = statement.where(value == query.attribute_value)
    if query.language:  # "es" is also every regional Spanish ("es-PE")
        statement = statement.where(
            or_(
                Subscriber.language == query.language,
                Subscriber.language.like(_escaped(query.language) + "-%", escape=LIKE_ESCAPE),
            )
        )
    if query.added_from is not None:
        statement = statement.where(Subscriber.created_at >= query.added_from)
    if query.added_before is not None:
        statement = statement.where(Subscriber.created_at < query.added_before)
    return statement


def _text_matches(text: str, *, postgresql: bool) -> ColumnElement[bool]:
    """The address starts with ``text``; or, when ``text`` could be a word (it has no
    ``@`` nor ``.``, which only addresses have), a word of the name does."""
    address = _address_prefix(text, postgresql=postgresql)
    if "@" in text or "." in text:
        return address
    name = func.lower(Subscriber.name)
    return or_(
        address,
        name.like(_escaped(text) + "%", escape=LIKE_ESCAPE),
        name.like("% " + _escaped(text) + "%", escape=LIKE_ESCAPE),
    )


def _address_prefix(text: str, *, postgresql: bool) -> ColumnElement[bool]:
    if postgresql:  # the text_pattern_ops index serves LIKE 'prefix%' in any collation
        return Subscriber.email.like(_escaped(text) + "%", escape=LIKE_ESCAPE)
    # SQLite compares text byte by byte (UTF-8 keeps code point order): every address
    # starting with ``text`` lies in [text, text with its last character's successor).
    following = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
    return and_(Subscriber.email >= text, Subscriber.email < following)


def _escaped(text: str) -> str:
    quoted = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    return quoted.replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
