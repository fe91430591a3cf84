"""Housekeeping: expired throttle counts, ended sessions and import files no import needs
are deleted by the leader."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from campaigns.compose import Composer
from coopmail import throttle
from coopmail.config import load_settings
from coopmail.db import session_scope
from coopmail.housekeeping import REJECTS_KEPT, purge_rejects, purge_uploads, tidy
from coopmail.jobs.models import JobState
from coopmail.jobs.runner import submit
from coopmail.jobs.work import BULK, IMPORT
from coopmail.scheduling import SchedulerService
from coopmail.staff import accounts
from coopmail.staff.models import SessionStage, StaffSession
from coopmail.staff.roles import Actor, Role
from coopmail.staff.sessions import SessionPolicy, start_session
from coopmail.throttle import ThrottleCount
from tests.conftest import Clock

POLICY = SessionPolicy.from_settings(load_settings(environ={}, cwd=Path("/")))


def test_tidy_deletes_only_what_has_expired(engine: Engine, clock: Clock) -> None:
    limit = throttle.Limit(name="test", limit=5, seconds=60)
    with session_scope(engine) as session:
        account = accounts.create_account(
            session,
            actor=Actor.system(),
            email="ana@coop.example.org",
            role=Role.VIEWER,
            now=clock(),
        )
        start_session(
            session,
            account=account,
            stage=SessionStage.ACTIVE,
            ip=None,
            user_agent=None,
            now=clock(),
        )
        throttle.record(session, limit=limit, key="old", now=clock())
    clock.advance(hours=9)
    with session_scope(engine) as session:
        start_session(
            session,
            account=account,
            stage=SessionStage.ACTIVE,
            ip=None,
            user_agent=None,
            now=clock(),
        )
        throttle.record(session, limit=limit, key="new", now=clock())
    tidied = tidy(engine, policy=POLICY, uploads=Path("/nonexistent"), now=clock())
    assert (tidied.throttle_counts, tidied.sessions, tidied.uploads, tidied.rejects) == (1, 1, 0, 0)
    with session_scope(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(StaffSession)) == 1
        assert session.scalar(select(func.count()).select_from(ThrottleCount)) == 1


def test_import_files_go_once_their_job_ends_or_after_a_day_without_one(
    engine: Engine, clock: Clock, tmp_path: Path
) -> None:
    """Before: every uploaded file stayed in the data folder for good, addresses and all."""
    folder = tmp_path / "imports"
    folder.mkdir()

    def upload(letter: str, *, hours_ago: float) -> str:
        name = letter * 32
        for suffix in (".csv", ".json"):
            path = folder / f"{name}{suffix}"
            path.write_text("email\nana@example.org\n")
            moment = (clock() - timedelta(hours=hours_ago)).timestamp()
            os.utime(path, (moment, moment))
        return name

    # Each upload's jobs, oldest first: the state and how many hours ago it finished.
    jobs: dict[str, list[tuple[JobState, float | None]]] = {
        upload("a", hours_ago=2): [(JobState.DONE, 1)],
        upload("b", hours_ago=30): [(JobState.FAILED, 23)],  # can still be started again
        upload("c", hours_ago=30): [(JobState.FAILED, 26)],
        upload("d", hours_ago=72): [(JobState.RUNNING, None)],  # a long import reads it
        upload("e", hours_ago=72): [(JobState.FAILED, 48), (JobState.QUEUED, None)],
    }
    abandoned = upload("f", hours_ago=25)
    fresh = upload("9", hours_ago=23)  # the mapping page may still be open
    (folder / f"{'a' * 32}.rejects.csv").write_text("line,reason\n")
    with session_scope(engine) as session:
        for name, runs in jobs.items():
            for state, hours_ago in runs:
                job = submit(
                    session,
                    kind=IMPORT,
                    parameters={"path": str(folder / f"{name}.csv")},
                    created_by=None,
                    now=clock(),
                )
                job.state = state
                if hours_ago is not None:
                    job.finished_at = clock() - timedelta(hours=hours_ago)
        # A bulk action is no import: its parameters name no upload.
        submit(session, kind=BULK, parameters={}, created_by=None, now=clock())

    assert purge_uploads(engine, folder=folder, now=clock()) == 3
    kept = {path.name for path in folder.iterdir()}
    still = ("b" * 32, "d" * 32, "e" * 32, fresh)
    assert kept == {f"{'a' * 32}.rejects.csv"} | {
        f"{name}{suffix}" for name in still for suffix in (".csv", ".json")
    }
    assert not (folder / f"{abandoned}.json").exists()
    clock.advance(hours=2)  # the fresh upload is a day old, the failed import a day ended
    assert purge_uploads(engine, folder=folder, now=clock()) == 2
    assert {path.name for path in folder.iterdir()} >= {f"{'d' * 32}.csv", f"{'e' * 32}.csv"}
    assert not (folder / f"{fresh}.csv").exists() and not (folder / f"{'b' * 32}.csv").exists()
    assert purge_uploads(engine, folder=tmp_path / "never-made", now=clock()) == 0


def test_the_scheduler_leader_runs_the_chores(engine: Engine) -> None:
    ran: list[datetime] = []
    done = threading.Event()

    def chore(now: datetime) -> None:
        ran.append(now)
        done.set()

    service = SchedulerService(
        engine=engine,
        composer=Composer(),
        timezone="UTC",
        grace=timedelta(seconds=60),
        sync_every=0.05,
        chores=chore,
        chores_every=timedelta(hours=1),
    )
    service.start()
    try:
        assert done.wait(10)
    finally:
        service.stop()
    assert len(ran) == 1  # not again within the hour


def test_a_rejects_file_goes_a_while_after_its_import_ended(
    engine: Engine, clock: Clock, tmp_path: Path
) -> None:
    """Before: the rows an import set aside stayed in the data folder for good."""
    folder = tmp_path / "imports"
    folder.mkdir()
    days = REJECTS_KEPT.days
    # Each rejects file's import: its state and how many days ago it ended.
    runs: dict[str, tuple[JobState, float | None]] = {
        "a": (JobState.DONE, days + 1),
        "b": (JobState.DONE, days - 1),  # still within the time to correct and import again
        "c": (JobState.FAILED, days + 1),
        "d": (JobState.RUNNING, None),  # still writing it
    }
    with session_scope(engine) as session:
        for letter, (state, days_ago) in runs.items():
            rejects = folder / f"{letter * 32}.rejects.csv"
            rejects.write_text("line,reason,email\n2,email: not an address,nobody\n")
            job = submit(
                session,
                kind=IMPORT,
                parameters={"path": str(folder / f"{letter * 32}.csv"), "rejects": str(rejects)},
                created_by=None,
                now=clock(),
            )
            job.state = state
            if days_ago is not None:
                job.finished_at = clock() - timedelta(days=days_ago)
    orphan = folder / f"{'e' * 32}.rejects.csv"  # no job names it: its age decides
    orphan.write_text("line,reason\n")
    moment = (clock() - timedelta(days=days + 1)).timestamp()
    os.utime(orphan, (moment, moment))
    (folder / "notes.txt").write_text("not ours to delete")

    assert purge_rejects(engine, folder=folder, now=clock()) == 3
    assert sorted(path.name for path in folder.iterdir()) == [
        f"{'b' * 32}.rejects.csv",
        f"{'d' * 32}.rejects.csv",
        "notes.txt",
    ]
    clock.advance(days=2)
    assert purge_rejects(engine, folder=folder, now=clock()) == 1  # b's time has come
    assert purge_rejects(engine, folder=tmp_path / "never-made", now=clock()) == 0
