"""The one scheduler: APScheduler 3 with its job store in the project's database.

APScheduler 3 cannot share a job store between processes, so exactly one process holds the
scheduler role, through a lease in the `locks` table; any other `coopmail serve` waits on
standby and takes over when the lease lapses. The campaigns table says what is scheduled
(any process may change it); the leader mirrors that into APScheduler's jobs every second,
and APScheduler decides, with the misfire grace period, whether a late job still runs or
was missed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.digest import DigestRun, build_issue, draft_issue, list_digests, previous_month
from campaigns.models import Digest
from campaigns.outbox import new_worker_id
from campaigns.schedule import mark_missed, render_due, scheduled_campaigns, start_scheduled
from campaigns.transient import Backoff, describe, is_transient
from coopmail.db import for_writing, session_scope
from coopmail.locks import Lock
from coopmail.transient import DEFAULT_BACKOFF, retry_transient
from subscribers.base import utcnow

log = logging.getLogger("coopmail.scheduler")
T = TypeVar("T")

LOCK_NAME = "scheduler"
_JOB_PREFIX = "campaign-"
_DIGEST_PREFIX = "digest-"
_ACTIVE: dict[str, SchedulerService] = {}  # the service whose jobs run in this process


class SchedulerService:
    """The scheduler role, as a part `coopmail serve` supervises (see supervision.Part)."""

    name = "scheduler"

    def __init__(
        self,
        *,
        engine: Engine,
        composer: Composer,
        timezone: str,
        grace: timedelta,
        sender: str = "Cooperatives Unit <coop@example.org>",
        sync_every: float = 1.0,
        lease: timedelta = timedelta(seconds=15),
        chores: Callable[[datetime], object] | None = None,
        chores_every: timedelta = timedelta(minutes=10),
        backoff: Backoff = DEFAULT_BACKOFF,
        wait: Callable[[float], object] | None = None,
        on_issue: Callable[[DigestRun], object] | None = None,
    ) -> None:
        """``wait(seconds)`` pauses between rounds (by default until stop() is called);
        tests give their own to count the pauses instead of sleeping."""
        self.owner = new_worker_id()
        self._engine = for_writing(engine)
        self._reader = engine  # SQLite transactions that never take the write lock
        self._composer = composer
        self._sender = sender
        self._on_issue = on_issue  # told of every digest issue built (the admins' mail)
        self._zone = ZoneInfo(timezone)
        self._grace = grace
        self._sync_every = sync_every
        self._lease = lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._chores = chores  # housekeeping, run by the leader only
        self._chores_every = chores_every
        self._chores_done: datetime | None = None
        self._backoff = backoff
        self._wait = wait or self._stop.wait
        self.rounds = 0  # rounds completed, leading or standing by: tells a first try from none

    @property
    def role(self) -> str:
        return "leader" if self._scheduler is not None else "standby"

    def start(self) -> None:
        """Start (or, after it died, restart) the scheduler's thread."""
        if self.running():
            return
        self._thread = threading.Thread(target=self._run, name="coopmail-scheduler", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def state(self) -> str:
        return self.role

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        announced_standby = False
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    leading = self._round()
                except Exception as error:
                    if not is_transient(error):
                        raise
                    failures += 1
                    delay = self._backoff.delay(failures)
                    log.warning(
                        "the database did not answer (%s); the scheduler tries again in %.0f s",
                        describe(error),
                        delay,
                    )
                    self._wait(delay)
                    continue
                self.rounds += 1
                if failures:
                    log.info("the database answers again; the scheduler carries on")
                    failures = 0
                if not leading and not announced_standby:
                    log.info("another process holds the scheduler role; standing by")
                    announced_standby = True
                self._wait(self._sync_every)
        except Exception:  # a scheduler that dies silently is worse than one that says so
            log.exception("the scheduler stopped on an error")
        finally:
            self._step_down()
            with contextlib.suppress(Exception):  # the database may be what failed
                self._release_lock()

    def _round(self) -> bool:
        """Hold the role and mirror the campaigns into the jobs; True while leading."""
        if self._hold_lock():
            if self._scheduler is None:
                self._lead()
            self._sync()
            self._housekeeping()
            return True
        if self._scheduler is not None:
            log.warning("lost the scheduler lock; standing by")
            self._step_down()
        return False

    def _retrying(self, what: str, action: Callable[[], T]) -> T:
        """A job's database work, tried again while the database is briefly away."""
        return retry_transient(action, what=what, backoff=self._backoff, wait=self._wait)

    def _lead(self) -> None:
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self._engine)},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={
                "misfire_grace_time": int(self._grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=UTC,
        )
        scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        _ACTIVE["service"] = self
        scheduler.start()
        self._scheduler = scheduler
        log.info("holding the scheduler role (%s)", self.owner)

    def _housekeeping(self) -> None:
        now = utcnow()
        if self._chores is None or (
            self._chores_done is not None and now - self._chores_done < self._chores_every
        ):
            return
        self._chores_done = now
        try:
            self._chores(now)
        except Exception:  # tidying up never stops the scheduler
            log.exception("housekeeping failed; it runs again in %s", self._chores_every)

    def _step_down(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
            _ACTIVE.pop("service", None)

    def _sync(self) -> None:
        """Make the jobs say what the campaigns table says."""
        assert self._scheduler is not None
        with Session(self._engine) as session:
            wanted = scheduled_campaigns(session)
        jobs = {job.id: job for job in self._scheduler.get_jobs() if job.id.startswith(_JOB_PREFIX)}
        for campaign_id, at in wanted.items():
            job = jobs.get(f"{_JOB_PREFIX}{campaign_id}")
            if job is None or job.args[1] != at.isoformat():
                self._scheduler.add_job(
                    fire_campaign,
                    trigger="date",
                    run_date=at,
                    id=f"{_JOB_PREFIX}{campaign_id}",
                    args=[campaign_id, at.isoformat()],
                    replace_existing=True,
                )
                log.info("campaign %s will start at %s", campaign_id, self.local(at))
        for job_id in set(jobs) - {f"{_JOB_PREFIX}{cid}" for cid in wanted}:
            self._scheduler.remove_job(job_id)
        self._sync_digests()

    def _sync_digests(self) -> None:
        assert self._scheduler is not None
        with Session(self._engine) as session:
            wanted = {digest.id: digest.cron for digest in list_digests(session)}
        jobs = {
            job.id: job for job in self._scheduler.get_jobs() if job.id.startswith(_DIGEST_PREFIX)
        }
        for digest_id, cron in wanted.items():
            job = jobs.get(f"{_DIGEST_PREFIX}{digest_id}")
            if job is None or job.args[1] != cron:
                self._scheduler.add_job(
                    run_digest,
                    trigger=CronTrigger.from_crontab(cron, timezone=self._zone),
                    id=f"{_DIGEST_PREFIX}{digest_id}",
                    args=[digest_id, cron],
                    replace_existing=True,
                )
                log.info("digest %s runs on '%s' (%s)", digest_id, cron, self._zone.key)
        for job_id in set(jobs) - {f"{_DIGEST_PREFIX}{did}" for did in wanted}:
            self._scheduler.remove_job(job_id)

    def _missed(self, event: JobExecutionEvent) -> None:
        if event.job_id.startswith(_DIGEST_PREFIX):
            log.warning(
                "a digest run was missed (%s); build that month with `coopmail digest "
                "run --list NAME --month YYYY-MM`",
                self.local(event.scheduled_run_time),
            )
            return
        if not event.job_id.startswith(_JOB_PREFIX):
            return
        campaign_id = int(event.job_id[len(_JOB_PREFIX) :])
        scheduled_for = event.scheduled_run_time.astimezone(UTC)
        self._retrying(
            f"campaign {campaign_id}", lambda: self._mark_missed(campaign_id, scheduled_for)
        )

    def _mark_missed(self, campaign_id: int, scheduled_for: datetime) -> None:
        with session_scope(self._engine) as session:
            if mark_missed(
                session,
                campaign_id=campaign_id,
                scheduled_for=scheduled_for,
                now=utcnow(),
                local=self.local(scheduled_for),
            ):
                log.warning(
                    "campaign %s missed its time (%s); it waits for a person",
                    campaign_id,
                    self.local(scheduled_for),
                )

    def fire(self, campaign_id: int, scheduled_for: datetime) -> None:
        self._retrying(f"campaign {campaign_id}", lambda: self._fire(campaign_id, scheduled_for))

    def _fire(self, campaign_id: int, scheduled_for: datetime) -> None:
        with session_scope(self._reader, write=False) as session:  # render: no write lock
            rendering = render_due(
                session,
                campaign_id=campaign_id,
                scheduled_for=scheduled_for,
                composer=self._composer,
            )
        if rendering is None:
            return
        with session_scope(self._engine) as session:
            queued = start_scheduled(
                session,
                campaign_id=campaign_id,
                scheduled_for=scheduled_for,
                composer=self._composer,
                now=utcnow(),
                unit_zone=self._zone.key,
                rendering=rendering,
            )
        if queued is not None:
            log.info("campaign %s started on schedule: %s recipients queued", campaign_id, queued)

    def build_digest(self, digest_id: int, scheduled_for: datetime) -> None:
        """The issue for the month before the run's date, in the unit's time zone."""
        self._retrying(f"digest {digest_id}", lambda: self._build_digest(digest_id, scheduled_for))

    def _build_digest(self, digest_id: int, scheduled_for: datetime) -> None:
        year, month = previous_month(scheduled_for.astimezone(self._zone).date())
        with session_scope(self._reader, write=False) as session:  # render: no write lock
            digest = session.get(Digest, digest_id)
            if digest is None:
                return
            draft = draft_issue(
                session, digest=digest, year=year, month=month, composer=self._composer
            )
        if isinstance(draft, DigestRun):
            log.info("digest %s: %s", digest_id, draft.message)
            return
        with session_scope(self._engine) as session:
            digest = session.get(Digest, digest_id)
            if digest is None:
                return
            result = build_issue(
                session,
                digest=digest,
                year=year,
                month=month,
                composer=self._composer,
                sender=self._sender,
                now=utcnow(),
                draft=draft,
            )
        log.info("digest %s: %s", digest_id, result.message)
        if self._on_issue is not None:
            self._on_issue(result)

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self._zone).strftime("%Y-%m-%d %H:%M %Z")

    def _hold_lock(self) -> bool:
        """Take or renew the lease; True while this process is the one scheduler."""
        now = utcnow()
        with session_scope(self._engine) as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            session.execute(
                dialect.insert(Lock)
                .values(name=LOCK_NAME, owner=self.owner, expires_at=now + self._lease)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            result = session.execute(
                update(Lock)
                .where(Lock.name == LOCK_NAME)
                .where((Lock.owner == self.owner) | (Lock.expires_at < now))
                .values(owner=self.owner, expires_at=now + self._lease)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _release_lock(self) -> None:
        with session_scope(self._engine) as session:
            session.execute(
                update(Lock)
                .where(Lock.name == LOCK_NAME, Lock.owner == self.owner)
                .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
                .execution_options(synchronize_session=False)
            )


def run_digest(digest_id: int, *_: Any) -> None:
    """The digest's cron job; it builds the issue for the previous month."""
    service = _ACTIVE.get("service")
    if service is None:
        raise RuntimeError("a digest job ran outside a running scheduler")
    service.build_digest(digest_id, utcnow())


def fire_campaign(campaign_id: int, scheduled_for: str, *_: Any) -> None:
    """The job APScheduler stores by reference: it runs in the process holding the role."""
    service = _ACTIVE.get("service")
    if service is None:
        raise RuntimeError("a campaign job ran outside a running scheduler")
    service.fire(campaign_id, datetime.fromisoformat(scheduled_for))
