"""The jobs runner: a job runs once and keeps its result, a failing job keeps its error,
and a job whose process died is marked failed instead of staying "running" forever."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from coopmail.db import session_scope
from coopmail.jobs.models import Job, JobState
from coopmail.jobs.runner import DIED, JobRunner, JobView, Progress, submit
from tests.conftest import Clock


def counting(*, engine: Engine, job: JobView, progress: Progress) -> dict[str, Any]:
    for done in range(1, 4):
        progress.report(done, 3, force=True)
    return {"counted": job.parameters["up_to"]}


def failing(*, engine: Engine, job: JobView, progress: Progress) -> dict[str, Any]:
    progress.report(1, 10, force=True)
    raise RuntimeError("the list 'letters' was deleted meanwhile")


def runner(engine: Engine, clock: Clock, name: str = "") -> JobRunner:
    work = {"count": counting, "fail": failing}
    options = {"runner": name} if name else {}
    return JobRunner(engine=engine, work=work, stop=threading.Event(), clock=clock, **options)


def queue(engine: Engine, clock: Clock, kind: str, **parameters: Any) -> int:
    with session_scope(engine) as session:
        return submit(session, kind=kind, parameters=parameters, created_by=7, now=clock()).id


def job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def test_a_job_runs_once_and_keeps_its_result(engine: Engine, clock: Clock) -> None:
    job_id = queue(engine, clock, "count", up_to=3)
    first, second = runner(engine, clock, "a:1"), runner(engine, clock, "b:2")
    assert first.run_next()
    assert not second.run_next()  # nothing left queued
    done = job(engine, job_id)
    assert (done.state, done.done, done.total, done.result) == (
        JobState.DONE,
        3,
        3,
        {"counted": 3},
    )
    assert done.runner == "a:1" and done.error is None and done.finished_at is not None


def test_a_failed_job_records_its_error_and_the_next_one_runs(engine: Engine, clock: Clock) -> None:
    failed_id = queue(engine, clock, "fail")
    next_id = queue(engine, clock, "count", up_to=1)
    unknown_id = queue(engine, clock, "no-such-kind")
    jobs = runner(engine, clock)
    while jobs.run_next():
        pass
    failed = job(engine, failed_id)
    assert failed.state is JobState.FAILED
    assert failed.error == "the list 'letters' was deleted meanwhile"
    assert failed.done == 1  # how far it got stays visible
    assert job(engine, next_id).state is JobState.DONE
    assert "no-such-kind" in (job(engine, unknown_id).error or "")


def test_a_job_left_running_by_a_dead_process_is_failed_at_start_up(
    engine: Engine, clock: Clock
) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = socket.gethostname()
    orphan = queue(engine, clock, "count", up_to=1)
    elsewhere = queue(engine, clock, "count", up_to=1)
    with session_scope(engine) as session:
        for job_id, owner in ((orphan, f"{host}:{gone.stdout.strip()}"), (elsewhere, "other:1")):
            row = session.get(Job, job_id)
            assert row is not None
            row.state, row.runner, row.heartbeat_at = JobState.RUNNING, owner, clock()
    jobs = runner(engine, clock)
    jobs.start()
    jobs.stop.set()
    jobs.join(timeout=10)
    dead = job(engine, orphan)
    assert (dead.state, dead.error) == (JobState.FAILED, DIED)
    # Another host's job is left to it while it keeps reporting ...
    assert job(engine, elsewhere).state is JobState.RUNNING
    # ... and failed once it has been silent too long.
    clock.advance(minutes=11)
    assert not runner(engine, clock).run_next()
    assert job(engine, elsewhere).state is JobState.FAILED


def test_a_running_job_of_a_live_process_is_left_alone(engine: Engine, clock: Clock) -> None:
    host = socket.gethostname()
    live = queue(engine, clock, "count", up_to=1)
    with session_scope(engine) as session:
        row = session.get(Job, live)
        assert row is not None
        row.state, row.runner, row.heartbeat_at = JobState.RUNNING, f"{host}:1", clock()
    clock.advance(minutes=5)
    assert not runner(engine, clock, f"{host}:999999").run_next()
    assert job(engine, live).state is JobState.RUNNING
