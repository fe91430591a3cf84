"""The outbox: freeze the recipients, claim due rows under a lease, record what happened.

Every state change of a delivery happens here, in short transactions, so that any number of
workers on any number of machines can share one database: PostgreSQL hands rows out with
FOR UPDATE SKIP LOCKED; SQLite's single writer (BEGIN IMMEDIATE) does the same job.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, func, insert, literal, select, text, update
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.editions import Editions, assign_editions, prepare_editions
from campaigns.errors import CampaignPaused, CampaignStateError
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryState,
    campaign_lists,
)
from campaigns.recipients import recipients
from campaigns.zones import LocalTime, zone_census, zoned_recipients
from subscribers.bulk import BulkSql
from subscribers.models import (
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from subscribers.suppressions import suppress

REPLY_MAX = 500
TAKEN_OVER = (
    "the worker {owner} stopped while this message was in flight; sent again, so it may "
    "have arrived twice"
)


def new_worker_id() -> str:
    """host:pid:random, so a restarted process never mistakes old leases for its own."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{os.urandom(3).hex()}"


# --- starting, pausing, cancelling ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Rendering:
    """A campaign rendered for sending, before the write transaction that queues it."""

    campaign_id: int
    updated_at: datetime
    editions: Editions


def render_for_sending(composer: Composer, campaign: Campaign) -> Rendering:
    """Render ``campaign``'s editions (loaded in any session, even one already closed):
    the slow part of starting a send, done while no write lock is held."""
    return Rendering(
        campaign_id=campaign.id,
        updated_at=campaign.updated_at,
        editions=prepare_editions(composer, campaign),
    )


def queue_campaign(
    session: Session,
    *,
    campaign: Campaign,
    composer: Composer,
    now: datetime,
    rendering: Rendering | None = None,
    local_time: LocalTime | None = None,
) -> int:
    """Freeze the rendering and the recipients, and mark the campaign as sending.

    ``rendering`` (from ``render_for_sending``, made before this transaction began) is used
    when it is of this campaign as it stands; otherwise the campaign is rendered here.
    The recipients are the confirmed subscribers of the campaign's lists, minus suppressed
    addresses, one row per person across lists (campaigns.recipients). ``local_time``: each
    row waits for that hour in its recipient's zone (campaigns.zones); None: all due now.
    Returns the number of rows queued.
    """
    if campaign.status is CampaignStatus.PAUSED:
        raise CampaignPaused(campaign_id=campaign.id, reason=campaign.status_reason)
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise CampaignStateError(
            f"campaign {campaign.id} is {campaign.status.value}; only a draft or scheduled "
            "campaign can be sent",
            campaign_id=campaign.id,
            status=campaign.status.value,
        )
    if (
        rendering is None
        or rendering.campaign_id != campaign.id
        or rendering.updated_at != campaign.updated_at
    ):
        rendering = render_for_sending(composer, campaign)
    list_ids = [mailing_list.id for mailing_list in campaign.lists]
    constants = {
        "campaign_id": literal(campaign.id),
        "state": literal(DeliveryState.QUEUED.value),
        "attempts": literal(0),
        "last_reply": literal(""),
        "queued_at": literal(now, Delivery.queued_at.type),
        "updated_at": literal(now, Delivery.updated_at.type),
    }
    if local_time is None:
        constants["next_attempt_at"] = literal(now, Delivery.next_attempt_at.type)
        columns = ["subscriber_id", "list_id", *constants]
        rows = recipients(list_ids, *constants.values())
        campaign.zone_fallbacks = 0
    else:  # each row waits for the hour in its zone (see campaigns.zones)
        census = zone_census(session, campaign=campaign, local=local_time)
        zoned = zoned_recipients(census, local=local_time, list_ids=list_ids, now=now).subquery()
        columns = ["subscriber_id", "list_id", "time_zone", "next_attempt_at", *constants]
        rows = select(*zoned.c, *constants.values())
        campaign.zone_fallbacks = census.fallbacks
    campaign.local_send_time = local_time.text if local_time is not None else None
    session.execute(insert(Delivery).from_select(columns, rows))
    editions = assign_editions(
        session, composer=composer, campaign=campaign, editions=rendering.editions
    )
    campaign.rendered = editions.as_json()
    if session.get_bind().dialect.name == "postgresql":
        # The outbox may have grown by a million rows: plan the claims on fresh statistics.
        session.execute(text("ANALYZE deliveries"))
    campaign.status = CampaignStatus.SENDING
    campaign.status_reason = ""
    campaign.queued_at = now
    session.flush()
    return sum(delivery_counts(session, campaign_id=campaign.id).values())


def pause_campaign(session: Session, *, campaign: Campaign, reason: str) -> None:
    if campaign.status is not CampaignStatus.SENDING:
        raise CampaignStateError(
            f"campaign {campaign.id} is {campaign.status.value}; only a sending campaign pauses",
            campaign_id=campaign.id,
            status=campaign.status.value,
        )
    campaign.status = CampaignStatus.PAUSED
    campaign.status_reason = reason
    session.flush()


def resume_campaign(session: Session, *, campaign: Campaign) -> None:
    if campaign.status is not CampaignStatus.PAUSED:
        raise CampaignStateError(
            f"campaign {campaign.id} is {campaign.status.value}; only a paused campaign resumes",
            campaign_id=campaign.id,
            status=campaign.status.value,
        )
    campaign.status = CampaignStatus.SENDING
    campaign.status_reason = ""
    session.flush()


def cancel_campaign(session: Session, *, campaign: Campaign, now: datetime) -> int:
    """Stop for good: every message not yet handed to a worker is skipped. Returns how many."""
    if campaign.status in (CampaignStatus.SENT, CampaignStatus.CANCELLED):
        raise CampaignStateError(
            f"campaign {campaign.id} is already {campaign.status.value}",
            campaign_id=campaign.id,
            status=campaign.status.value,
        )
    result = session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign.id, Delivery.state == DeliveryState.QUEUED)
        .values(state=DeliveryState.SKIPPED, last_reply="campaign cancelled", updated_at=now)
    )
    campaign.status = CampaignStatus.CANCELLED
    campaign.finished_at = now
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delivery_counts(session: Session, *, campaign_id: int) -> dict[str, int]:
    counts = {state.value: 0 for state in DeliveryState}
    for state, count in session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.state)
    ):
        counts[state.value] = count
    return counts


# --- the worker's side: claim, record, take over ------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Claimed:
    delivery_id: int
    campaign_id: int
    list_id: int
    subscriber_id: int
    attempts: int  # including this one
    email: str
    name: str
    language: str | None
    attributes: dict[str, Any]
    version: str | None = None  # the edition frozen for this person (campaigns.editions)
    variant: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """What became of one claimed delivery."""

    delivery_id: int
    state: DeliveryState  # SENT, FAILED, or QUEUED for a retry
    code: int | None = None
    reply: str = ""
    message_id: str | None = None
    retry_at: datetime | None = None
    suppress_as: SuppressionReason | None = None
    email: str = ""


@dataclass(kw_only=True)
class ClaimStats:
    claimed: int = 0
    skipped: int = 0
    recovered: int = 0
    finished: list[int] = field(default_factory=list)


def claim(
    session: Session,
    *,
    worker: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    campaign_ids: Sequence[int] | None = None,
) -> tuple[list[Claimed], int]:
    """Lease up to ``limit`` due rows of sending campaigns to ``worker``.

    Whether the person may still be mailed is checked here, at claim time, so an unsubscribe
    or suppression that lands mid-send stops every message not yet handed out. Rows that fail
    the check become skipped. Returns the claimed rows and how many were skipped.
    """
    if limit <= 0:
        return [], 0
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    parameters: dict[str, Any] = {"now": now, "limit": limit}
    if campaign_ids is not None:
        parameters["campaign_ids"] = list(campaign_ids)
    rows = connection.execute(
        _claim_statement(postgresql=postgresql, filtered=campaign_ids is not None), parameters
    ).all()
    claimed = [
        Claimed(
            delivery_id=row[0],
            campaign_id=row[1],
            list_id=row[2],
            subscriber_id=row[3],
            attempts=row[9] + 1,
            email=row[4],
            name=row[5] or "",
            language=row[6],
            attributes=row[7] or {},
            version=row[10],
            variant=row[11],
        )
        for row in rows
        if row[8]
    ]
    skipped = [row[0] for row in rows if not row[8]]
    sql = BulkSql(connection)
    stamp = sql.time(now)
    sql.execute(
        "UPDATE deliveries SET state = {mark}, lease_owner = {mark}, lease_expires_at = {mark}, "
        "attempts = attempts + 1, updated_at = {mark} WHERE id {in_values}",
        [c.delivery_id for c in claimed],
        first=(DeliveryState.SENDING.value, worker, sql.time(now + lease), stamp),
    )
    sql.execute(
        "UPDATE deliveries SET state = {mark}, last_reply = {mark}, updated_at = {mark} "
        "WHERE id {in_values}",
        skipped,
        first=(
            DeliveryState.SKIPPED.value,
            "unsubscribed, suppressed or erased before sending",
            stamp,
        ),
    )
    return claimed, len(skipped)


@functools.cache
def _claim_statement(*, postgresql: bool, filtered: bool) -> Any:
    """The claim query, built once per process: building a statement costs more in Python
    than running it, and a worker claims many times a second."""
    query = (
        select(
            Delivery.id,
            Delivery.campaign_id,
            Delivery.list_id,
            Subscriber.id,
            Subscriber.email,
            Subscriber.name,
            Subscriber.language,
            Subscriber.attributes,
            _eligible(),
            Delivery.attempts,
            Delivery.version,
            Delivery.variant,
        )
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(
            Subscription,
            and_(
                Subscription.subscriber_id == Delivery.subscriber_id,
                Subscription.list_id == Delivery.list_id,
            ),
        )
        .where(Campaign.status == CampaignStatus.SENDING)
        .where(Delivery.state == DeliveryState.QUEUED)
        .where(Delivery.next_attempt_at <= bindparam("now", type_=Delivery.next_attempt_at.type))
        .limit(bindparam("limit", type_=Integer))  # no ORDER BY: it would walk past sent rows
    )
    if filtered:
        query = query.where(Delivery.campaign_id.in_(bindparam("campaign_ids", expanding=True)))
    if postgresql:
        query = query.with_for_update(of=Delivery, skip_locked=True)
    return query


def _eligible() -> Any:
    return and_(
        Subscriber.id.is_not(None),
        Subscription.status == SubscriptionStatus.CONFIRMED,
        ~exists().where(Suppression.email == Subscriber.email),
    )


def still_eligible(session: Session, *, delivery_ids: Sequence[int]) -> set[int]:
    """Which of these claimed rows may still be sent (nobody opted out since the claim)."""
    if not delivery_ids:
        return set()
    return set(
        session.scalars(
            select(Delivery.id)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .join(
                Subscription,
                and_(
                    Subscription.subscriber_id == Delivery.subscriber_id,
                    Subscription.list_id == Delivery.list_id,
                ),
            )
            .where(Delivery.id.in_(delivery_ids))
            .where(_eligible())
        )
    )


def skip_opted_out(
    session: Session, *, worker: str, delivery_ids: Sequence[int], now: datetime
) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.lease_owner == worker)
        .values(
            state=DeliveryState.SKIPPED,
            lease_owner=None,
            lease_expires_at=None,
            last_reply="unsubscribed or suppressed while queued",
            updated_at=now,
        )
    )


_RECORD = (
    "UPDATE deliveries SET state = ?, last_code = ?, last_reply = ?, message_id = ?, "
    "sent_at = ?, next_attempt_at = COALESCE(?, next_attempt_at), lease_owner = NULL, "
    "lease_expires_at = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?"
)


def record(session: Session, *, worker: str, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Write outcomes of rows this worker holds; a row another worker took over is left alone.

    One executemany for the lot: this runs once per round of the send loop.
    """
    if not outcomes:
        return
    sql = BulkSql(session.connection())
    stamp = sql.time(now)
    sql.execute_many(
        _RECORD,
        [
            (
                outcome.state.value,
                outcome.code,
                outcome.reply[:REPLY_MAX],
                outcome.message_id,
                stamp if outcome.state is DeliveryState.SENT else None,
                sql.time(outcome.retry_at) if outcome.retry_at is not None else None,
                stamp,
                outcome.delivery_id,
                worker,
            )
            for outcome in outcomes
        ],
    )
    for outcome in outcomes:
        if outcome.suppress_as is not None and outcome.email:
            suppress(
                session,
                email=outcome.email,
                reason=outcome.suppress_as,
                note=f"{outcome.code} {outcome.reply}"[:200],
            )


def release(session: Session, *, worker: str, delivery_ids: Sequence[int], now: datetime) -> None:
    """Hand back rows claimed but never sent (a graceful stop): no attempt is counted."""
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.lease_owner == worker)
            .values(
                state=DeliveryState.QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                attempts=Delivery.attempts - 1,
                updated_at=now,
            )
        )


def release_orphans(
    session: Session, *, worker: str, holding: Collection[int], now: datetime
) -> int:
    """Hand back rows leased to ``worker`` that it does not hold: claimed in a transaction
    whose commit it never heard of (the connection broke during COMMIT). The worker sends
    only rows it holds, so these were never sent: no attempt is counted. Returns how many."""
    leased = session.scalars(
        select(Delivery.id).where(
            Delivery.lease_owner == worker, Delivery.state == DeliveryState.SENDING
        )
    ).all()
    orphans = [delivery_id for delivery_id in leased if delivery_id not in holding]
    release(session, worker=worker, delivery_ids=orphans, now=now)
    return len(orphans)


def renew(session: Session, *, worker: str, now: datetime, lease: timedelta) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.lease_owner == worker, Delivery.state == DeliveryState.SENDING)
        .values(lease_expires_at=now + lease)
    )


def take_over(session: Session, *, now: datetime, dead_owners: Sequence[str] = ()) -> int:
    """Requeue rows whose worker is gone (lease expired, or a dead process on this host).

    Such a row may have been in flight when its worker died: it is sent again and says so,
    which bounds duplicates by the connections the dead worker had open.
    """
    stale = Delivery.lease_expires_at < now
    if dead_owners:
        stale = stale | Delivery.lease_owner.in_(dead_owners)
    rows = session.execute(
        select(Delivery.id, Delivery.lease_owner)
        .where(Delivery.state == DeliveryState.SENDING)
        .where(stale)
    ).all()
    for delivery_id, owner in rows:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.state == DeliveryState.SENDING)
            .values(
                state=DeliveryState.QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=now,
                last_reply=TAKEN_OVER.format(owner=owner),
                updated_at=now,
            )
        )
    return len(rows)


def local_dead_owners(session: Session) -> list[str]:
    """Lease owners on this host whose process no longer exists: their rows need no wait."""
    host = socket.gethostname()[:60]
    owners = session.scalars(
        select(Delivery.lease_owner)
        .where(Delivery.state == DeliveryState.SENDING)
        .where(Delivery.lease_owner.like(f"{host}:%"))
        .distinct()
    ).all()
    dead = []
    for owner in owners:
        assert owner is not None
        pid = int(owner.split(":")[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            dead.append(owner)
        except PermissionError:
            continue
    return dead


def finish_campaigns(session: Session, *, now: datetime) -> list[int]:
    """Mark sent the sending campaigns with no row left to send; never one with rows left."""
    unfinished = exists().where(  # an index probe on (campaign_id, state)
        Delivery.campaign_id == Campaign.id,
        Delivery.state.in_([DeliveryState.QUEUED, DeliveryState.SENDING]),
    )
    done = list(
        session.scalars(
            select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING).where(~unfinished)
        )
    )
    if done:
        session.execute(
            update(Campaign)
            .where(Campaign.id.in_(done))
            .values(status=CampaignStatus.SENT, finished_at=now, updated_at=now)
        )
    return done


def campaign_list_ids(session: Session, *, campaign_id: int) -> list[int]:
    return list(
        session.scalars(
            select(campaign_lists.c.list_id).where(campaign_lists.c.campaign_id == campaign_id)
        )
    )


def recent_problems(session: Session, *, campaign_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The latest failures and retries, for `campaigns status`."""
    rows = session.execute(
        select(
            Delivery.state,
            Subscriber.email,
            Delivery.last_code,
            Delivery.last_reply,
            Delivery.attempts,
        )
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.campaign_id == campaign_id)
        .where(
            (Delivery.state == DeliveryState.FAILED)
            | ((Delivery.state == DeliveryState.QUEUED) & (Delivery.attempts > 0))
        )
        .order_by(Delivery.updated_at.desc())
        .limit(limit)
    ).all()
    return [
        {
            "state": "retrying" if state is DeliveryState.QUEUED else state.value,
            "email": email,
            "code": code,
            "reply": reply,
            "attempts": attempts,
        }
        for state, email, code, reply, attempts in rows
    ]
