"""Queue a background job, run it in a thread of `coopmail serve`, and tell a job whose
process died from one still running.

A job is a row of the jobs table (:mod:`coopmail.jobs.models`). The runner claims the
oldest queued row with a conditional UPDATE (so two `serve` processes never run the same
job), marks it with its host and pid, and runs the kind's work function, which reports its
progress as it goes; the outcome lands in the row: a result, or the error that stopped it.
A process killed mid-job leaves its row "running": at start-up, and on every look for
work, the runner marks such rows failed: on this host when their pid is gone, on any host
when they have not reported for ``stale_after``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from coopmail.db import session_scope
from coopmail.jobs.models import Job, JobState
from subscribers.base import utcnow

log = logging.getLogger("coopmail.jobs")
DIED = "the process running this job stopped before it finished"
STALE_AFTER = timedelta(minutes=10)
_REPORT_EVERY = 0.5  # seconds between two progress writes


@dataclass(frozen=True, kw_only=True)
class JobView:
    """A job as its work function sees it (copied out of the session that claimed it)."""

    id: int
    kind: str
    parameters: dict[str, Any]
    created_by: int | None


class Progress:
    """How far a job got: written to its row at most every half second (and at the end),
    each time in a transaction of its own, so the pages polling it see it move."""

    def __init__(self, *, engine: Engine, job_id: int, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._job_id = job_id
        self._clock = clock
        self._last = 0.0

    def report(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._last < _REPORT_EVERY:
            return
        self._last = time.monotonic()
        values: dict[str, Any] = {"done": done, "heartbeat_at": self._clock()}
        if total is not None:
            values["total"] = total
        with session_scope(self._engine) as session:
            session.execute(update(Job).where(Job.id == self._job_id).values(**values))


class JobWork(Protocol):
    def __call__(self, *, engine: Engine, job: JobView, progress: Progress) -> dict[str, Any]:
        """Do the job; the result is kept in its row. Raise to fail it."""
        ...


def submit(
    session: Session,
    *,
    kind: str,
    parameters: Mapping[str, Any],
    created_by: int | None,
    now: datetime,
    total: int | None = None,
) -> Job:
    """Queue a job, in the caller's transaction (with the audit entry that asked for it)."""
    job = Job(
        kind=kind,
        state=JobState.QUEUED,
        parameters=dict(parameters),
        done=0,
        total=total,
        created_by=created_by,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def fail_dead_jobs(
    session: Session,
    *,
    now: datetime,
    runner: str,
    started: bool = False,
    stale_after: timedelta = STALE_AFTER,
) -> list[int]:
    """Mark failed the running jobs whose process is gone; their ids.

    ``started``: ``runner`` has just started, so a job it is marked with was left by an
    earlier runner of this same process (a thread that died)."""
    host = runner.rpartition(":")[0]
    failed = []
    for job in session.scalars(select(Job).where(Job.state == JobState.RUNNING)):
        owner_host, _, owner_pid = (job.runner or "").rpartition(":")
        gone = owner_host == host and ((started and job.runner == runner) or not _alive(owner_pid))
        heartbeat = job.heartbeat_at or job.started_at or job.created_at
        if gone or heartbeat < now - stale_after:
            job.state = JobState.FAILED
            job.error = DIED
            job.finished_at = now
            failed.append(job.id)
    return failed


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@dataclass(kw_only=True)
class JobRunner:
    """The jobs' thread of `coopmail serve` (a part the supervisor keeps running)."""

    engine: Engine
    work: Mapping[str, JobWork]
    stop: threading.Event
    clock: Callable[[], datetime] = utcnow
    poll: float = 1.0
    runner: str = field(default_factory=this_process)
    name: str = "jobs"
    _thread: threading.Thread | None = None

    def start(self) -> None:
        if self.running():
            return
        with session_scope(self.engine) as session:
            for job_id in fail_dead_jobs(
                session, now=self.clock(), runner=self.runner, started=True
            ):
                log.warning("job %s was left running by a process that stopped: failed", job_id)
        self._thread = threading.Thread(target=self._loop, name="coopmail-jobs", daemon=True)
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def state(self) -> str:
        return "running"

    def join(self, *, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while not self.stop.is_set():
            if not self.run_next():
                self.stop.wait(self.poll)

    def run_next(self) -> bool:
        """Claim the oldest queued job and run it to its end; False when none was queued."""
        now = self.clock()
        with session_scope(self.engine) as session:
            fail_dead_jobs(session, now=now, runner=self.runner)
            candidate = session.scalar(
                select(Job.id).where(Job.state == JobState.QUEUED).order_by(Job.id).limit(1)
            )
            if candidate is None:
                return False
            claimed = session.execute(
                update(Job)
                .where(Job.id == candidate, Job.state == JobState.QUEUED)
                .values(
                    state=JobState.RUNNING, runner=self.runner, started_at=now, heartbeat_at=now
                )
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]  # another process took it
                return True
            job = session.get(Job, candidate)
            assert job is not None
            view = JobView(
                id=job.id, kind=job.kind, parameters=dict(job.parameters), created_by=job.created_by
            )
        self._run(view)
        return True

    def _run(self, job: JobView) -> None:
        progress = Progress(engine=self.engine, job_id=job.id, clock=self.clock)
        work = self.work.get(job.kind)
        result: dict[str, Any] | None = None
        error: str | None = None
        try:
            if work is None:
                raise LookupError(f"no work is known for jobs of kind {job.kind!r}")
            result = work(engine=self.engine, job=job, progress=progress)
        except Exception as failure:  # the row says why; the runner goes on with the next
            log.exception("job %s (%s) failed", job.id, job.kind)
            error = str(failure) or type(failure).__name__
        with session_scope(self.engine) as session:
            values: dict[str, Any] = {"finished_at": self.clock()}
            if error is None:
                values.update(state=JobState.DONE, result=result)
            else:
                values.update(state=JobState.FAILED, error=error)
            session.execute(update(Job).where(Job.id == job.id).values(**values))


def find_job(session: Session, *, job_id: int) -> Job | None:
    return session.get(Job, job_id)
