"""Add, change, unsubscribe, show and erase one person."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, null, or_, select
from sqlalchemy.orm import Session, selectinload

from subscribers.addresses import check_language, check_name, check_text, normalise_address
from subscribers.base import utcnow
from subscribers.errors import AddressSuppressed, SubscriberNotFound
from subscribers.models import (
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    MailingList,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from subscribers.suppressions import find_suppression, suppress

ATTRIBUTE_VALUE_MAX = 1000


@dataclass(frozen=True, kw_only=True)
class Subscribed:
    subscriber: Subscriber
    subscription: Subscription
    created: bool
    status_changed: bool


def find_subscriber(session: Session, *, email: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email == normalise_address(email)))


def get_subscriber(session: Session, *, email: str) -> Subscriber:
    subscriber = find_subscriber(session, email=email)
    if subscriber is None:
        raise SubscriberNotFound(email)
    return subscriber


def clean_attributes(attributes: dict[str, str]) -> dict[str, str]:
    return {
        check_text(key, field="attribute name", limit=100): check_text(
            value, field=f"attribute {key!r}", limit=ATTRIBUTE_VALUE_MAX
        )
        for key, value in attributes.items()
    }


def subscribe(
    session: Session,
    *,
    email: str,
    mailing_list: MailingList,
    source: ConsentSource,
    wording: str,
    status: SubscriptionStatus,
    name: str | None = None,
    language: str | None = None,
    attributes: dict[str, str] | None = None,
    ip_address: str | None = None,
) -> Subscribed:
    """Create or update a person and put them on a list, recording their consent.

    A suppressed address is refused outright; an unsubscribed subscription is only revived
    by a fresh, explicit consent (a form or staff acting on the person's request).
    """
    email = normalise_address(email)
    suppression = find_suppression(session, email=email)
    if suppression is not None:
        raise AddressSuppressed(email, suppression.reason.value)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    created = subscriber is None
    if subscriber is None:
        subscriber = Subscriber(email=email, name="", attributes={})
        session.add(subscriber)
    if name is not None:
        subscriber.name = check_name(name)
    if language is not None:
        subscriber.language = check_language(language)
    if attributes:
        subscriber.attributes = {**subscriber.attributes, **clean_attributes(attributes)}
    session.flush()

    subscription = session.scalar(
        select(Subscription).where(
            Subscription.subscriber_id == subscriber.id,
            Subscription.list_id == mailing_list.id,
        )
    )
    now = utcnow()
    previous = subscription.status if subscription is not None else None
    if subscription is None:
        subscription = Subscription(
            subscriber_id=subscriber.id, list_id=mailing_list.id, status=status, created_at=now
        )
        session.add(subscription)
    elif subscription.status is not SubscriptionStatus.CONFIRMED:
        subscription.status = status
        subscription.unsubscribed_at = None
    if subscription.status is SubscriptionStatus.CONFIRMED and subscription.confirmed_at is None:
        subscription.confirmed_at = now
    changed = previous is not subscription.status
    if changed:
        action = (
            ConsentAction.CONFIRM
            if status is SubscriptionStatus.CONFIRMED and previous is SubscriptionStatus.UNCONFIRMED
            else ConsentAction.SUBSCRIBE
        )
        session.add(
            ConsentRecord(
                subscriber_id=subscriber.id,
                list_id=mailing_list.id,
                action=action,
                source=source,
                wording=wording,
                ip_address=ip_address,
                created_at=now,
            )
        )
    session.flush()
    return Subscribed(
        subscriber=subscriber, subscription=subscription, created=created, status_changed=changed
    )


def unsubscribe(
    session: Session,
    *,
    subscriber: Subscriber,
    lists: list[MailingList] | None,
    source: ConsentSource,
    wording: str,
    ip_address: str | None = None,
) -> list[str]:
    """Unsubscribe from the given lists, or from every list when ``lists`` is None.

    Returns the names of the lists whose subscription changed; repeating is harmless.
    """
    query = (
        select(Subscription)
        .where(Subscription.subscriber_id == subscriber.id)
        .where(Subscription.status != SubscriptionStatus.UNSUBSCRIBED)
        .options(selectinload(Subscription.mailing_list))
    )
    if lists is not None:
        query = query.where(Subscription.list_id.in_([ml.id for ml in lists]))
    now = utcnow()
    changed = []
    for subscription in session.scalars(query):
        subscription.status = SubscriptionStatus.UNSUBSCRIBED
        subscription.unsubscribed_at = now
        session.add(
            ConsentRecord(
                subscriber_id=subscriber.id,
                list_id=subscription.list_id,
                action=ConsentAction.UNSUBSCRIBE,
                source=source,
                wording=wording,
                ip_address=ip_address,
                created_at=now,
            )
        )
        changed.append(subscription.mailing_list.name)
    session.flush()
    return sorted(changed)


def delete_subscriber(session: Session, *, subscriber: Subscriber) -> None:
    """Forget a person without suppressing the address (they may be added again later)."""
    session.execute(delete(Subscriber).where(Subscriber.id == subscriber.id))
    session.expunge(subscriber)


ErasureHook = Callable[[Session, str], None]
_erasure_hooks: list[ErasureHook] = []


def on_erase(hook: ErasureHook) -> ErasureHook:
    """Register what another package must forget on erasure (it gets the address);
    this package cannot know what campaigns keep, and must not import them."""
    _erasure_hooks.append(hook)
    return hook


def erase_subscriber(session: Session, *, email: str) -> bool:
    """Delete everything held on a person, keeping only a hashed suppression.

    Returns whether any personal data was held. Either way the address is never mailed
    again, which is what a person asking for erasure expects.
    """
    email = normalise_address(email)
    for hook in _erasure_hooks:
        hook(session, email)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is not None:
        delete_subscriber(session, subscriber=subscriber)
    suppress(
        session,
        email=email,
        reason=SuppressionReason.ERASED,
        note="personal data erased on request",
        keep_address=False,
    )
    return subscriber is not None


def personal_data(session: Session, *, email: str) -> dict[str, Any]:
    """Everything held on one person, for a GDPR access request."""
    subscriber = get_subscriber(session, email=email)
    suppression = find_suppression(session, email=subscriber.email)
    lists = {ml.id: ml.name for ml in session.scalars(select(MailingList))}
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "language": subscriber.language,
        "attributes": subscriber.attributes,
        "created_at": _iso(subscriber.created_at),
        "updated_at": _iso(subscriber.updated_at),
        "subscriptions": [
            {
                "list": lists[s.list_id],
                "status": s.status.value,
                "created_at": _iso(s.created_at),
                "confirmed_at": _iso(s.confirmed_at),
                "unsubscribed_at": _iso(s.unsubscribed_at),
            }
            for s in sorted(subscriber.subscriptions, key=lambda s: lists[s.list_id])
        ],
        "consent_records": [
            {
                "at": _iso(record.created_at),
                "action": record.action.value,
                "source": record.source.value,
                "list": lists.get(record.list_id) if record.list_id is not None else None,
                "wording": record.wording,
                "ip_address": record.ip_address,
            }
            for record in sorted(subscriber.consent_records, key=lambda r: r.id)
        ],
        "suppression": _suppression_data(suppression),
    }


def _suppression_data(suppression: Suppression | None) -> dict[str, Any] | None:
    if suppression is None:
        return None
    return {
        "reason": suppression.reason.value,
        "note": suppression.note,
        "at": _iso(suppression.created_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True, kw_only=True)
class SubscriberRow:
    id: int
    email: str
    name: str
    language: str | None
    status: str | None
    created_at: datetime


def search_subscribers(
    session: Session,
    *,
    mailing_list: MailingList | None = None,
    status: SubscriptionStatus | None = None,
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[SubscriberRow]]:
    """A page of subscribers (total count first), newest first."""
    columns = [
        Subscriber.id,
        Subscriber.email,
        Subscriber.name,
        Subscriber.language,
        Subscriber.created_at,
    ]
    if mailing_list is not None:
        query = (
            select(*columns, Subscription.status)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == mailing_list.id)
        )
        if status is not None:
            query = query.where(Subscription.status == status)
    else:
        query = select(*columns, null().label("status"))
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(
            or_(Subscriber.email.like(pattern), func.lower(Subscriber.name).like(pattern))
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows: list[Any] = list(
        session.execute(
            query.order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return total, [
        SubscriberRow(
            id=subscriber_id,
            email=email,
            name=name,
            language=language,
            status=row_status.value if row_status is not None else None,
            created_at=created_at,
        )
        for subscriber_id, email, name, language, created_at, row_status in rows
    ]
