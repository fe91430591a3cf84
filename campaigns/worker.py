"""The delivery worker: claim → personalise → send → record.

Each SMTP connection is an asyncio task that reads as those four steps:

    row = await claimed()                         # a row the ledger claimed in its last round
    message = personalise(row)                    # slots filled, MIME bytes, DKIM, checked
    result = await send(connection, message, then)  # the next message begun in the same write
    await record(row, result)                     # judged by campaigns.replies, committed

One thread owns the database session (the Ledger). Each of its rounds is one short
transaction that records every result that arrived meanwhile and claims the next rows,
whatever the speed. A connection writes the end of a message only once the outcome of its
previous message is committed, so the messages whose fate a crash could leave unknown are
never more than the open connections, pipelining or not.

The database may go away for a while (a lock held past SQLite's busy timeout, PostgreSQL
restarting or terminating our backends): a round that fails on a transient error is tried
again with capped exponential backoff, while the connections wait with their results, and
the worker carries on when the database answers. `health()` tells a supervisor it is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, selectinload

from campaigns.editions import CampaignMessages, campaign_editions
from campaigns.envelope import EnvelopeSender
from campaigns.messages import Recipient
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
    release_orphans,
    renew,
    skip_opted_out,
    still_eligible,
    take_over,
)
from campaigns.replies import RetryPolicy, Tally, judge_reply
from campaigns.transient import Backoff, describe, is_transient
from mailer.dkim import DkimSigner
from mailer.smtp import Outcome as SmtpOutcome
from mailer.smtp import Prepared, SendResult, SmtpConnection, SmtpSettings, prepare, send_one
from mailer.smtp import run as run_event_loop
from subscribers.base import utcnow

log = logging.getLogger(__name__)

_MAINTENANCE_EVERY = 5.0  # seconds between lease renewals and take-overs
_RECHECK_EVERY = 0.1  # seconds between checks of held rows for opt-outs and pauses
_CLAIM_ROUNDS = 8  # a claim fetches this many rows per connection, when fewer than 2 wait
_GROUP_WAIT = 0.004  # seconds a round waits for more results after the first one
_HEARTBEAT_EVERY = 1.0  # seconds between beats of a live event loop
_STOP_PATIENCE = 30.0  # seconds a stopping worker keeps trying to record what it sent
_T = TypeVar("_T")


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
    database_backoff: Backoff = field(default_factory=Backoff)  # after a transient error
    uvloop: bool = True  # uvloop's event loop when it is installed (Linux)
    # The time rows are claimed and recorded at: the wall clock; a test gives its own to
    # release rows waiting for a later hour (campaigns.zones) without waiting for it.
    clock: Callable[[], datetime] = utcnow


@dataclass(frozen=True, kw_only=True)
class SendingIdentity:
    base_url: str
    key: bytes
    bounce_address: str | None = None  # Return-Path; default: each campaign's From address
    verp: bool = False
    dkim: DkimSigner | None = None
    feedback_sender: str | None = None  # Feedback-ID's SenderId; None: no Feedback-ID

    def send_alone(
        self, *, smtp: SmtpSettings, from_address: str, recipient: str, message: bytes
    ) -> SendResult:
        """One message outside the outbox (a test, a confirmation mail) on a connection of
        its own, signed and with the envelope sender a campaign's message would have."""
        if self.dkim is not None:
            message = self.dkim.sign(message)
        sender = self.bounce_address or from_address
        return send_one(settings=smtp, sender=sender, recipient=recipient, message=message)


@dataclass(frozen=True)
class Paused:
    """A campaign this worker paused, and why (the reason is also its status_reason)."""

    campaign_id: int
    reason: str

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} {self.reason}"


@dataclass(kw_only=True)
class Progress:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
    taken_over: int = 0
    paused: list[Paused] = field(default_factory=list)
    database_trouble: str | None = None  # what the database said while rounds fail
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.sent / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True, kw_only=True)
class WorkerHealth:
    """What a supervisor reads: a beat of the event loop every second, and whether the
    database answers (a worker waiting out a database outage is alive, not healthy)."""

    beat: float  # time.monotonic() of the last beat
    last_round: float | None  # time.monotonic() of the last committed ledger round
    database_failing_since: float | None  # time.monotonic() of the first failure in a row
    database_error: str | None  # the last transient error, one line

    def is_alive(self, *, within: float = 10.0) -> bool:
        return time.monotonic() - self.beat <= within


# --- the ledger: the worker's only door to the database, one transaction per round ---------


@dataclass(frozen=True, kw_only=True)
class _RoundRequest:
    outcomes: list[Outcome]
    want: int
    pauses: dict[int, str]
    release: list[int]  # claimed rows handed back unsent (a pause, a stop)
    skip: list[int]  # claimed rows of people who opted out meanwhile
    unsent: list[int]  # held rows not yet sent: re-checked for opt-outs
    holding: frozenset[int]  # every row the worker holds (for orphans after a failure)


@dataclass(frozen=True, kw_only=True)
class _Round:
    claimed: list[Claimed]
    skipped: int
    factories: dict[int, CampaignMessages | None]
    inactive: set[int]
    ineligible: set[int]
    taken_over: int
    active: bool


class Ledger:
    """Runs in one thread; `round` does each job of a round in turn, in one transaction."""

    def __init__(
        self, *, engine: Engine, worker: str, settings: WorkerSettings, identity: SendingIdentity
    ) -> None:
        self._session = Session(engine, expire_on_commit=False)
        self._postgresql = engine.dialect.name == "postgresql"
        self._turns = _WriterTurns.for_engine(engine)
        self._worker = worker
        self._settings = settings
        self._identity = identity
        self._known: dict[int, CampaignMessages | None] = {}
        self._statuses: dict[int, CampaignStatus] = {}
        self._maintained = 0.0
        self._checked = 0.0
        self._sent_last_hour: tuple[float, int] = (0.0, 0)
        self._uncertain = False  # a round failed: its commit may or may not have happened

    def round(self, request: _RoundRequest) -> _Round:
        """Record what was sent, hand back and skip what will not be, claim what to send
        next, re-check what is held: one transaction."""
        with self._turns:
            return self._round(request)

    def _round(self, request: _RoundRequest) -> _Round:
        now = self._settings.clock()
        try:
            self._commit_asynchronously()
            self._record(request, now)
            self._pause(request.pauses)
            self._release_orphans(request.holding, now)
            taken_over = self._maintain(now)
            budget = self._hourly_budget(request.want)
            claimed, skipped = self._claim(budget, now)
            factories = self._factories_for(claimed)
            ineligible = self._recheck(request.unsent, forced=bool(request.pauses))
            short = len(claimed) + skipped < budget
            active = self._finish(now) if short else True
            self._session.commit()
        except BaseException:
            self._uncertain = True
            self._rollback()
            raise
        inactive = {
            cid for cid, status in self._statuses.items() if status is not CampaignStatus.SENDING
        }
        return _Round(
            claimed=claimed,
            skipped=skipped,
            factories=factories,
            inactive=inactive,
            ineligible=ineligible,
            taken_over=taken_over,
            active=active,
        )

    def close(self) -> None:
        self._session.close()
        self._turns.close()

    # The jobs of a round, in the order they run

    def _commit_asynchronously(self) -> None:
        if self._postgresql:
            # A killed worker loses nothing committed; only a crash of the server itself
            # could lose the last fraction of a second, whose messages are then resent.
            # Waiting for an fsync per round would cap a worker at a few hundred msg/s.
            self._session.execute(text("SET LOCAL synchronous_commit = off"))

    def _record(self, request: _RoundRequest, now: datetime) -> None:
        worker, session = self._worker, self._session
        record(session, worker=worker, outcomes=request.outcomes, now=now)
        if request.release:
            release(session, worker=worker, delivery_ids=request.release, now=now)
        if request.skip:
            skip_opted_out(session, worker=worker, delivery_ids=request.skip, now=now)

    def _pause(self, pauses: dict[int, str]) -> None:
        for campaign_id, reason in pauses.items():
            campaign = self._session.get(Campaign, campaign_id)
            if campaign is not None and campaign.status is CampaignStatus.SENDING:
                pause_campaign(self._session, campaign=campaign, reason=reason)

    def _release_orphans(self, holding: frozenset[int], now: datetime) -> None:
        if self._uncertain:
            release_orphans(self._session, worker=self._worker, holding=holding, now=now)
            self._uncertain = False

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

    def _claim(self, budget: int, now: datetime) -> tuple[list[Claimed], int]:
        return claim(
            self._session,
            worker=self._worker,
            limit=budget,
            now=now,
            lease=self._settings.lease,
            campaign_ids=self._settings.campaign_ids,
        )

    def _factories_for(self, claimed: list[Claimed]) -> dict[int, CampaignMessages | None]:
        """A message factory for each campaign seen for the first time."""
        new = {row.campaign_id for row in claimed} - set(self._known)
        factories = {campaign_id: self._factory(campaign_id) for campaign_id in new}
        self._known.update(factories)
        return factories

    def _recheck(self, unsent: list[int], *, forced: bool) -> set[int]:
        """Opt-outs and pauses that landed since the held rows were claimed."""
        if not forced and time.monotonic() - self._checked <= _RECHECK_EVERY:
            return set()
        self._checked = time.monotonic()
        ineligible = set(unsent) - still_eligible(self._session, delivery_ids=unsent)
        self._statuses = dict(
            self._session.execute(
                select(Campaign.id, Campaign.status).where(Campaign.id.in_(list(self._known)))
            ).all()
        )
        return ineligible

    def _finish(self, now: datetime) -> bool:
        """Nothing more is due now: mark complete campaigns sent; whether any of the
        campaigns this worker serves may still have something to send."""
        finish_campaigns(self._session, now=now)
        query = select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING)
        if self._settings.campaign_ids is not None:
            query = query.where(Campaign.id.in_(self._settings.campaign_ids))
        return self._session.execute(query.limit(1)).first() is not None

    def _factory(self, campaign_id: int) -> CampaignMessages | None:
        campaign = self._session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).options(selectinload(Campaign.lists))
        )
        editions = None if campaign is None else campaign_editions(campaign)
        if campaign is None or editions is None:
            return None
        return CampaignMessages(
            editions=editions,
            campaign=campaign,
            base_url=self._identity.base_url,
            key=self._identity.key,
            unsubscribe_mailbox=self._identity.bounce_address,
            feedback_sender=self._identity.feedback_sender,
        )

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # a dead connection cannot even roll back
            self._session.rollback()


class _WriterTurns:
    """Ledger rounds of the delivery processes sharing one SQLite file take turns on a lock
    file. SQLite's own busy handler polls, sleeping 1, 2, 5, 10... ms between tries, so two
    processes that want the write lock hundreds of times a second would spend most of it
    asleep; flock wakes the next one the moment the lock is free. Writers that are not
    ledgers (the web, the CLI) still meet SQLite's busy timeout as before."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> _WriterTurns:
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return cls(None)
        return cls(Path(f"{database}-ledger.lock"))

    def __enter__(self) -> None:
        if self._path is None:
            return
        if self._file is None:
            self._file = self._path.open("ab")
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# --- the worker -----------------------------------------------------------------------------

_Pending = tuple[Outcome, "asyncio.Future[None]"]  # a result and the commit it waits for


@dataclass(slots=True)
class _Job:
    """A claimed row made into a message, or the reason it could not be."""

    row: Claimed
    message_id: str = ""
    prepared: Prepared | None = None
    problem: str = ""


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
        self._retry = RetryPolicy(
            base=settings.retry_base,
            longest=settings.retry_max,
            max_attempts=settings.max_attempts,
        )
        self._stop = stop or threading.Event()
        self._on_progress = on_progress
        self._factories: dict[int, CampaignMessages | None] = {}
        self._envelopes: dict[int, EnvelopeSender] = {}
        self._results: list[_Pending] = []
        self._holding: set[int] = set()  # claimed rows not yet recorded or handed back
        self._ahead: dict[int, Claimed] = {}  # begun on a connection, not yet sent
        self._withdrawn: dict[int, str] = {}  # ahead rows not to send: "skip" or "release"
        self._release: list[int] = []
        self._skip: list[int] = []
        self._in_flight = 0
        self._recent: dict[int, deque[bool]] = {}
        self._pauses: dict[int, str] = {}
        self._health = WorkerHealth(
            beat=time.monotonic(), last_round=None, database_failing_since=None, database_error=None
        )

    def run(self) -> Progress:
        run_event_loop(self._run(), uvloop=self._settings.uvloop)
        return self.progress

    def health(self) -> WorkerHealth:
        """Safe to call from any thread while `run` runs in another."""
        return self._health

    # The whole: connections, the ledger's loop, a heartbeat

    async def _run(self) -> None:
        self._database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coopmail-ledger")
        ledger = Ledger(
            engine=self._engine,
            worker=self.worker_id,
            settings=self._settings,
            identity=self._identity,
        )
        self._work = _Buffer()
        self._wake = asyncio.Event()
        self._limiter = _RateLimiter(self._settings.rate_per_second)
        heartbeat = asyncio.create_task(self._heartbeat())
        connections = [
            asyncio.create_task(self._connection()) for _ in range(self._settings.concurrency)
        ]
        try:
            await self._ledger_loop(ledger)
        finally:
            # If the ledger failed for good, results are unrecorded: their rows stay
            # leased, and another worker takes them over. The connections must not wait.
            for _, done in self._results:
                if not done.done():
                    done.set_result(None)
            self._release += self._work.take(everything=True)
            for _ in connections:
                self._work.put(None)
            await asyncio.gather(*connections, return_exceptions=True)
            await self._hand_back(ledger)
            heartbeat.cancel()
            await self._in_thread(ledger.close)
            self._database.shutdown(wait=True)

    async def _ledger_loop(self, ledger: Ledger) -> None:
        concurrency = self._settings.concurrency
        while True:
            stopping = self._stop.is_set()
            if stopping:  # claimed rows no connection has taken go back at once
                self._release += self._work.take(everything=True)
            # Claim in chunks, and only when the buffer runs low: a claim costs a query.
            low = len(self._work) < 2 * concurrency
            chunk = _CLAIM_ROUNDS * concurrency - len(self._work) - self._in_flight
            want = 0 if stopping or not low else chunk
            pending, request = self._request(max(0, want))
            try:
                done = await self._with_retries(ledger.round, request, stopping=stopping)
            except BaseException:
                self._results = pending + self._results  # released in _run's cleanup
                raise
            self._settle(pending, request, done)
            if self._on_progress:
                self._on_progress(self.progress)
            idle = not (self._in_flight or len(self._work) or self._results)
            idle = idle and not (self._release or self._skip)
            if idle and (stopping or (self._settings.until_done and not done.active)):
                return
            if not (self._release or self._skip):
                await self._gather_results()

    async def _gather_results(self) -> None:
        """Wait for a round's worth of results: a round costs about as much for one result
        as for twenty, so it waits for half the connections' results, or for what arrived
        within _GROUP_WAIT of the first; with nothing in flight, it polls for due rows."""
        loop = asyncio.get_running_loop()
        wanted = max(1, min(self._settings.concurrency // 2, self._in_flight))
        deadline: float | None = None
        while len(self._results) < wanted:
            if self._results and deadline is None:
                deadline = loop.time() + _GROUP_WAIT
            wait = self._settings.poll_interval if deadline is None else deadline - loop.time()
            if wait <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                if deadline is None:
                    return  # a poll: perhaps rows became due
            wanted = max(1, min(self._settings.concurrency // 2, self._in_flight))

    def _request(self, want: int) -> tuple[list[_Pending], _RoundRequest]:
        pending, self._results = self._results, []
        pauses, self._pauses = self._pauses, {}
        self.progress.paused += [Paused(cid, reason) for cid, reason in pauses.items()]
        releases, self._release = self._release, []
        skips, self._skip = self._skip, []
        request = _RoundRequest(
            outcomes=[outcome for outcome, _ in pending],
            want=want,
            pauses=pauses,
            release=releases,
            skip=skips,
            unsent=[*self._work.ids(), *self._ahead],
            holding=frozenset(self._holding),
        )
        return pending, request

    def _settle(
        self,
        pending: list[_Pending],
        request: _RoundRequest,
        done: _Round,
    ) -> None:
        """After a committed round: wake the connections whose results it recorded, and
        sort the rows it claimed, skipped and handed back."""
        for _, future in pending:
            future.set_result(None)
        self._holding.difference_update(outcome.delivery_id for outcome in request.outcomes)
        self._holding.difference_update(request.release)
        self._holding.difference_update(request.skip)
        self.progress.skipped += done.skipped + len(request.skip)
        self.progress.taken_over += done.taken_over
        self._factories.update(done.factories)
        # A paused or cancelled campaign stops at once; an opt-out stops the next message.
        self._release += self._work.take(campaign_ids=done.inactive)
        self._skip += self._work.take(delivery_ids=done.ineligible)
        for delivery_id, row in self._ahead.items():
            if row.campaign_id in done.inactive:
                self._withdrawn[delivery_id] = "release"
            elif delivery_id in done.ineligible:
                self._withdrawn[delivery_id] = "skip"
        for row in done.claimed:
            self._holding.add(row.delivery_id)
            self._work.put(row)

    async def _hand_back(self, ledger: Ledger) -> None:
        """A last round for rows claimed and never sent, so nobody waits for a lease."""
        if not (self._release or self._skip):
            return
        _, request = self._request(0)
        with contextlib.suppress(Exception):  # their leases expire; another worker takes over
            await self._with_retries(ledger.round, request, stopping=True)

    async def _with_retries(
        self, call: Callable[[_RoundRequest], _T], request: _RoundRequest, *, stopping: bool
    ) -> _T:
        """The ledger call, tried again after transient database errors, waiting longer
        each time; a stopping worker gives up after _STOP_PATIENCE."""
        failures = 0
        first_failure = 0.0
        while True:
            try:
                value = await self._in_thread(call, request)
            except Exception as error:
                if not is_transient(error):
                    raise
                failures += 1
                first_failure = first_failure or time.monotonic()
                self._database_trouble(error, since=first_failure, failures=failures)
                stopping = stopping or self._stop.is_set()
                if stopping and time.monotonic() - first_failure > _STOP_PATIENCE:
                    raise
                await asyncio.sleep(self._settings.database_backoff.delay(failures))
                continue
            if failures:
                log.warning("the database answers again after %d failed rounds", failures)
                self.progress.database_trouble = None
            self._health = WorkerHealth(
                beat=self._health.beat,
                last_round=time.monotonic(),
                database_failing_since=None,
                database_error=None,
            )
            return value

    def _database_trouble(self, error: BaseException, *, since: float, failures: int) -> None:
        said = describe(error)
        if failures == 1 or failures % 20 == 0:
            log.warning(
                "the database did not answer (%s); trying again, attempt %d", said, failures
            )
        self.progress.database_trouble = said
        self._health = WorkerHealth(
            beat=self._health.beat,
            last_round=self._health.last_round,
            database_failing_since=since,
            database_error=said,
        )
        if self._on_progress:
            self._on_progress(self.progress)

    async def _in_thread(self, call: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._database, call, *args)

    async def _heartbeat(self) -> None:
        while True:
            health = self._health
            self._health = WorkerHealth(
                beat=time.monotonic(),
                last_round=health.last_round,
                database_failing_since=health.database_failing_since,
                database_error=health.database_error,
            )
            await asyncio.sleep(_HEARTBEAT_EVERY)

    # One connection: claim → personalise → send → record

    async def _connection(self) -> None:
        connection = SmtpConnection(settings=self._smtp)
        backoff = 0.0
        job: _Job | None = None
        try:
            while True:
                if job is None:
                    row = await self._claimed()
                    if row is None:
                        return
                    job = self._personalise(row)
                if job.prepared is None:
                    await self._record(job, None)
                    job = None
                    continue
                then = self._next_ready()
                if backoff:
                    await asyncio.sleep(backoff)
                await self._limiter.wait()
                result = await self._send(connection, job, then)
                await self._record(job, result)
                connected = result.stage != "connect"
                backoff = 0.0 if connected else min(30.0, max(1.0, backoff * 2))
                job = self._go_ahead(then)
        finally:
            await connection.close()

    async def _claimed(self) -> Claimed | None:
        """The next claimed row for this connection; None when the worker stops."""
        row = await self._work.get()
        if row is not None:
            self._in_flight += 1
        return row

    def _next_ready(self) -> _Job | None:
        """A claimed row already waiting, to begin in the same write as this message's end;
        none when the worker is stopping or the buffer is empty (no waiting for one)."""
        if self._stop.is_set():
            return None
        row = self._work.take_ready()
        if row is None:
            return None
        self._in_flight += 1
        self._ahead[row.delivery_id] = row
        return self._personalise(row)

    def _go_ahead(self, then: _Job | None) -> _Job | None:
        """The begun row is the next to send, unless it was withdrawn meanwhile (its
        person opted out, its campaign paused): the next send then drops the begun
        transaction with the connection, and the row is skipped or handed back."""
        if then is None:
            return None
        delivery_id = then.row.delivery_id
        self._ahead.pop(delivery_id, None)
        withdrawn = self._withdrawn.pop(delivery_id, None)
        if withdrawn is None:
            return then
        (self._skip if withdrawn == "skip" else self._release).append(delivery_id)
        self._in_flight -= 1
        self._wake.set()
        return None

    def _personalise(self, row: Claimed) -> _Job:
        factory = self._factories.get(row.campaign_id)
        if factory is None:
            return _Job(row=row, problem="the campaign has no rendering; queue it again")
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
                    version=row.version,
                    variant=row.variant,
                ),
                now=utcnow(),
                date_header=_date_header(),
                message_id=message_id,
            )
            if self._identity.dkim is not None:
                message = self._identity.dkim.sign(message)
            prepared = prepare(
                sender=self._envelope(row, factory),
                recipient=row.email,
                message=message,
                line_ends_checked=True,  # mailer.mime and mailer.dkim write CRLF alone
            )
        except ValueError as error:  # this person's data cannot make a valid message
            return _Job(row=row, problem=f"could not build the message: {error}")
        return _Job(row=row, message_id=message_id, prepared=prepared)

    async def _send(self, connection: SmtpConnection, job: _Job, then: _Job | None) -> SendResult:
        assert job.prepared is not None
        begin = then.prepared if then is not None else None
        return await connection.deliver(job.prepared, then=begin)

    async def _record(self, job: _Job, result: SendResult | None) -> None:
        """Judge the result, hand the outcome to the ledger and wait until it is committed:
        only then may this connection end another message."""
        row = job.row
        if result is None:
            self.progress.failed += 1
            outcome = Outcome(
                delivery_id=row.delivery_id, state=DeliveryState.FAILED, reply=job.problem
            )
        else:
            outcome = self._judge(row, result, job.message_id)
            self._watch_storm(row.campaign_id, result)
        done = asyncio.get_running_loop().create_future()
        self._results.append((outcome, done))
        self._wake.set()
        try:
            await done
        finally:
            self._in_flight -= 1

    def _judge(self, row: Claimed, result: SendResult, message_id: str) -> Outcome:
        judgement = judge_reply(result, attempts=row.attempts, policy=self._retry, now=utcnow())
        if judgement.tally is Tally.SENT:
            self.progress.sent += 1
        elif judgement.tally is Tally.FAILED:
            self.progress.failed += 1
        else:
            self.progress.retrying += 1
        if judgement.pause is not None:
            self._pauses[row.campaign_id] = judgement.pause
        return Outcome(
            delivery_id=row.delivery_id,
            state=judgement.state,
            code=judgement.code,
            reply=judgement.reply,
            message_id=message_id if judgement.state is DeliveryState.SENT else None,
            retry_at=judgement.retry_at,
            suppress_as=judgement.suppress_as,
            email=row.email if judgement.suppress_as is not None else "",
        )

    def _envelope(self, row: Claimed, factory: CampaignMessages) -> str:
        sender = self._envelopes.get(row.campaign_id)
        if sender is None:
            sender = self._envelopes[row.campaign_id] = EnvelopeSender(
                address=self._identity.bounce_address or factory.sender_address,
                verp=self._identity.verp,
                key=self._identity.key,
            )
        return sender.for_delivery(row.delivery_id)

    def _watch_storm(self, campaign_id: int, result: SendResult) -> None:
        """Pause a campaign when most of its recent messages fail: a misconfigured relay or
        a blocklisting should not burn through the whole list."""
        settings = self._settings
        recent = self._recent.setdefault(campaign_id, deque(maxlen=settings.storm_window))
        recent.append(result.outcome in (SmtpOutcome.DEFERRED, SmtpOutcome.REJECTED))
        failures = sum(recent)
        if len(recent) >= settings.storm_min and failures / len(recent) > settings.storm_ratio:
            self._pauses[campaign_id] = (
                f"paused automatically: {failures} of the last {len(recent)} messages failed "
                f"(last reply: {result.code or ''} {result.reply[:120]}); fix the cause, "
                "then resume the campaign"
            )
            recent.clear()


class _Buffer:
    """Claimed rows waiting for a connection; None tells a connection to stop."""

    def __init__(self) -> None:
        self._rows: deque[Claimed | None] = deque()
        self._ready = asyncio.Event()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def put(self, row: Claimed | None) -> None:
        self._rows.append(row)
        self._count += row is not None
        self._ready.set()

    async def get(self) -> Claimed | None:
        while not self._rows:
            self._ready.clear()
            await self._ready.wait()
        row = self._rows.popleft()
        self._count -= row is not None
        return row

    def take_ready(self) -> Claimed | None:
        """The first row if one is waiting (never a stop marker), without waiting."""
        if not self._rows or self._rows[0] is None:
            return None
        self._count -= 1
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
        if not (everything or campaign_ids or delivery_ids):
            return []
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
            self._count -= len(taken)
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
