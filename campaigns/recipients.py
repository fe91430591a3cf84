"""Who a campaign goes to: one query, for the send itself and for what is said of it before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, func, select

from subscribers.models import Subscriber, Subscription, SubscriptionStatus, Suppression


def recipients(list_ids: Sequence[int], *columns: Any) -> Select[Any]:
    """The confirmed subscribers of the lists, minus suppressed addresses, one row per
    person across lists: (subscriber_id, list_id, *columns), the list being the first of
    theirs by id. ``columns``: constants carried along (the outbox inserts from this)."""
    suppressed = exists().where(Suppression.email == Subscriber.email)
    return (
        select(
            Subscription.subscriber_id,
            func.min(Subscription.list_id).label("list_id"),
            *columns,
        )
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscription.list_id.in_(list_ids))
        .where(Subscription.status == SubscriptionStatus.CONFIRMED)
        .where(~suppressed)
        .group_by(Subscription.subscriber_id)
    )
