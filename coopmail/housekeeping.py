"""Deleting what has expired, on the scheduler's leader every few minutes: throttle
counts no window can reach and staff sessions that have ended, which would be refused or
ignored anyway (this only keeps the tables small), and import files no import needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from coopmail import throttle
from coopmail.db import session_scope
from coopmail.jobs.models import Job, JobState
from coopmail.jobs.work import IMPORT
from coopmail.staff.sessions import SessionPolicy, purge_sessions

TIDY_EVERY = timedelta(minutes=10)
UPLOAD_KEPT = timedelta(days=1)  # an upload never imported is abandoned after this
_UPLOAD = re.compile(r"[0-9a-f]{32}\.csv")


@dataclass(frozen=True, kw_only=True)
class Tidied:
    throttle_counts: int
    sessions: int
    uploads: int


def tidy(engine: Engine, *, policy: SessionPolicy, uploads: Path, now: datetime) -> Tidied:
    """``uploads``: the folder of the admin's import files (coopmail.jobs.work)."""
    with session_scope(engine) as session:
        throttle_counts = throttle.purge(session, now=now)
        sessions = purge_sessions(session, policy=policy, now=now)
    return Tidied(
        throttle_counts=throttle_counts,
        sessions=sessions,
        uploads=purge_uploads(engine, folder=uploads, now=now),
    )


def purge_uploads(engine: Engine, *, folder: Path, now: datetime) -> int:
    """Delete the uploaded import files (``<id>.csv`` and its ``<id>.json``) that no import
    needs: once the last job reading one is done; a day after it failed (long enough to
    start it again from the same page); a day after the upload when no import was started
    (abandoned at the mapping page). They hold people's addresses. The job's rejects file
    stays for its page. Returns how many uploads went."""
    if not folder.is_dir():
        return 0
    with session_scope(engine, write=False) as session:
        jobs = session.execute(
            select(Job.parameters, Job.state, Job.finished_at)
            .where(Job.kind == IMPORT)
            .order_by(Job.id)
        )
        last_job = {Path(str(parameters.get("path"))).name: job for parameters, *job in jobs}
    before = now - UPLOAD_KEPT
    purged = 0
    for upload in folder.iterdir():
        if not _UPLOAD.fullmatch(upload.name):
            continue
        match last_job.get(upload.name):
            case None:
                done = datetime.fromtimestamp(upload.stat().st_mtime, tz=UTC) < before
            case [JobState.DONE, _]:
                done = True
            case [JobState.FAILED, finished_at]:
                done = finished_at is None or finished_at < before
            case _:
                done = False  # queued or running: the import still reads it
        if done:
            upload.unlink(missing_ok=True)
            upload.with_suffix(".json").unlink(missing_ok=True)
            purged += 1
    return purged
