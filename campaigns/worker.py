"""The delivery worker: find due campaigns → claim a batch → personalise → send → record.

Connections run as asyncio tasks; one thread owns the database session (the ledger). Each
connection hands its result to the ledger and waits until it is committed before it sends
again, so the messages whose fate a crash could leave unknown are never more than the open
connections. The ledger commits every result that arrived meanwhile in one transaction, in
which it also claims the next rows: one short transaction per round, whatever the speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, selectinload

from campaigns.compose import Composition
from campaigns.drafts import message_factory
from campaigns.envelope import EnvelopeSender
from campaigns.messages import MessageFactory, Recipient
from campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryState
from campaigns.outbox import (
    Claimed,
    Outcome,
    claim,
    finish_campaigns,
    local_dead_owners,
    new_worker_id,
    pause_campaign,
    record,
    release,
    renew,
    skip_opted_out,
    still_eligible,
    take_over,
)
from mailer.bounces import BounceKind, classify
from mailer.dkim import DkimSigner
from mailer.smtp import Outcome as SmtpOutcome
from mailer.smtp import SendResult, SmtpConnection, SmtpSettings, send_one
from subscribers.base import utcnow
from subscribers.models import SuppressionReason

# RCPT replies without an enhanced status that mean the address does not exist.
_HARD_BOUNCE_CODES = (550, 551, 553)
_MAINTENANCE_EVERY = 5.0  # seconds between lease renewals and take-overs
_RECHECK_EVERY = 0.02  # seconds between checks of buffered rows for opt-outs and pauses


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    concurrency: int = 4
    lease: timedelta = timedelta(seconds=120)
    retry_base: timedelta = timedelta(seconds=60)
    retry_max: timedelta = timedelta(hours=2)
    max_attempts: int = 8
    rate_per_second: float | None = None
    rate_per_hour: int | None = None
    storm_window: int = 100
    storm_min: int = 50
    storm_ratio: float = 0.5
    poll_interval: float = 0.5
    campaign_ids: tuple[int, ...] | None = None  # only these (a foreground `campaigns send`)
    until_done: bool = False  # stop when those campaigns are no longer sending


@dataclass(frozen=True, kw_only=True)
class SendingIdentity:
    base_url: str
    key: bytes
    bounce_address: str | None = None  # Return-Path; default: each campaign's From address
    verp: bool = False
    dkim: DkimSigner | None = None

    def send_alone(
        self, *, smtp: SmtpSettings, from_address: str, recipient: str, message: bytes
    ) -> SendResult:
        """One message outside the outbox (a test, a confirmation mail) on a connection of
        its own, signed and with the envelope sender a campaign's message would have."""
        if self.dkim is not None:
            message = self.dkim.sign(message)
        sender = self.bounce_address or from_address
        return send_one(settings=smtp, sender=sender, recipient=recipient, message=message)


@dataclass(kw_only=True)
class Progress:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
    taken_over: int = 0
    paused: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.sent / elapsed if elapsed > 0 else 0.0


@dataclass(kw_only=True)
class _Exchange:
    claimed: list[Claimed]
    skipped: int
    factories: dict[int, MessageFactory | None]
    inactive: set[int]
    ineligible: set[int]
    taken_over: int
    active: bool


class Ledger:
    """The worker's only door to the database. Runs in one thread, one transaction per call."""

    def __init__(
        self, *, engine: Engine, worker: str, settings: WorkerSettings, identity: SendingIdentity
    ) -> None:
        self._session = Session(engine, expire_on_commit=False)
        self._postgresql = engine.dialect.name == "postgresql"
        self._worker = worker
        self._settings = settings
        self._identity = identity
        self._known: dict[int, MessageFactory | None] = {}
        self._statuses: dict[int, CampaignStatus] = {}
        self._maintained = 0.0
        self._checked = 0.0
        self._sent_last_hour: tuple[float, int] = (0.0, 0)

    def exchange(
        self,
        outcomes: list[Outcome],
        want: int,
        pauses: dict[int, str],
        buffered: list[int],
    ) -> _Exchange:
        """Record what was sent, claim what to send next: one transaction per round."""
        session, now = self._session, utcnow()
        try:
            if self._postgresql:
                # A killed worker loses nothing committed; only a crash of the server itself
                # could lose the last fraction of a second, whose messages are then resent.
                # Waiting for an fsync per round would cap a worker at a few hundred msg/s.
                session.execute(text("SET LOCAL synchronous_commit = off"))
            record(session, worker=self._worker, outcomes=outcomes, now=now)
            for campaign_id, reason in pauses.items():
                campaign = session.get(Campaign, campaign_id)
                if campaign is not None and campaign.status is CampaignStatus.SENDING:
                    pause_campaign(session, campaign=campaign, reason=reason)
            taken_over = self._maintain(now)
            budget = self._hourly_budget(want)
            claimed, skipped = claim(
                session,
                worker=self._worker,
                limit=budget,
                now=now,
                lease=self._settings.lease,
                campaign_ids=self._settings.campaign_ids,
            )
            new = {row.campaign_id for row in claimed} - set(self._known)
            factories = {campaign_id: self._factory(campaign_id) for campaign_id in new}
            self._known.update(factories)
            ineligible: set[int] = set()
            if pauses or time.monotonic() - self._checked > _RECHECK_EVERY:
                # Opt-outs and pauses that landed since the buffered rows were claimed.
                self._checked = time.monotonic()
                ineligible = set(buffered) - still_eligible(session, delivery_ids=buffered)
                self._statuses = dict(
                    session.execute(
                        select(Campaign.id, Campaign.status).where(
                            Campaign.id.in_(list(self._known))
                        )
                    ).all()
                )
            short = len(claimed) + skipped < budget
            if short:  # nothing more is due now: perhaps a campaign is complete
                finish_campaigns(session, now=now)
            active = not short or self._active(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        inactive = {
            cid for cid, status in self._statuses.items() if status is not CampaignStatus.SENDING
        }
        return _Exchange(
            claimed=claimed,
            skipped=skipped,
            factories=factories,
            inactive=inactive,
            ineligible=ineligible,
            taken_over=taken_over,
            active=active,
        )

    def skip(self, delivery_ids: list[int]) -> None:
        """Rows dropped from the buffer because the person opted out meanwhile."""
        skip_opted_out(self._session, worker=self._worker, delivery_ids=delivery_ids, now=utcnow())
        self._session.commit()

    def release(self, delivery_ids: list[int]) -> None:
        release(self._session, worker=self._worker, delivery_ids=delivery_ids, now=utcnow())
        self._session.commit()

    def close(self) -> None:
        self._session.close()

    def _maintain(self, now: datetime) -> int:
        if time.monotonic() - self._maintained < _MAINTENANCE_EVERY:
            return 0
        self._maintained = time.monotonic()
        renew(self._session, worker=self._worker, now=now, lease=self._settings.lease)
        return take_over(self._session, now=now, dead_owners=local_dead_owners(self._session))

    def _hourly_budget(self, want: int) -> int:
        limit = self._settings.rate_per_hour
        if limit is None or want == 0:
            return want
        checked, sent = self._sent_last_hour
        if time.monotonic() - checked > _MAINTENANCE_EVERY:
            since = utcnow() - timedelta(hours=1)
            sent = (
                self._session.scalar(
                    select(text("count(*)")).select_from(Delivery).where(Delivery.sent_at > since)
                )
                or 0
            )
        self._sent_last_hour = (time.monotonic(), sent + want)
        return max(0, min(want, limit - sent))

    def _factory(self, campaign_id: int) -> MessageFactory | None:
        campaign = self._session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).options(selectinload(Campaign.lists))
        )
        if campaign is None or campaign.rendered is None:
            return None
        return message_factory(
            Composition.from_json(campaign.rendered),
            campaign,
            base_url=self._identity.base_url,
            key=self._identity.key,
            unsubscribe_mailbox=self._identity.bounce_address,
        )

    def _active(self, session: Session) -> bool:
        """Whether the campaigns this worker serves may still have something to send."""
        query = select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING)
        if self._settings.campaign_ids is not None:
            query = query.where(Campaign.id.in_(self._settings.campaign_ids))
        return session.execute(query.limit(1)).first() is not None


class DeliveryWorker:
    def __init__(
        self,
        *,
        engine: Engine,
        smtp: SmtpSettings,
        settings: WorkerSettings,
        identity: SendingIdentity,
        stop: threading.Event | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.worker_id = new_worker_id()
        self.progress = Progress()
        self._engine = engine
        self._smtp = smtp
        self._settings = settings
        self._identity = identity
        self._stop = stop or threading.Event()
        self._on_progress = on_progress
        self._factories: dict[int, MessageFactory | None] = {}
        self._envelopes: dict[int, EnvelopeSender] = {}
        self._results: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._in_flight = 0
        self._recent: dict[int, deque[bool]] = {}
        self._pauses: dict[int, str] = {}

    def run(self) -> Progress:
        asyncio.run(self._run())
        return self.progress

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coopmail-ledger")
        ledger = await loop.run_in_executor(
            database,
            lambda: Ledger(
                engine=self._engine,
                worker=self.worker_id,
                settings=self._settings,
                identity=self._identity,
            ),
        )
        self._work = _Buffer()
        self._wake = asyncio.Event()
        self._limiter = _RateLimiter(self._settings.rate_per_second)
        connections = [
            asyncio.create_task(self._connection()) for _ in range(self._settings.concurrency)
        ]
        try:
            await self._ledger_loop(ledger, database)
        finally:
            # If the ledger failed, results are unrecorded: their rows stay leased, and
            # another worker takes them over. The connections must not wait for it.
            for _, done in self._results:
                if not done.done():
                    done.set_result(None)
            unsent = self._work.take(everything=True)
            for _ in connections:
                self._work.put(None)
            await asyncio.gather(*connections, return_exceptions=True)
            await loop.run_in_executor(database, ledger.release, unsent)
            await loop.run_in_executor(database, ledger.close)
            database.shutdown(wait=True)

    async def _ledger_loop(self, ledger: Ledger, database: ThreadPoolExecutor) -> None:
        loop = asyncio.get_running_loop()
        concurrency = self._settings.concurrency
        while True:
            pending, self._results = self._results, []
            stopping = self._stop.is_set()
            # Claim in chunks, and only when the buffer runs low: a claim costs a query.
            low = len(self._work) < concurrency
            want = 0 if stopping or not low else 3 * concurrency - len(self._work) - self._in_flight
            pauses, self._pauses = self._pauses, {}
            self.progress.paused += pauses.values()
            try:
                exchange = await loop.run_in_executor(
                    database,
                    ledger.exchange,
                    [outcome for outcome, _ in pending],
                    want,
                    pauses,
                    self._work.ids(),
                )
            except BaseException:
                self._results = pending + self._results  # released in _run's cleanup
                raise
            for _, done in pending:
                done.set_result(None)
            self._factories.update(exchange.factories)
            self._absorb(exchange)
            # A paused or cancelled campaign stops at once; an opt-out stops the next message.
            dropped = self._work.take(campaign_ids=exchange.inactive)
            if dropped:
                await loop.run_in_executor(database, ledger.release, dropped)
            opted_out = self._work.take(delivery_ids=exchange.ineligible)
            if opted_out:
                await loop.run_in_executor(database, ledger.skip, opted_out)
                self.progress.skipped += len(opted_out)
            for row in exchange.claimed:
                self._work.put(row)
            if self._on_progress:
                self._on_progress(self.progress)
            idle = not self._in_flight and not len(self._work) and not self._results
            if idle and (stopping or (self._settings.until_done and not exchange.active)):
                return
            if not self._results:  # results wake us; otherwise poll for newly due rows
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval)

    def _absorb(self, exchange: _Exchange) -> None:
        self.progress.skipped += exchange.skipped
        self.progress.taken_over += exchange.taken_over

    async def _connection(self) -> None:
        connection = SmtpConnection(settings=self._smtp)
        backoff = 0.0
        try:
            while True:
                row = await self._work.get()
                if row is None:
                    return
                self._in_flight += 1
                try:
                    if backoff:
                        await asyncio.sleep(backoff)
                    await self._limiter.wait()
                    outcome, result = await self._deliver(connection, row)
                    done = asyncio.get_running_loop().create_future()
                    self._results.append((outcome, done))
                    self._wake.set()
                    await done  # committed: only now may this connection send again
                    connected = result is None or result.stage != "connect"
                    backoff = 0.0 if connected else min(30.0, max(1.0, backoff * 2))
                finally:
                    self._in_flight -= 1
        finally:
            await connection.close()

    async def _deliver(
        self, connection: SmtpConnection, row: Claimed
    ) -> tuple[Outcome, SendResult | None]:
        factory = self._factories.get(row.campaign_id)
        if factory is None:
            return self._failed(row, "the campaign has no rendering; queue it again"), None
        message_id = factory.new_message_id()
        try:
            message = factory.build(
                Recipient(
                    subscriber_id=row.subscriber_id,
                    list_id=row.list_id,
                    email=row.email,
                    name=row.name,
                    language=row.language,
                    attributes=row.attributes,
                ),
                now=utcnow(),
                date_header=_date_header(),
                message_id=message_id,
            )
            if self._identity.dkim is not None:
                message = self._identity.dkim.sign(message)
        except ValueError as error:  # this person's data cannot make a valid message
            return self._failed(row, f"could not build the message: {error}"), None
        result = await connection.send(
            sender=self._envelope(row, factory), recipient=row.email, message=message
        )
        outcome = self._classify(row, result, message_id)
        self._watch_storm(row.campaign_id, result)
        return outcome, result

    def _envelope(self, row: Claimed, factory: MessageFactory) -> str:
        sender = self._envelopes.get(row.campaign_id)
        if sender is None:
            sender = self._envelopes[row.campaign_id] = EnvelopeSender(
                address=self._identity.bounce_address or factory.sender_address,
                verp=self._identity.verp,
                key=self._identity.key,
            )
        return sender.for_delivery(row.delivery_id)

    def _classify(self, row: Claimed, result: SendResult, message_id: str) -> Outcome:
        reply = f"{result.enhanced + ' ' if result.enhanced else ''}{result.reply}".strip()
        if result.outcome is SmtpOutcome.SENT:
            self.progress.sent += 1
            return Outcome(
                delivery_id=row.delivery_id,
                state=DeliveryState.SENT,
                code=result.code,
                reply=reply,
                message_id=message_id,
            )
        if result.outcome is SmtpOutcome.UNKNOWN:
            # The message was handed over; only the server's answer was lost. Never resent.
            self.progress.sent += 1
            return Outcome(
                delivery_id=row.delivery_id,
                state=DeliveryState.SENT,
                code=None,
                message_id=message_id,
                reply=f"no reply after the message was sent ({reply or 'connection lost'}); "
                "assumed delivered, not sent again",
            )
        if result.outcome is SmtpOutcome.REJECTED and result.stage in ("connect", "mail"):
            # The relay refused our sender or session (530 auth required, 553 sender
            # refused): no recipient is at fault, and every next one would fail the same way.
            self._pauses[row.campaign_id] = (
                f"paused: the relay refused the sender ({result.code} {result.reply[:120]}); "
                f"check COOPMAIL_SMTP_URL and the From or bounce address, then "
                f"`coopmail campaigns resume {row.campaign_id}`"
            )
            self.progress.retrying += 1
            return Outcome(
                delivery_id=row.delivery_id,
                state=DeliveryState.QUEUED,
                code=result.code,
                reply=f"{result.stage}: {reply}",
                retry_at=utcnow(),
            )
        if result.outcome is SmtpOutcome.REJECTED:
            self.progress.failed += 1
            bounced = result.stage == "rcpt" and _address_refused(result)
            return Outcome(
                delivery_id=row.delivery_id,
                state=DeliveryState.FAILED,
                code=result.code,
                reply=f"{result.stage}: {reply}",
                email=row.email,
                suppress_as=SuppressionReason.BOUNCED if bounced else None,
            )
        if row.attempts >= self._settings.max_attempts:
            self.progress.failed += 1
            return Outcome(
                delivery_id=row.delivery_id,
                state=DeliveryState.FAILED,
                code=result.code,
                reply=f"gave up after {row.attempts} attempts; last: {reply}",
            )
        self.progress.retrying += 1
        delay = min(self._settings.retry_max, self._settings.retry_base * 2 ** (row.attempts - 1))
        return Outcome(
            delivery_id=row.delivery_id,
            state=DeliveryState.QUEUED,
            code=result.code,
            reply=f"{result.stage}: {reply}",
            retry_at=utcnow() + delay,
        )

    def _failed(self, row: Claimed, reason: str) -> Outcome:
        self.progress.failed += 1
        return Outcome(delivery_id=row.delivery_id, state=DeliveryState.FAILED, reply=reason)

    def _watch_storm(self, campaign_id: int, result: SendResult) -> None:
        """Pause a campaign when most of its recent messages fail: a misconfigured relay or
        a blocklisting should not burn through the whole list."""
        settings = self._settings
        recent = self._recent.setdefault(campaign_id, deque(maxlen=settings.storm_window))
        recent.append(result.outcome in (SmtpOutcome.DEFERRED, SmtpOutcome.REJECTED))
        failures = sum(recent)
        if len(recent) >= settings.storm_min and failures / len(recent) > settings.storm_ratio:
            reason = (
                f"paused automatically: {failures} of the last {len(recent)} messages failed "
                f"(last reply: {result.code or ''} {result.reply[:120]}); fix the cause, then "
                f"`coopmail campaigns resume {campaign_id}`"
            )
            self._pauses[campaign_id] = reason
            recent.clear()


def _address_refused(result: SendResult) -> bool:
    """Whether a refused RCPT blames the address itself, so it is suppressed: the same
    policy as bounce processing, where a policy or spam block (5.7.x) is no verdict on it."""
    if result.enhanced:
        return classify(action="failed", status=result.enhanced) is BounceKind.HARD
    return result.code in _HARD_BOUNCE_CODES


class _Buffer:
    """Claimed rows waiting for a connection; None tells a connection to stop."""

    def __init__(self) -> None:
        self._rows: deque[Claimed | None] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return sum(1 for row in self._rows if row is not None)

    def put(self, row: Claimed | None) -> None:
        self._rows.append(row)
        self._ready.set()

    async def get(self) -> Claimed | None:
        while not self._rows:
            self._ready.clear()
            await self._ready.wait()
        return self._rows.popleft()

    def ids(self) -> list[int]:
        return [row.delivery_id for row in self._rows if row is not None]

    def take(
        self,
        *,
        campaign_ids: Collection[int] = (),
        delivery_ids: Collection[int] = (),
        everything: bool = False,
    ) -> list[int]:
        """Remove the rows of these campaigns, with these ids (or all), keeping the rest in
        order; returns the ids removed."""
        taken = [
            row.delivery_id
            for row in self._rows
            if row is not None
            and (everything or row.campaign_id in campaign_ids or row.delivery_id in delivery_ids)
        ]
        if taken:
            chosen = set(taken)
            self._rows = deque(
                row for row in self._rows if row is None or row.delivery_id not in chosen
            )
        return taken


class _RateLimiter:
    """At most ``per_second`` messages a second from this worker (a token bucket)."""

    def __init__(self, per_second: float | None) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        self._next = max(self._next + self._interval, now)
        if self._next > now:
            await asyncio.sleep(self._next - now)


_date_cache: tuple[int, str] = (0, "")


def _date_header() -> str:
    """One formatted Date per second, shared by the messages built in it."""
    global _date_cache  # noqa: PLW0603 - a per-process memo
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, format_datetime(utcnow()))
    return _date_cache[1]
