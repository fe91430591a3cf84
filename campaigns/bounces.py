"""What the bounce mailbox tells us, recorded: bounce events, suppressions, unsubscribes.

A message acts on a person only when it is *verified*: its VERP address or unsubscribe
token carries our signature, or it returns the unguessable Message-ID of a delivery. Anyone
can write a DSN naming someone else's address; nobody can forge those. Unverified reports
are still recorded, for the record, but suppress no one.

Each message is recorded once, keyed by its Message-ID and body hash, so reading the same
mailbox again changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.envelope import EnvelopeSender
from campaigns.links import UNSUBSCRIBE
from campaigns.models import BounceEvent, Campaign, Delivery
from mailer.bounces import DIAGNOSTIC_MAX, BounceKind, BounceReport
from subscribers.addresses import normalise_address
from subscribers.base import (
    LIKE_ESCAPE,
    like_containing,
)
from subscribers.errors import InvalidAddress
from subscribers.models import (
    ConsentSource,
    MailingList,
    Subscriber,
    SuppressionReason,
)
from subscribers.people import Erasure, find_subscriber, on_erase, unsubscribe
from subscribers.suppressions import find_suppression, suppress
from subscribers.tokens import InvalidToken, read_token

UNSUBSCRIBE_WORDING = "Asked to unsubscribe by mail (the List-Unsubscribe address)"
COMPLAINT_WORDING = "Reported a message as spam (a complaint through a feedback loop)"


@dataclass(frozen=True, kw_only=True)
class BouncePolicy:
    """When bounces suppress an address (COOPMAIL_BOUNCE_* settings)."""

    hard_limit: int = 1
    soft_limit: int = 5
    soft_days: int = 30


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """What recording one report did."""

    kind: BounceKind | None
    duplicate: bool = False
    ignored: bool = False  # an unsubscribe whose token is not ours, or names nobody
    verified: bool = False
    suppressed: bool = False
    email: str | None = None


_COUNTERS = {
    BounceKind.HARD: "hard",
    BounceKind.SOFT: "soft",
    BounceKind.COMPLAINT: "complaints",
    BounceKind.UNSUBSCRIBE: "unsubscribes",
}


@dataclass
class Summary:
    """Counts over a run of `coopmail bounces process`, for people and for --json."""

    messages: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    unrecognised: int = 0
    ignored: int = 0
    unverified: int = 0
    suppressed: int = 0
    duplicates: int = 0
    truncated: int = 0

    def add(self, recorded: Recorded, *, truncated: bool = False) -> None:
        self.messages += 1
        self.truncated += truncated
        if recorded.duplicate:
            self.duplicates += 1
        elif recorded.kind is None:
            self.unrecognised += 1
        elif recorded.ignored:
            self.ignored += 1
        else:
            name = _COUNTERS[recorded.kind]
            setattr(self, name, getattr(self, name) + 1)
            self.unverified += not recorded.verified
            self.suppressed += recorded.suppressed

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class _Subject:
    """Whom a verified report is about."""

    subscriber: Subscriber | None
    delivery: Delivery | None
    campaign_id: int | None


def record_report(
    session: Session,
    *,
    report: BounceReport,
    envelope: EnvelopeSender,
    policy: BouncePolicy,
    now: datetime,
) -> Recorded:
    """Store what one message says and apply the policy; the same message twice is a no-op."""
    if report.kind is None:
        return Recorded(kind=None)
    if _seen(session, report.message_key):
        return Recorded(kind=report.kind, duplicate=True)
    if report.kind is BounceKind.UNSUBSCRIBE:
        return _unsubscribe_request(session, report=report, key=envelope.key, now=now)
    subject = _verified_subject(session, report=report, envelope=envelope)
    worst = report.worst
    status = worst.status if worst is not None else None
    diagnostic = worst.diagnostic if worst is not None else ""
    if subject is not None:
        # Ours, never what the report claims: nobody, if the person was erased since.
        subscriber: Subscriber | None = subject.subscriber
        email: str | None = subscriber.email if subscriber is not None else None
    else:
        email = _address(worst.recipient if worst is not None else None)
        subscriber = find_subscriber(session, email=email) if email else None
    event = BounceEvent(
        message_key=report.message_key,
        kind=report.kind,
        email=email,
        subscriber_id=subscriber.id if subscriber is not None else None,
        delivery_id=subject.delivery.id if subject and subject.delivery else None,
        campaign_id=subject.campaign_id if subject else None,
        status=status,
        diagnostic=diagnostic[:DIAGNOSTIC_MAX],
        verified=subject is not None,
        received_at=now,
    )
    if not _insert(session, event):
        return Recorded(kind=report.kind, duplicate=True)
    if subject is None or subscriber is None:
        return Recorded(kind=report.kind, verified=subject is not None, email=email)
    event.suppressed = _apply_policy(
        session, event=event, subscriber=subscriber, policy=policy, now=now
    )
    session.flush()
    return Recorded(kind=report.kind, verified=True, suppressed=event.suppressed, email=email)


def _apply_policy(
    session: Session,
    *,
    event: BounceEvent,
    subscriber: Subscriber,
    policy: BouncePolicy,
    now: datetime,
) -> bool:
    """Suppress (and for a complaint, unsubscribe) as the policy says; True if newly."""
    campaign = f" (campaign {event.campaign_id})" if event.campaign_id else ""
    if event.kind is BounceKind.COMPLAINT:
        unsubscribe(
            session,
            subscriber=subscriber,
            lists=None,
            source=ConsentSource.EMAIL,
            wording=COMPLAINT_WORDING,
        )
        return _suppress(
            session,
            email=subscriber.email,
            reason=SuppressionReason.COMPLAINED,
            note=f"marked a message as spam{campaign}",
        )
    since = now - timedelta(days=policy.soft_days) if event.kind is BounceKind.SOFT else None
    count = _verified_count(session, event=event, since=since)
    limit = policy.hard_limit if event.kind is BounceKind.HARD else policy.soft_limit
    if count < limit:
        return False
    if event.kind is BounceKind.HARD:
        note = f"hard bounce {event.status or ''}{campaign}: {event.diagnostic[:200]}"
    else:
        note = f"{count} soft bounces within {policy.soft_days} days, last {event.status or ''}"
    return _suppress(session, email=subscriber.email, reason=SuppressionReason.BOUNCED, note=note)


def _suppress(session: Session, *, email: str, reason: SuppressionReason, note: str) -> bool:
    """True if newly suppressed. Another run suppressing the address at the same moment (a
    pipe alias and an IMAP poll, on PostgreSQL) may win the insert: then it was not new."""
    try:
        new = find_suppression(session, email=email) is None
        with session.begin_nested():
            suppress(session, email=email, reason=reason, note=note)
    except InvalidAddress:  # stored before today's validation rules: nothing to key it by
        return False
    except IntegrityError:
        return False
    return new


def _verified_count(session: Session, *, event: BounceEvent, since: datetime | None) -> int:
    """Messages that bounced, not reports: a delay warning and the final failure of one
    delivery count once. Per address, which is what gets suppressed, across campaigns."""
    query = select(
        func.count(func.distinct(BounceEvent.delivery_id))
        + func.count()
        - func.count(BounceEvent.delivery_id)
    ).where(
        BounceEvent.kind == event.kind,
        BounceEvent.verified.is_(True),
        BounceEvent.email == event.email,
    )
    if since is not None:
        query = query.where(BounceEvent.received_at >= since)
    return session.scalar(query) or 0


def _unsubscribe_request(
    session: Session, *, report: BounceReport, key: bytes, now: datetime
) -> Recorded:
    """A mail to the List-Unsubscribe mailto: the token in its Subject says who and where."""
    found = _token_values(report.token, key=key)
    if found is None:
        return Recorded(kind=BounceKind.UNSUBSCRIBE, ignored=True)
    subscriber_id, list_id, campaign_id = found
    subscriber = session.get(Subscriber, subscriber_id)
    mailing_list = session.get(MailingList, list_id)
    if subscriber is None or mailing_list is None:
        return Recorded(kind=BounceKind.UNSUBSCRIBE, ignored=True)
    campaign_known = session.get(Campaign, campaign_id) is not None
    delivery = _delivery_of(session, campaign_id=campaign_id, subscriber_id=subscriber_id)
    event = BounceEvent(
        message_key=report.message_key,
        kind=BounceKind.UNSUBSCRIBE,
        email=subscriber.email,
        subscriber_id=subscriber.id,
        delivery_id=delivery.id if delivery is not None else None,
        campaign_id=campaign_id if campaign_known else None,
        diagnostic=f"unsubscribed from {mailing_list.name}",
        verified=True,
        received_at=now,
    )
    if not _insert(session, event):
        return Recorded(kind=BounceKind.UNSUBSCRIBE, duplicate=True)
    unsubscribe(
        session,
        subscriber=subscriber,
        lists=[mailing_list],
        source=ConsentSource.EMAIL,
        wording=UNSUBSCRIBE_WORDING,
    )
    return Recorded(kind=BounceKind.UNSUBSCRIBE, verified=True, email=subscriber.email)


def _verified_subject(
    session: Session, *, report: BounceReport, envelope: EnvelopeSender
) -> _Subject | None:
    """The delivery (or at least the person) a report is about, if it proves it."""
    for address in report.envelope_addresses:
        delivery_id = envelope.delivery_of(address)
        delivery = session.get(Delivery, delivery_id) if delivery_id is not None else None
        if delivery is not None:
            return _subject_of(session, delivery)
    if report.original_message_id:
        delivery = session.scalar(
            select(Delivery).where(Delivery.message_id == report.original_message_id).limit(1)
        )
        if delivery is not None:
            return _subject_of(session, delivery)
    found = _token_values(report.token, key=envelope.key)
    if found is not None:
        subscriber_id, _list_id, campaign_id = found
        delivery = _delivery_of(session, campaign_id=campaign_id, subscriber_id=subscriber_id)
        if delivery is not None:
            return _subject_of(session, delivery)
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is not None:
            known = session.get(Campaign, campaign_id) is not None
            return _Subject(
                subscriber=subscriber, delivery=None, campaign_id=campaign_id if known else None
            )
    return None


def _subject_of(session: Session, delivery: Delivery) -> _Subject:
    subscriber = (
        session.get(Subscriber, delivery.subscriber_id)
        if delivery.subscriber_id is not None
        else None
    )
    return _Subject(subscriber=subscriber, delivery=delivery, campaign_id=delivery.campaign_id)


def _delivery_of(session: Session, *, campaign_id: int, subscriber_id: int) -> Delivery | None:
    return session.scalar(
        select(Delivery).where(
            Delivery.campaign_id == campaign_id, Delivery.subscriber_id == subscriber_id
        )
    )


def _token_values(token: str | None, *, key: bytes) -> tuple[int, int, int] | None:
    if not token:
        return None
    try:
        subscriber_id, list_id, campaign_id = read_token(
            key=key, purpose=UNSUBSCRIBE, token=token, count=3
        )
    except InvalidToken:
        return None
    return subscriber_id, list_id, campaign_id


def _seen(session: Session, message_key: str) -> bool:
    return (
        session.scalar(select(BounceEvent.id).where(BounceEvent.message_key == message_key))
        is not None
    )


def _insert(session: Session, event: BounceEvent) -> bool:
    """Add the event; False if another process recorded the same message meanwhile."""
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return False
    return True


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_address(value)
    except InvalidAddress:
        return None


@on_erase
def forget_address(session: Session, erasure: Erasure) -> None:
    """Erasure: bounces that named the address go too, linked to a subscriber or not, and
    so do unlinked reports whose diagnostic quotes it."""
    session.execute(
        delete(BounceEvent).where(
            or_(
                BounceEvent.email == erasure.email,
                func.lower(BounceEvent.diagnostic).like(
                    like_containing(erasure.email), escape=LIKE_ESCAPE
                ),
            )
        )
    )


@on_erase
def forget_replies(session: Session, erasure: Erasure) -> None:
    """Erasure: the relay's replies kept on the person's deliveries quote the address
    (``550 5.1.1 <address>: User unknown``) and sometimes the name; the statistics stay."""
    if erasure.subscriber_id is None:
        return
    rows = session.execute(
        select(Delivery.id, Delivery.last_reply).where(
            Delivery.subscriber_id == erasure.subscriber_id, Delivery.last_reply != ""
        )
    ).all()
    for delivery_id, reply in rows:
        scrubbed = erasure.scrub(reply)
        if scrubbed != reply:
            session.execute(
                update(Delivery).where(Delivery.id == delivery_id).values(last_reply=scrubbed)
            )


def list_events(
    session: Session,
    *,
    email: str | None = None,
    campaign_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest events, as plain data for tables and --json."""
    query = select(BounceEvent).order_by(BounceEvent.id.desc()).limit(limit)
    if email is not None:
        query = query.where(BounceEvent.email == normalise_address(email))
    if campaign_id is not None:
        query = query.where(BounceEvent.campaign_id == campaign_id)
    return [event_data(event) for event in session.scalars(query)]


def event_data(event: BounceEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "received_at": event.received_at.isoformat(),
        "kind": event.kind.value,
        "email": event.email,
        "campaign_id": event.campaign_id,
        "delivery_id": event.delivery_id,
        "status": event.status,
        "diagnostic": event.diagnostic,
        "verified": event.verified,
        "suppressed": event.suppressed,
    }


def subscriber_events(session: Session, *, subscriber_id: int) -> list[dict[str, Any]]:
    """Everything the bounce mailbox said about one person, oldest first (GDPR access):
    also what named their address before they subscribed, which erasure deletes too."""
    address = select(Subscriber.email).where(Subscriber.id == subscriber_id).scalar_subquery()
    query = (
        select(BounceEvent)
        .where(or_(BounceEvent.subscriber_id == subscriber_id, BounceEvent.email == address))
        .order_by(BounceEvent.id)
    )
    return [event_data(event) for event in session.scalars(query)]


def campaign_bounces(session: Session, *, campaign_id: int) -> dict[str, Any]:
    """Counts by kind and the latest event, for `campaigns status`."""
    rows = session.execute(
        select(BounceEvent.kind, func.count())
        .where(BounceEvent.campaign_id == campaign_id)
        .group_by(BounceEvent.kind)
    )
    counts = {kind.value: 0 for kind in BounceKind}
    for kind, count in rows:
        counts[BounceKind(kind).value] = count
    latest = session.scalar(
        select(BounceEvent)
        .where(BounceEvent.campaign_id == campaign_id)
        .order_by(BounceEvent.id.desc())
        .limit(1)
    )
    return {**counts, "latest": event_data(latest) if latest is not None else None}
