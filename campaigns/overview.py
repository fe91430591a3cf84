"""What the staff admin reads about campaigns: the dashboard's figures and warnings, a
person's deliveries and bounces, one bounce event. Reads only, each in a few queries
whatever the number of campaigns or recipients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from campaigns.bounces import event_data
from campaigns.digest import items_without_link
from campaigns.models import (
    BounceEvent,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryState,
    Digest,
    DigestIssue,
)
from mailer.bounces import BounceKind
from subscribers.base import utc_day
from subscribers.models import MailingList

# A campaign whose hard bounces and complaints reach this share of its sent messages, and
# at least STORM_MINIMUM of them, needs someone to look at its list.
STORM_SHARE = 0.05
STORM_MINIMUM = 10


def delivery_counts_by_campaign(
    session: Session, *, campaign_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Each campaign's outbox rows by state (every state present, zero or not)."""
    counts: dict[int, dict[str, int]] = {
        campaign_id: {state.value: 0 for state in DeliveryState} for campaign_id in campaign_ids
    }
    if not campaign_ids:
        return counts
    rows = session.execute(
        select(Delivery.campaign_id, Delivery.state, func.count())
        .where(Delivery.campaign_id.in_(list(campaign_ids)))
        .group_by(Delivery.campaign_id, Delivery.state)
    )
    for campaign_id, state, count in rows:
        counts[campaign_id][DeliveryState(state).value] = int(count)
    return counts


def scheduled(session: Session, *, limit: int = 10) -> list[Campaign]:
    """The campaigns waiting for their time, soonest first."""
    return list(
        session.scalars(
            select(Campaign)
            .options(selectinload(Campaign.lists))
            .where(Campaign.status == CampaignStatus.SCHEDULED)
            .order_by(Campaign.scheduled_at, Campaign.id)
            .limit(limit)
        )
    )


def paused(session: Session) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.status == CampaignStatus.PAUSED)
            .order_by(Campaign.id.desc())
        )
    )


@dataclass(frozen=True, kw_only=True)
class BounceStorm:
    campaign_id: int
    subject: str
    sent: int
    hard: int
    complaints: int


def bounce_storms(session: Session, *, since: datetime) -> list[BounceStorm]:
    """Campaigns whose hard bounces and complaints received since ``since`` are many for
    what they sent: an old or bought list, or a relay in trouble."""
    bad = session.execute(
        select(BounceEvent.campaign_id, BounceEvent.kind, func.count())
        .where(
            BounceEvent.received_at >= since,
            BounceEvent.campaign_id.is_not(None),
            BounceEvent.kind.in_([BounceKind.HARD, BounceKind.COMPLAINT]),
        )
        .group_by(BounceEvent.campaign_id, BounceEvent.kind)
    )
    per_campaign: dict[int, dict[BounceKind, int]] = defaultdict(dict)
    for campaign_id, kind, count in bad:
        if campaign_id is not None:
            per_campaign[campaign_id][BounceKind(kind)] = int(count)
    if not per_campaign:
        return []
    counts = delivery_counts_by_campaign(session, campaign_ids=list(per_campaign))
    subjects = dict(
        session.execute(select(Campaign.id, Campaign.subject).where(Campaign.id.in_(per_campaign)))
        .tuples()
        .all()
    )
    storms = []
    for campaign_id, kinds in sorted(per_campaign.items()):
        hard, complaints = kinds.get(BounceKind.HARD, 0), kinds.get(BounceKind.COMPLAINT, 0)
        sent = counts[campaign_id][DeliveryState.SENT.value]
        if hard + complaints >= max(STORM_MINIMUM, STORM_SHARE * sent):
            storms.append(
                BounceStorm(
                    campaign_id=campaign_id,
                    subject=subjects.get(campaign_id, ""),
                    sent=sent,
                    hard=hard,
                    complaints=complaints,
                )
            )
    return storms


@dataclass(frozen=True, kw_only=True)
class AwaitingApproval:
    campaign_id: int
    subject: str
    month: str
    list_title: str
    # The titles of its items without a link: no "read more" under them, to fix first.
    without_link: tuple[str, ...] = ()


def digests_awaiting_approval(session: Session) -> list[AwaitingApproval]:
    """Digest issues built as drafts (the digest does not send itself) that nobody has
    sent or cancelled yet."""
    rows = session.execute(
        select(Campaign.id, Campaign.subject, Campaign.meta, DigestIssue.month, MailingList.title)
        .join(DigestIssue, DigestIssue.campaign_id == Campaign.id)
        .join(Digest, Digest.id == DigestIssue.digest_id)
        .join(MailingList, MailingList.id == Digest.list_id)
        .where(Campaign.status == CampaignStatus.DRAFT)
        .order_by(DigestIssue.month.desc())
    )
    return [
        AwaitingApproval(
            campaign_id=cid,
            subject=subject,
            month=month,
            list_title=title,
            without_link=tuple(items_without_link(meta or {})),
        )
        for cid, subject, meta, month, title in rows
    ]


def daily_bounces(
    session: Session, *, since: datetime, until: datetime
) -> dict[date, dict[BounceKind, int]]:
    """Per UTC day in [since, until), the bounce mailbox's events by kind."""
    day = utc_day(BounceEvent.received_at)
    rows = session.execute(
        select(day, BounceEvent.kind, func.count())
        .where(BounceEvent.received_at >= since, BounceEvent.received_at < until)
        .group_by(day, BounceEvent.kind)
    )
    counts: dict[date, dict[BounceKind, int]] = defaultdict(dict)
    for when, kind, count in rows:
        counts[when][BounceKind(kind)] = int(count)
    return dict(counts)


@dataclass(frozen=True, kw_only=True)
class PersonDelivery:
    campaign_id: int
    subject: str
    state: str
    attempts: int
    sent_at: datetime | None
    last_reply: str


def subscriber_deliveries(
    session: Session, *, subscriber_id: int, limit: int = 50
) -> list[PersonDelivery]:
    """The messages sent (or meant) for one person, newest first."""
    rows = session.execute(
        select(Delivery, Campaign.subject)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return [
        PersonDelivery(
            campaign_id=delivery.campaign_id,
            subject=subject,
            state=delivery.state.value,
            attempts=delivery.attempts,
            sent_at=delivery.sent_at,
            last_reply=delivery.last_reply,
        )
        for delivery, subject in rows
    ]


def bounce_event(session: Session, *, event_id: int) -> dict[str, Any] | None:
    """One event as plain data, with the campaign's subject; None if there is none."""
    event = session.get(BounceEvent, event_id)
    if event is None:
        return None
    subject = (
        session.scalar(select(Campaign.subject).where(Campaign.id == event.campaign_id))
        if event.campaign_id is not None
        else None
    )
    return {**event_data(event), "subject": subject}


def find_bounces(
    session: Session,
    *,
    text: str | None = None,
    kind: BounceKind | None = None,
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """The newest events first, ``limit`` at a time (keyset on the id: ``before`` is the
    previous page's answer); ``text`` is the start of an address or its domain."""
    query = select(BounceEvent).order_by(BounceEvent.id.desc()).limit(limit + 1)
    if text:
        escaped = text.strip().lower().replace("\\", "\\\\").replace("%", r"\%")
        escaped = escaped.replace("_", r"\_")
        query = query.where(
            or_(
                BounceEvent.email.like(escaped + "%", escape="\\"),
                BounceEvent.email.like("%@" + escaped.lstrip("@") + "%", escape="\\"),
            )
        )
    if kind is not None:
        query = query.where(BounceEvent.kind == kind)
    if before is not None:
        query = query.where(BounceEvent.id < before)
    events = list(session.scalars(query))
    page = events[:limit]
    following = page[-1].id if len(events) > limit else None
    return [event_data(event) for event in page], following
