"""How a send is going and how it went, read from the outbox alone.

Everything here is a query on the database, never a worker's memory, so that the progress
of a send run by workers on other machines reads the same as one run here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from campaigns.drafts import get_campaign
from campaigns.models import BounceEvent, Delivery, DeliveryState
from campaigns.outbox import delivery_counts, recent_problems
from campaigns.zones import ZoneCount, pending_zones
from mailer.bounces import BounceKind
from subscribers.base import LIKE_ESCAPE, like_containing
from subscribers.models import Subscriber, Subscription

RATE_WINDOW = timedelta(minutes=5)
# An unsubscribe this soon after a campaign reached someone is counted as the campaign's.
UNSUBSCRIBE_WINDOW = timedelta(days=30)
ERASED = "(erased)"


@dataclass(frozen=True, kw_only=True)
class ProgressSnapshot:
    campaign_id: int
    status: str
    status_reason: str
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    skipped: int
    rate_per_second: float  # messages finished a second, over the last few minutes
    seconds_left: float | None  # None when nothing moves, or nothing is left
    problems: list[dict[str, Any]]
    queued_at: datetime | None
    finished_at: datetime | None
    # A send at a local hour (campaigns.zones): that hour, the zones still waiting for it,
    # and how many recipients' own zone could not be read (they got their list's or the
    # unit's).
    local_send_time: str | None = None
    zones_pending: list[ZoneCount] = field(default_factory=list)
    zone_fallbacks: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.skipped

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.campaign_id,
            "status": self.status,
            "status_reason": self.status_reason or None,
            "total": self.total,
            "queued": self.queued,
            "sending": self.sending,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "done": self.done,
            "rate_per_second": round(self.rate_per_second, 2),
            "seconds_left": round(self.seconds_left) if self.seconds_left is not None else None,
            "problems": self.problems,
            "queued_at": self.queued_at.isoformat() if self.queued_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "local_send_time": self.local_send_time,
            "zones_pending": [zone.as_json() for zone in self.zones_pending],
            "zone_fallbacks": self.zone_fallbacks,
        }


def progress_snapshot(session: Session, *, campaign_id: int, now: datetime) -> ProgressSnapshot:
    """Where a send stands now: counts by state, the recent rate, the time left, the
    latest failures and retries, and for a send at a local hour the zones still waiting."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    counts = delivery_counts(session, campaign_id=campaign_id)
    since = now - RATE_WINDOW
    if campaign.queued_at is not None and campaign.queued_at > since:
        since = campaign.queued_at
    finished_lately = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.campaign_id == campaign_id)
        .where(Delivery.state.in_([DeliveryState.SENT, DeliveryState.FAILED]))
        .where(Delivery.updated_at >= since)
    )
    seconds = max((now - since).total_seconds(), 1.0)
    rate = float(finished_lately or 0) / seconds
    remaining = counts["queued"] + counts["sending"]
    return ProgressSnapshot(
        campaign_id=campaign.id,
        status=campaign.status.value,
        status_reason=campaign.status_reason,
        total=sum(counts.values()),
        queued=counts["queued"],
        sending=counts["sending"],
        sent=counts["sent"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        rate_per_second=rate,
        seconds_left=remaining / rate if remaining and rate > 0 else None,
        problems=recent_problems(session, campaign_id=campaign_id),
        queued_at=campaign.queued_at,
        finished_at=campaign.finished_at,
        local_send_time=campaign.local_send_time,
        zones_pending=pending_zones(session, campaign_id=campaign_id, now=now)
        if campaign.local_send_time is not None
        else [],
        zone_fallbacks=campaign.zone_fallbacks,
    )


_REPORT_KEYS = ("recipients", "delivered", "failed", "skipped", "hard", "soft")
_MORE_KEYS = ("complaints", "unsubscribes")


def _row() -> dict[str, int]:
    return dict.fromkeys((*_REPORT_KEYS, *_MORE_KEYS), 0)


@dataclass(frozen=True, kw_only=True)
class CampaignReport:
    campaign_id: int
    status: str
    totals: dict[str, int]
    domains: list[dict[str, Any]] = field(default_factory=list)  # busiest domain first
    local_send_time: str | None = None  # sent at this hour in each recipient's zone
    zone_fallbacks: int = 0  # of them, whose own zone could not be read

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.campaign_id,
            "status": self.status,
            "totals": self.totals,
            "domains": self.domains,
            "local_send_time": self.local_send_time,
            "zone_fallbacks": self.zone_fallbacks,
        }


def campaign_report(session: Session, *, campaign_id: int) -> CampaignReport:
    """Delivered, failed, skipped, bounced (hard, soft), complaints and unsubscribes of a
    campaign, in total and per recipient domain.

    Bounces, complaints and unsubscribes by mail are those the bounce mailbox tied to the
    campaign; an unsubscribe by link counts when it came within 30 days of the message."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    per_domain: dict[str, dict[str, int]] = defaultdict(_row)
    rows = session.execute(
        select(Delivery.state, Subscriber.email, Delivery.sent_at, Subscription.unsubscribed_at)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(
            Subscription,
            and_(
                Subscription.subscriber_id == Delivery.subscriber_id,
                Subscription.list_id == Delivery.list_id,
            ),
        )
        .where(Delivery.campaign_id == campaign_id)
        .execution_options(yield_per=2000)
    )
    state_keys = {
        DeliveryState.SENT: "delivered",
        DeliveryState.FAILED: "failed",
        DeliveryState.SKIPPED: "skipped",
    }
    for state, email, sent_at, unsubscribed_at in rows:
        row = per_domain[_domain(email)]
        row["recipients"] += 1
        if state in state_keys:
            row[state_keys[state]] += 1
        if (
            state is DeliveryState.SENT
            and sent_at is not None
            and unsubscribed_at is not None
            and sent_at <= unsubscribed_at <= sent_at + UNSUBSCRIBE_WINDOW
        ):
            row["unsubscribes"] += 1
    bounce_keys = {
        BounceKind.HARD: "hard",
        BounceKind.SOFT: "soft",
        BounceKind.COMPLAINT: "complaints",
        BounceKind.UNSUBSCRIBE: "unsubscribes",
    }
    events = session.execute(
        select(BounceEvent.kind, BounceEvent.email, func.count())
        .where(BounceEvent.campaign_id == campaign_id)
        .group_by(BounceEvent.kind, BounceEvent.email)
    )
    for kind, bounced, count in events:
        counter = bounce_keys.get(BounceKind(kind))
        if counter is not None:
            per_domain[_domain(bounced)][counter] += int(count)
    totals = _row()
    for row in per_domain.values():
        for key, value in row.items():
            totals[key] += value
    domains = [
        {"domain": domain, **row}
        for domain, row in sorted(
            per_domain.items(), key=lambda item: (-item[1]["recipients"], item[0])
        )
    ]
    return CampaignReport(
        campaign_id=campaign.id,
        status=campaign.status.value,
        totals=totals,
        domains=domains,
        local_send_time=campaign.local_send_time,
        zone_fallbacks=campaign.zone_fallbacks,
    )


def _domain(email: str | None) -> str:
    return email.rpartition("@")[2].lower() if email else ERASED


@dataclass(frozen=True, kw_only=True)
class DeliveryRow:
    id: int
    email: str | None
    state: str
    attempts: int
    last_code: int | None
    last_reply: str
    sent_at: datetime | None
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "state": self.state,
            "attempts": self.attempts,
            "last_code": self.last_code,
            "last_reply": self.last_reply,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "updated_at": self.updated_at.isoformat(),
        }


def find_deliveries(
    session: Session,
    *,
    campaign_id: int,
    address: str = "",
    state: DeliveryState | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[DeliveryRow]:
    """A campaign's outbox rows whose address contains ``address`` (any case)."""
    get_campaign(session, campaign_id=campaign_id)
    query = (
        select(Delivery, Subscriber.email)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.campaign_id == campaign_id)
        .order_by(Delivery.id)
        .offset(offset)
        .limit(limit)
    )
    if address.strip():
        pattern = like_containing(address.strip().lower())
        query = query.where(Subscriber.email.like(pattern, escape=LIKE_ESCAPE))
    if state is not None:
        query = query.where(Delivery.state == state)
    return [
        DeliveryRow(
            id=delivery.id,
            email=email,
            state=delivery.state.value,
            attempts=delivery.attempts,
            last_code=delivery.last_code,
            last_reply=delivery.last_reply,
            sent_at=delivery.sent_at,
            updated_at=delivery.updated_at,
        )
        for delivery, email in session.execute(query)
    ]
