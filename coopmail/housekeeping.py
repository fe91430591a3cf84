"""Deleting what has expired, on the scheduler's leader every few minutes: throttle
counts no window can reach and staff sessions that have ended, which would be refused or
ignored anyway (this only keeps the tables small), and import files no import needs: they
hold people's addresses."""

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
REJECTS_KEPT = timedelta(days=30)  # long enough to correct the rows and import them again
_UPLOAD = re.compile(r"[0-9a-f]{32}\.csv")
_REJECTS = re.compile(r"[0-9a-f]{32}\.rejects\.csv")


@dataclass(frozen=True, kw_only=True)
class Tidied:
    throttle_counts: int
    sessions: int
    uploads: int
    rejects: int


def tidy(engine: Engine, *, policy: SessionPolicy, uploads: Path, now: datetime) -> Tidied:
    """``uploads``: the folder of the admin's import files (coopmail.jobs.work)."""
    with session_scope(engine) as session:
        throttle_counts = throttle.purge(session, now=now)
        sessions = purge_sessions(session, policy=policy, now=now)
    return Tidied(
        throttle_counts=throttle_counts,
        sessions=sessions,
        uploads=purge_uploads(engine, folder=uploads, now=now),
        rejects=purge_rejects(engine, folder=uploads, now=now),
    )


def purge_uploads(engine: Engine, *, folder: Path, now: datetime) -> int:
    """Delete the uploaded import files (``<id>.csv`` and its ``<id>.json``) that no import
    needs: once the last job reading one is done; a day after it failed (long enough to
    start it again from the same page); a day after the upload when no import was started
    (abandoned at the mapping page). They hold people's addresses. Returns how many
    uploads went."""
    if not folder.is_dir():
        return 0
    last_job = _import_files(engine)
    before = now - UPLOAD_KEPT
    purged = 0
    for upload in folder.iterdir():
        if not _UPLOAD.fullmatch(upload.name):
            continue
        match last_job.get(upload.name):
            case None:
                done = _modified(upload) < before
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


def purge_rejects(engine: Engine, *, folder: Path, now: datetime) -> int:
    """Delete the rejects files (``<id>.rejects.csv``: the rows an import set aside, with
    their addresses) ``REJECTS_KEPT`` after their import ended; the import's page says
    so. A file no job names goes as long after it was written. Returns how many went."""
    if not folder.is_dir():
        return 0
    job_of = _import_files(engine)
    before = now - REJECTS_KEPT
    purged = 0
    for rejects in folder.iterdir():
        if not _REJECTS.fullmatch(rejects.name):
            continue
        match job_of.get(rejects.name):
            case None:
                done = _modified(rejects) < before
            case [JobState.DONE | JobState.FAILED, finished_at]:
                done = finished_at is not None and finished_at < before
            case _:
                done = False
        if done:
            rejects.unlink(missing_ok=True)
            purged += 1
    return purged


def _import_files(engine: Engine) -> dict[str, tuple[JobState, datetime | None]]:
    """Each file an import job names (its upload, its rejects file), with the state and end
    of the last job that names it."""
    with session_scope(engine, write=False) as session:
        jobs = session.execute(
            select(Job.parameters, Job.state, Job.finished_at)
            .where(Job.kind == IMPORT)
            .order_by(Job.id)
        )
        named: dict[str, tuple[JobState, datetime | None]] = {}
        for parameters, state, finished_at in jobs:
            for key in ("path", "rejects"):
                if parameters.get(key):
                    named[Path(str(parameters[key])).name] = (state, finished_at)
    return named


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
