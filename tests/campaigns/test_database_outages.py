"""The database goes away mid-send and comes back: the worker waits it out, and the campaign
still reaches every recipient exactly once.

SQLite: another connection holds `BEGIN EXCLUSIVE` past the worker's busy timeout (made short
here so the test does not wait 30 s). PostgreSQL: the worker's backends are terminated with
pg_terminate_backend while it sends, as a server restart or an administrator would.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryState
from campaigns.outbox import claim, delivery_counts, release_orphans
from campaigns.transient import is_transient
from campaigns.worker import DeliveryWorker, Progress, WorkerSettings
from coopmail.db import for_writing, make_engine
from mailer.smtp import SmtpSettings
from tests.campaigns.test_delivery import IDENTITY, letter, people, queue
from tests.smtp_server import RecordingSmtpServer

SETTINGS = WorkerSettings(concurrency=3, poll_interval=0.02, until_done=True)


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Sending:
    """A DeliveryWorker in a thread, with every progress report kept."""

    def __init__(self, engine: Engine, server: RecordingSmtpServer) -> None:
        self.reports: list[str | None] = []
        self.errors: list[BaseException] = []
        self.worker = DeliveryWorker(
            engine=for_writing(engine),
            smtp=SmtpSettings.from_url(server.url),
            settings=SETTINGS,
            identity=IDENTITY,
            on_progress=self._report,
        )
        self.thread = threading.Thread(target=self._run)

    def _report(self, progress: Progress) -> None:
        self.reports.append(progress.database_trouble)

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as error:
            self.errors.append(error)

    def __enter__(self) -> Sending:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the worker did not finish"


def assert_sent_once(session: Session, server: RecordingSmtpServer, addresses: list[str]) -> None:
    assert server.recipients() == dict.fromkeys(addresses, 1)
    session.rollback()
    counts = delivery_counts(session, campaign_id=session.scalars(select(Campaign.id)).one())
    assert counts["sent"] == len(addresses) and counts["queued"] == counts["sending"] == 0
    assert session.scalars(select(Campaign.status)).one() is CampaignStatus.SENT


def test_a_lock_held_past_the_busy_timeout_is_waited_out(
    tmp_path: Path, smtp_server: RecordingSmtpServer, _sqlite_template: Path
) -> None:
    path = tmp_path / "locked.db"
    path.write_bytes(_sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def short_busy_timeout(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA busy_timeout=50")  # after make_engine's own 30 s

    with Session(for_writing(engine)) as session:
        addresses = people(session, "partners", 60)
        queue(session, letter(session, tmp_path, ["partners"]))
        smtp_server.slow(0.01, stage="message")
        with Sending(engine, smtp_server) as sending:
            smtp_server.wait_for(10, timeout=30)
            holder = sqlite3.connect(path, isolation_level=None, timeout=10)
            holder.execute("BEGIN EXCLUSIVE")
            try:
                wait_until(
                    lambda: sending.worker.health().database_failing_since is not None,
                    timeout=30,
                    what="the worker to meet the lock",
                )
                time.sleep(0.3)  # several failed rounds, each past the 50 ms timeout
                assert sending.thread.is_alive() and sending.worker.health().is_alive()
                assert "database is locked" in (sending.worker.health().database_error or "")
            finally:
                holder.execute("COMMIT")
                holder.close()
        assert not sending.errors
        assert any(report and "locked" in report for report in sending.reports)
        assert sending.reports[-1] is None  # it says so when the database answers again
        assert sending.worker.health().database_failing_since is None
        assert_sent_once(session, smtp_server, addresses)
    engine.dispose()


def named_url(base: str, name: str) -> str:
    url = make_url(base).update_query_dict({"application_name": name})
    return url.render_as_string(hide_password=False)


def terminate(admin: Engine, name: str) -> int:
    with admin.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": name},
        ).scalar_one()
        connection.commit()
    return int(killed)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """The test schema's URL; the tests below run on PostgreSQL only (parametrised so)."""
    return database_url


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_terminated_backends_are_reconnected_mid_send(
    postgres_url: str, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    name = f"coopmail-outage-{uuid.uuid4().hex[:8]}"
    engine = make_engine(named_url(postgres_url, name))
    admin = create_engine(postgres_url)
    with Session(for_writing(engine)) as session:
        addresses = people(session, "partners", 120)
        queue(session, letter(session, tmp_path, ["partners"]))
        smtp_server.slow(0.005, stage="message")
        killed = 0
        with Sending(engine, smtp_server) as sending:
            for threshold in (15, 45, 80):
                smtp_server.wait_for(threshold, timeout=60)
                for _ in range(10):  # again and again, so a round is hit mid-transaction
                    killed += terminate(admin, name)
                    time.sleep(0.01)
        assert killed >= 3
        assert any(sending.reports), "no round met a terminated backend"
        assert not sending.errors
        assert_sent_once(session, smtp_server, addresses)
    admin.dispose()
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_standalone_worker_outlives_terminated_backends(
    postgres_url: str, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    name = f"coopmail-worker-{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url)
    engine = make_engine(postgres_url)
    with Session(for_writing(engine)) as session:
        addresses = people(session, "partners", 150)
        campaign = letter(session, tmp_path, ["partners"])
        queue(session, campaign)
        smtp_server.slow(0.005, stage="message")
        env = {
            **os.environ,
            "COOPMAIL_DATABASE_URL": named_url(postgres_url, name),
            "COOPMAIL_SMTP_URL": smtp_server.url,
            "COOPMAIL_SECRET_KEY": "outage-test-secret-key-outage-test",
            "COOPMAIL_CONFIG": "",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "coopmail", "worker", "--concurrency", "3"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            for threshold in (20, 60, 110):
                smtp_server.wait_for(threshold, timeout=60)
                for _ in range(10):
                    terminate(admin, name)
                    time.sleep(0.01)
                assert worker.poll() is None, "the worker exited on a database outage"

            def sent() -> bool:
                session.rollback()
                status = session.scalar(select(Campaign.status).where(Campaign.id == campaign.id))
                return status is CampaignStatus.SENT

            wait_until(sent, timeout=60, what="the campaign to be sent")
            assert worker.poll() is None
        finally:
            worker.send_signal(signal.SIGTERM)
            _, errors = worker.communicate(timeout=60)
        assert worker.returncode == 0, errors.decode()
        assert_sent_once(session, smtp_server, addresses)
    admin.dispose()
    engine.dispose()


def test_claims_whose_commit_was_lost_are_handed_back(session: Session, tmp_path: Path) -> None:
    people(session, "partners", 6)
    queue(session, letter(session, tmp_path, ["partners"]))
    now = datetime.now(UTC)
    claimed, _ = claim(session, worker="w", limit=6, now=now, lease=timedelta(minutes=2))
    session.commit()
    holding = {row.delivery_id for row in claimed[:2]}
    assert release_orphans(session, worker="w", holding=holding, now=now) == 4
    session.commit()
    rows = session.scalars(select(Delivery)).all()
    held = [row for row in rows if row.id in holding]
    handed_back = [row for row in rows if row.id not in holding]
    assert {row.state for row in held} == {DeliveryState.SENDING}
    assert {(row.state, row.attempts, row.lease_owner) for row in handed_back} == {
        (DeliveryState.QUEUED, 0, None)
    }


def test_only_passing_database_errors_are_transient(engine: Engine) -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    locked = OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked"))
    assert is_transient(locked)
    no_table = OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))
    assert not is_transient(no_table)
    duplicate = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not is_transient(duplicate)
    assert not is_transient(ValueError("not a database error"))
    with engine.connect() as connection, pytest.raises(Exception) as raised:
        connection.execute(text("SELECT * FROM no_such_table"))
    assert not is_transient(raised.value)
