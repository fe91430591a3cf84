"""Add, change, unsubscribe, show and erase one person."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from subscribers.addresses import check_name, check_text, normalise_address
from subscribers.base import utcnow
from subscribers.errors import AddressSuppressed, SubscriberNotFound
from subscribers.languages import check_language
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


def update_subscriber(
    session: Session,
    *,
    subscriber: Subscriber,
    name: str | None = None,
    language: str | None = None,
    attributes: Mapping[str, str | None] | None = None,
) -> Subscriber:
    """Change a person's name, language (``""`` clears it) or attributes (a value of None
    removes that attribute; the others are kept)."""
    if name is not None:
        subscriber.name = check_name(name)
    if language is not None:
        subscriber.language = check_language(language)
    if attributes:
        kept = {k: v for k, v in subscriber.attributes.items() if k not in attributes}
        given = {k: v for k, v in attributes.items() if v is not None}
        subscriber.attributes = {**kept, **clean_attributes(given)}
    session.flush()
    return subscriber


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


@dataclass(frozen=True, kw_only=True)
class Erasure:
    """Whom an erasure is about, for the hooks of other packages: the address, and the
    person's id and name while they were still known (None and "" if they were not)."""

    email: str
    subscriber_id: int | None
    name: str

    def scrub(self, text: str) -> str:
        """``text`` without the address or the name (relay replies quote them)."""
        return scrub_personal(text, email=self.email, name=self.name)


ErasureHook = Callable[[Session, Erasure], None]
_erasure_hooks: list[ErasureHook] = []
ERASED = "[erased]"
_NAME_MIN = 3  # a shorter "name" (initials) would blank out ordinary words


def scrub_personal(text: str, *, email: str, name: str) -> str:
    """``text`` with every spelling of ``email`` (any case) and ``name`` replaced."""
    if not text:
        return text
    patterns = [re.escape(email)]
    if len(name.strip()) >= _NAME_MIN:
        patterns.append(re.escape(name.strip()))
    return re.sub("|".join(patterns), ERASED, text, flags=re.IGNORECASE)


def on_erase(hook: ErasureHook) -> ErasureHook:
    """Register what another package must forget on erasure (it gets the Erasure);
    this package cannot know what campaigns keep, and must not import them."""
    _erasure_hooks.append(hook)
    return hook


def erase_subscriber(session: Session, *, email: str) -> bool:
    """Delete everything held on a person, keeping only a hashed suppression.

    Every column that could hold the address or the name goes or is scrubbed: the person,
    their subscriptions and consent records, what other packages registered with
    ``on_erase`` (relay replies, bounce reports), and the suppression's note. Returns
    whether any personal data was held. Either way the address is never mailed again,
    which is what a person asking for erasure expects.
    """
    email = normalise_address(email)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    erasure = Erasure(
        email=email,
        subscriber_id=subscriber.id if subscriber is not None else None,
        name=subscriber.name if subscriber is not None else "",
    )
    for hook in _erasure_hooks:
        hook(session, erasure)
    if subscriber is not None:
        delete_subscriber(session, subscriber=subscriber)
    suppress(
        session,
        email=email,
        reason=SuppressionReason.ERASED,
        note=ERASURE_NOTE,
        keep_address=False,
    )
    return subscriber is not None


ERASURE_NOTE = "personal data erased on request"


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
