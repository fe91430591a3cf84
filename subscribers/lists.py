"""Create and look up mailing lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.addresses import check_text
from subscribers.errors import InvalidField, ListExists, ListNotFound
from subscribers.languages import best_language, check_language
from subscribers.models import LIST_NAME_MAX, MailingList, OptIn, Subscription, SubscriptionStatus
from subscribers.timezones import check_time_zone

# Public, so the API's OpenAPI document states the very same rule.
LIST_NAME_PATTERN = rf"[a-z0-9][a-z0-9-]{{0,{LIST_NAME_MAX - 1}}}"
_SLUG = re.compile(LIST_NAME_PATTERN)


@dataclass(frozen=True, kw_only=True)
class ListSummary:
    name: str
    title: str
    description: str
    opt_in: str
    public: bool
    confirmed: int
    unconfirmed: int
    unsubscribed: int
    timezone: str | None = None  # its subscribers' zone when they gave none


def create_list(
    session: Session,
    *,
    name: str,
    title: str | None = None,
    description: str = "",
    opt_in: OptIn = OptIn.DOUBLE,
    public: bool = False,
    language: str | None = None,
    time_zone: str | None = None,
) -> MailingList:
    """``language``: what its subscribers read when they gave no language of their own;
    ``time_zone``: where they live when they gave no zone (an IANA name)."""
    if not _SLUG.fullmatch(name):
        raise InvalidField(
            f"list name {name!r} must be a slug: lower-case letters, digits and hyphens, "
            f"starting with a letter or digit, at most {LIST_NAME_MAX} characters"
        )
    if session.scalar(select(MailingList.id).where(MailingList.name == name)) is not None:
        raise ListExists(name)
    mailing_list = MailingList(
        name=name,
        title=check_text(title or name.replace("-", " ").capitalize(), field="title", limit=200),
        description=description.strip(),
        opt_in=opt_in,
        is_public=public,
        language=check_language(language or ""),
        time_zone=check_time_zone(time_zone or ""),
    )
    session.add(mailing_list)
    session.flush()
    return mailing_list


@dataclass(frozen=True, kw_only=True)
class ListWords:
    title: str
    description: str


def list_words(mailing_list: MailingList, *, language: str | None) -> ListWords:
    """The list's title and description as said in ``language`` (``fr-CA`` reads the
    French ones), each falling back to the list's own where it has no translation."""
    translations = mailing_list.translations or {}
    said = translations.get(best_language([language], available=translations) or "", {})
    return ListWords(
        title=said.get("title") or mailing_list.title,
        description=said.get("description") or mailing_list.description,
    )


def update_list(
    session: Session,
    *,
    name: str,
    title: str | None = None,
    description: str | None = None,
    opt_in: OptIn | None = None,
    public: bool | None = None,
    in_language: str | None = None,
    time_zone: str | None = None,
) -> MailingList:
    """Change what staff may change of a list (its name is in links and scripts: never).
    ``in_language``: the title and description given are that language's translation.
    ``time_zone``: an IANA name, or "" for none (its subscribers then read the unit's)."""
    mailing_list = get_list(session, name=name)
    if time_zone is not None:
        mailing_list.time_zone = check_time_zone(time_zone)
    language = check_language(in_language or "")
    if language is not None:
        words = dict(mailing_list.translations.get(language, {}))
        if title is not None:
            words["title"] = check_text(title, field="title", limit=200)
        if description is not None:
            words["description"] = description.strip()
        mailing_list.translations = {**mailing_list.translations, language: words}
        title = description = None
    if title is not None:
        mailing_list.title = check_text(title, field="title", limit=200)
    if description is not None:
        mailing_list.description = description.strip()
    if opt_in is not None:
        mailing_list.opt_in = opt_in
    if public is not None:
        mailing_list.is_public = public
    session.flush()
    return mailing_list


def get_list(session: Session, *, name: str) -> MailingList:
    mailing_list = session.scalar(select(MailingList).where(MailingList.name == name))
    if mailing_list is None:
        raise ListNotFound(name)
    return mailing_list


def summarise_lists(session: Session) -> list[ListSummary]:
    counts: dict[tuple[int, SubscriptionStatus], int] = {
        (list_id, status): count
        for list_id, status, count in session.execute(
            select(Subscription.list_id, Subscription.status, func.count()).group_by(
                Subscription.list_id, Subscription.status
            )
        )
    }
    return [
        ListSummary(
            name=ml.name,
            title=ml.title,
            description=ml.description,
            opt_in=ml.opt_in.value,
            public=ml.is_public,
            confirmed=counts.get((ml.id, SubscriptionStatus.CONFIRMED), 0),
            unconfirmed=counts.get((ml.id, SubscriptionStatus.UNCONFIRMED), 0),
            unsubscribed=counts.get((ml.id, SubscriptionStatus.UNSUBSCRIBED), 0),
            timezone=ml.time_zone,
        )
        for ml in session.scalars(select(MailingList).order_by(MailingList.name))
    ]
