"""One action on many people at once (a bulk action of the admin): add them to a list,
unsubscribe them from every list, or erase them; person by person through the same use
cases as for one person, committed a batch at a time.

Adding to a list in bulk never brings back someone who unsubscribed from it, nor a
suppressed address: only the person can (an import follows the same rule).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.errors import AddressSuppressed
from subscribers.models import (
    ConsentSource,
    MailingList,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from subscribers.people import erase_subscriber, subscribe, unsubscribe


class BulkAction(enum.StrEnum):
    ADD = "add"
    UNSUBSCRIBE = "unsubscribe"
    ERASE = "erase"


@dataclass(kw_only=True)
class BulkSummary:
    changed: int = 0
    unchanged: int = 0  # already so: on the list, or unsubscribed from every list
    refused: int = 0  # suppressed, or unsubscribed from the list they were to be added to

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_to_people(
    session: Session,
    *,
    action: BulkAction,
    batches: Iterable[Sequence[int]],
    wording: str,
    mailing_list: MailingList | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> BulkSummary:
    """Apply ``action`` to the subscribers whose ids ``batches`` yields; one commit per
    batch, so what was done stays done if the work stops half-way. ``on_batch`` receives
    the number of people handled so far. People gone meanwhile are passed over."""
    if action is BulkAction.ADD and mailing_list is None:
        raise ValueError("adding to a list needs the list")
    summary = BulkSummary()
    handled = 0
    for ids in batches:
        people = session.scalars(select(Subscriber).where(Subscriber.id.in_(list(ids)))).all()
        for person in people:
            outcome = _apply(session, action, person, wording, mailing_list)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        session.commit()
        handled += len(ids)
        if on_batch is not None:
            on_batch(handled)
    return summary


def _apply(
    session: Session,
    action: BulkAction,
    person: Subscriber,
    wording: str,
    mailing_list: MailingList | None,
) -> str:
    if action is BulkAction.ERASE:
        erase_subscriber(session, email=person.email)
        return "changed"
    if action is BulkAction.UNSUBSCRIBE:
        changed = unsubscribe(
            session, subscriber=person, lists=None, source=ConsentSource.STAFF, wording=wording
        )
        return "changed" if changed else "unchanged"
    assert mailing_list is not None
    status = session.scalar(
        select(Subscription.status).where(
            Subscription.subscriber_id == person.id, Subscription.list_id == mailing_list.id
        )
    )
    if status is SubscriptionStatus.UNSUBSCRIBED:
        return "refused"
    if status is SubscriptionStatus.CONFIRMED:
        return "unchanged"
    try:
        subscribe(
            session,
            email=person.email,
            mailing_list=mailing_list,
            source=ConsentSource.STAFF,
            wording=wording,
            status=SubscriptionStatus.CONFIRMED,
        )
    except AddressSuppressed:
        return "refused"
    return "changed"
