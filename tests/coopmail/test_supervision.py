"""`coopmail serve` survives a database that goes away for a while: the scheduler waits and
tries again, a part that still dies is restarted, and /health says what is failing."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from campaigns.compose import Composer
from campaigns.transient import Backoff
from campaigns.worker import WorkerHealth
from coopmail.config import load_settings
from coopmail.db import make_engine
from coopmail.scheduling import SchedulerService
from coopmail.serving import WorkerPart
from coopmail.supervision import Supervisor, health_report, probe_database
from coopmail.web import WebContext, create_app
from tests.dblocks import impatient_engine, locked

KEY = "a-test-secret-key-of-some-length"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Runner:
    """Stands in for a DeliveryWorker's run(): fails at once the first ``failures`` times,
    then runs until released."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.starts = 0
        self.release = threading.Event()
        self.last_beat: float | None = None  # None: beats all the time
        self.database_failing = False

    def health(self) -> WorkerHealth:
        now = time.monotonic()
        return WorkerHealth(
            beat=now if self.last_beat is None else self.last_beat,
            last_round=None,
            database_failing_since=now if self.database_failing else None,
            database_error="database is locked" if self.database_failing else None,
        )

    def make(self) -> Runner:
        self.starts += 1
        return self

    def run(self) -> None:
        if self.starts <= self.failures:
            raise RuntimeError("the relay vanished")
        self.release.wait(10)


def settled(part: WorkerPart) -> None:
    """Wait for the part's thread to have failed (it fails at once)."""
    for _ in range(1000):
        if not part.running():
            return
        threading.Event().wait(0.001)


def test_a_stopped_part_is_restarted_after_a_capped_backoff_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = Runner(failures=2)
    worker = WorkerPart(runner.make)  # type: ignore[arg-type]
    clock = Clock()
    supervisor = Supervisor(parts=[worker], backoff=Backoff(first=1, cap=4), clock=clock)
    caplog.set_level(logging.WARNING, logger="coopmail.serve")
    supervisor.start()
    settled(worker)
    assert supervisor.report() == {"worker": "stopped"}
    assert "the delivery worker stopped on an error" in caplog.text

    supervisor.check()  # seen stopped: restart in 1 s
    assert runner.starts == 1 and "the worker is not running; restarting it in 1 s" in caplog.text
    clock.now += 0.5
    supervisor.check()
    assert runner.starts == 1  # still waiting
    clock.now += 0.5
    supervisor.check()
    assert runner.starts == 2 and "restarting the worker (restart 1)" in caplog.text
    settled(worker)

    supervisor.check()  # the second failure in a row waits twice as long
    assert "restarting it in 2 s" in caplog.text
    clock.now += 2
    supervisor.check()
    assert runner.starts == 3 and "restart 2" in caplog.text
    for _ in range(1000):
        if worker.running():
            break
        threading.Event().wait(0.001)
    assert supervisor.report() == {"worker": "running"}
    assert supervisor.restarts() == {"worker": 2}
    runner.release.set()
    worker.join(timeout=10)


def test_a_worker_whose_loop_stopped_beating_counts_as_stopped() -> None:
    runner = Runner(failures=0)
    worker = WorkerPart(runner.make)  # type: ignore[arg-type]
    worker.start()
    assert worker.running() and worker.state() == "running"
    runner.database_failing = True
    assert worker.running() and worker.state() == "waiting for the database"
    runner.last_beat = time.monotonic() - WorkerPart.STUCK_AFTER - 1  # alive, but stuck
    assert not worker.running()
    runner.release.set()
    worker.join(timeout=10)


def test_health_is_503_and_names_a_stopped_part(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    runner = Runner(failures=1)
    worker = WorkerPart(runner.make)  # type: ignore[arg-type]
    supervisor = Supervisor(parts=[worker], clock=Clock())
    supervisor.start()
    settled(worker)
    client = _client(engine, database_url, tmp_path, supervisor)
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "failing",
        "failing": ["worker"],
        "database": "ok",
        "worker": "stopped",
    }
    worker.start()
    for _ in range(1000):
        if worker.running():
            break
        threading.Event().wait(0.001)
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok" and answer.json()["failing"] == []
    runner.release.set()
    worker.join(timeout=10)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/not-a-database.db",
        pytest.param("postgresql+psycopg://postgres@127.0.0.1:1/test", marks=pytest.mark.postgres),
    ],
)
def test_health_is_503_and_names_the_database_when_it_does_not_answer(
    url: str, tmp_path: Path
) -> None:
    (tmp_path / "not-a-database.db").write_bytes(b"this is no SQLite file " * 100)
    unreachable = make_engine(url.format(tmp=tmp_path))
    report = health_report(database=probe_database(unreachable), parts={"scheduler": "leader"})
    assert report["status"] == "failing" and report["failing"] == ["database"]
    assert str(report["database"]).startswith("unreachable: ")
    unreachable.dispose()


def _client(
    engine: Engine, database_url: str, tmp_path: Path, supervisor: Supervisor
) -> TestClient:
    settings = load_settings(
        environ={"COOPMAIL_DATABASE_URL": database_url, "COOPMAIL_SECRET_KEY": KEY}, cwd=tmp_path
    )
    context = WebContext(
        engine=engine,
        settings=settings,
        composer=Composer(),
        health=lambda: health_report(database=probe_database(engine), parts=supervisor.report()),
    )
    return TestClient(create_app(context=context))


# --- the scheduler through a locked database -------------------------------------------


def test_the_scheduler_waits_out_a_locked_database_with_capped_backoff(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: "the scheduler stopped on an error", and it never came back."""
    engine = impatient_engine(database_url)
    waits: list[float] = []
    caplog.set_level(logging.INFO, logger="coopmail.scheduler")
    with locked(database_url) as release:

        def wait(seconds: float) -> bool:
            waits.append(seconds)
            if len(waits) == 4:
                release()  # the backup is over
            if service.role == "leader":
                service.stop()
            return False

        service = SchedulerService(
            engine=engine,
            composer=Composer(),
            timezone="UTC",
            grace=timedelta(hours=1),
            backoff=Backoff(first=1, cap=4),
            wait=wait,
        )
        service.start()
        service._thread.join(timeout=30)  # type: ignore[union-attr]
    engine.dispose()
    assert waits[:4] == [1, 2, 4, 4]  # doubling, capped
    assert "the database did not answer" in caplog.text
    assert "the database answers again; the scheduler carries on" in caplog.text
    assert "holding the scheduler role" in caplog.text
    assert "stopped on an error" not in caplog.text
