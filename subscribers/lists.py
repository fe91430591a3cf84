"""Create and look up mailing lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.addresses import check_text
from subscribers.errors import InvalidField, ListExists, ListNotFound
from subscribers.models import LIST_NAME_MAX, MailingList, OptIn, Subscription, SubscriptionStatus

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


def create_list(
    session: Session,
    *,
    name: str,
    title: str | None = None,
    description: str = "",
    opt_in: OptIn = OptIn.DOUBLE,
    public: bool = False,
) -> MailingList:
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
    )
    session.add(mailing_list)
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
        )
        for ml in session.scalars(select(MailingList).order_by(MailingList.name))
    ]
