"""Write a list's subscribers as CSV, in a shape the importer reads back unchanged."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus

_STREAM_BATCH = 2000


def export_csv(
    session: Session,
    *,
    mailing_list: MailingList,
    output: IO[str],
    status: SubscriptionStatus | None = None,
) -> int:
    """Stream the list to ``output``; returns the number of subscribers written.

    Attribute names are gathered in a first pass so every row has the same columns.
    """
    query = (
        select(Subscriber, Subscription)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == mailing_list.id)
        .order_by(Subscriber.id)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    if status is not None:
        query = query.where(Subscription.status == status)

    attribute_names: set[str] = set()
    for attributes in session.scalars(
        select(Subscriber.attributes)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == mailing_list.id)
        .execution_options(yield_per=_STREAM_BATCH)
    ):
        attribute_names.update(attributes or {})
    extra = sorted(attribute_names)

    writer = csv.writer(output)
    writer.writerow(
        [
            "email",
            "name",
            "language",
            "status",
            "subscribed_at",
            "confirmed_at",
            "unsubscribed_at",
            *extra,
        ]
    )
    written = 0
    for subscriber, subscription in session.execute(query):
        attributes = subscriber.attributes or {}
        writer.writerow(
            [
                subscriber.email,
                subscriber.name,
                subscriber.language or "",
                subscription.status.value,
                _iso(subscription.created_at),
                _iso(subscription.confirmed_at),
                _iso(subscription.unsubscribed_at),
                *(attributes.get(name, "") for name in extra),
            ]
        )
        written += 1
        if written % _STREAM_BATCH == 0:
            session.expunge_all()  # keep memory flat on large lists
    return written


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""
