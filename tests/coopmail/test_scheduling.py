"""Scheduled sends: on time, across restarts, and never hours late after downtime."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.models import Campaign, CampaignStatus, Delivery
from campaigns.schedule import schedule_at_local_time, schedule_campaign
from campaigns.worker import DeliveryWorker, WorkerSettings
from coopmail.cli import hints
from coopmail.db import for_writing
from coopmail.locks import APSCHEDULER_JOBS
from coopmail.scheduling import SchedulerService
from mailer.smtp import SmtpSettings
from tests.campaigns.test_delivery import IDENTITY, letter, people
from tests.conftest import Cli
from tests.smtp_server import RecordingSmtpServer


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


def service(engine: Engine, *, grace: float = 3600, lease: float = 15) -> SchedulerService:
    return SchedulerService(
        engine=engine,
        composer=Composer(),
        timezone="Europe/Zurich",
        grace=timedelta(seconds=grace),
        sync_every=0.1,
        lease=timedelta(seconds=lease),
    )


@pytest.fixture
def start_worker(engine: Engine, smtp_server: RecordingSmtpServer) -> Iterator[object]:
    """Starts a delivery worker once the test has written its data (SQLite has one writer)."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start() -> None:
        runner = DeliveryWorker(
            engine=for_writing(engine),
            smtp=SmtpSettings.from_url(smtp_server.url),
            settings=WorkerSettings(concurrency=2, poll_interval=0.05),
            identity=IDENTITY,
            stop=stop,
        )
        threads.append(threading.Thread(target=runner.run))
        threads[-1].start()

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=30)


def status(session: Session, campaign_id: int) -> Campaign:
    session.expire_all()
    session.rollback()
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    return campaign


def scheduled(session: Session, tmp_path: Path, seconds: float) -> tuple[Campaign, datetime]:
    people(session, "partners", 3)
    campaign = letter(session, tmp_path, ["partners"])
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    schedule_campaign(session, campaign=campaign, at=at, now=datetime.now(UTC))
    session.commit()
    return campaign, at


def test_a_campaign_sent_on_time(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    smtp_server: RecordingSmtpServer,
    start_worker: Callable[[], None],
) -> None:
    campaign, at = scheduled(session, tmp_path, 3)
    session.rollback()
    start_worker()
    scheduler = service(engine)
    scheduler.start()
    try:
        smtp_server.wait_for(3, timeout=15)
        arrived = datetime.now(UTC)
    finally:
        scheduler.stop()
    # Never early; "on time" is generous, since a loaded machine may take seconds to deliver.
    assert timedelta(0) <= arrived - at < timedelta(seconds=10)
    assert status(session, campaign.id).status in (CampaignStatus.SENDING, CampaignStatus.SENT)


def test_a_restart_between_scheduling_and_firing_still_fires(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    smtp_server: RecordingSmtpServer,
    start_worker: Callable[[], None],
) -> None:
    campaign, _ = scheduled(session, tmp_path, 2)
    session.rollback()
    start_worker()
    first = service(engine, lease=0.5)
    first.start()
    wait_for(lambda: stored_jobs(engine) == 1, what="the leader to store the campaign's job")
    first.stop()  # down before the time comes; the job stays in the database
    assert session.scalar(select(func.count()).select_from(APSCHEDULER_JOBS)) == 1
    second = service(engine, lease=0.5)
    second.start()
    try:
        smtp_server.wait_for(3, timeout=15)
    finally:
        second.stop()
    assert smtp_server.recipients() == dict.fromkeys(smtp_server.recipients(), 1)
    assert status(session, campaign.id).status in (CampaignStatus.SENDING, CampaignStatus.SENT)


def test_late_within_the_grace_period_sends_at_start_up(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    smtp_server: RecordingSmtpServer,
    start_worker: Callable[[], None],
) -> None:
    campaign, _ = scheduled(session, tmp_path, 0.5)
    session.rollback()
    start_worker()
    time.sleep(1.5)  # the time passes while no scheduler runs
    scheduler = service(engine, grace=60)
    scheduler.start()
    try:
        smtp_server.wait_for(3, timeout=15)
    finally:
        scheduler.stop()
    assert status(session, campaign.id).status in (CampaignStatus.SENDING, CampaignStatus.SENT)


def test_later_than_the_grace_period_is_missed_not_sent(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    smtp_server: RecordingSmtpServer,
    start_worker: Callable[[], None],
) -> None:
    campaign, _ = scheduled(session, tmp_path, 0.5)
    session.rollback()
    start_worker()
    time.sleep(2.5)
    scheduler = service(engine, grace=1)
    scheduler.start()
    deadline = time.monotonic() + 10
    while status(session, campaign.id).status is CampaignStatus.SCHEDULED:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    scheduler.stop()
    missed = status(session, campaign.id)
    assert missed.status is CampaignStatus.DRAFT and missed.scheduled_at is None
    assert missed.status_reason.startswith("missed: it was scheduled for")
    assert "coopmail" not in missed.status_reason  # the shell words the next step
    next_step = hints.for_campaign(
        campaign_id=campaign.id, status=missed.status, reason=missed.status_reason
    )
    assert next_step is not None and f"coopmail campaigns send {campaign.id}" in next_step
    time.sleep(0.5)
    assert not smtp_server.messages


def test_only_one_scheduler_and_a_standby_takes_over(engine: Engine) -> None:
    """The lease is long, so a slow machine never lets it lapse mid-test: the standby takes over
    because the leader, stopping, hands the lease back (expiry is the crash path)."""
    leader, standby = service(engine, lease=60), service(engine, lease=60)
    leader.start()
    try:
        wait_for(lambda: leader.role == "leader", what="the first service to lead")
        standby.start()
        wait_for(lambda: standby_announced(standby), what="the second service to stand by")
        assert (leader.role, standby.role) == ("leader", "standby")
        leader.stop()
        wait_for(lambda: standby.role == "leader", what="the standby to take over")
    finally:
        leader.stop()
        standby.stop()


def stored_jobs(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(APSCHEDULER_JOBS)) or 0


def standby_announced(service: SchedulerService) -> bool:
    """True once the service has tried for the role at least once and stayed standby."""
    return service.rounds > 0 and service.role == "standby"


def wait_for(condition: Callable[[], bool], *, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.05)


def test_schedule_from_the_command_line(run: Cli, tmp_path: Path) -> None:
    run.env["COOPMAIL_TIMEZONE"] = "Europe/Zurich"
    run.ok("lists", "create", "partners")
    (tmp_path / "letter.md").write_text(
        "---\nsubject: Hi\ntemplate: news-article\nlists: [partners]\n---\nHello"
    )
    campaign = str(run.ok("campaigns", "create", "--content", "letter.md", "--json").json()["id"])
    next_year = datetime.now(UTC).year + 1
    result = run.ok("campaigns", "schedule", campaign, "--at", f"{next_year}-12-01T09:00")
    assert f"{next_year}-12-01 09:00 CET" in result.stderr
    shown = run.ok("campaigns", "status", campaign, "--json").json()
    assert shown["status"] == "scheduled"
    assert shown["scheduled_at"] == f"{next_year}-12-01T08:00:00+00:00"  # stored in UTC
    run.ok("campaigns", "schedule", campaign, "--at", f"{next_year}-12-02T10:00+01:00")
    assert (
        run.ok("campaigns", "status", campaign, "--json")
        .json()["scheduled_at"]
        .startswith(f"{next_year}-12-02T09:00")
    )
    past = run("campaigns", "schedule", campaign, "--at", "2020-01-01T09:00Z")
    assert past.exit_code == 1 and "has passed" in past.stderr
    garbage = run("campaigns", "schedule", campaign, "--at", "next tuesday")
    assert garbage.exit_code == 2 and "is not a time like" in garbage.stderr
    run.ok("campaigns", "unschedule", campaign)
    assert run.ok("campaigns", "status", campaign, "--json").json()["status"] == "draft"


@contextlib.contextmanager
def serving(database_url: str, *options: str, smtp_url: str = "") -> Iterator[dict[str, str]]:
    """`coopmail serve` in a subprocess until SIGTERM; yields its /health answer, then (once
    it has stopped) leaves its exit code and log in the same dict."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "COOPMAIL_DATABASE_URL": database_url,
        "COOPMAIL_CONFIG": "",
        "COOPMAIL_SMTP_URL": smtp_url,
        "COOPMAIL_SECRET_KEY": IDENTITY.key.decode(),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "coopmail", "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    report: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                    report.update(json.loads(answer.read()))
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve never answered"
                time.sleep(0.1)
        yield report
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=60)
        report["exit_code"], report["log"] = str(server.returncode), errors.decode()


def test_serve_runs_health_scheduler_and_worker_and_stops_on_sigterm(
    database_url: str,
    session: Session,
    tmp_path: Path,
    smtp_server: RecordingSmtpServer,
) -> None:
    campaign, _ = scheduled(session, tmp_path, 3)
    with serving(database_url, smtp_url=smtp_server.url) as report:
        assert report["status"] == "ok" and report["worker"] == "running"
        smtp_server.wait_for(3, timeout=20)
    assert report["exit_code"] == "0", report["log"]
    assert "holding the scheduler role" in report["log"]
    assert f"campaign {campaign.id} started on schedule" in report["log"]


def test_serve_with_capture_keeps_the_mail_as_files(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    scheduled(session, tmp_path, 1)
    outbox = tmp_path / "outbox"
    with serving(database_url, "--capture", str(outbox)) as report:
        assert report["worker"] == "running"  # no COOPMAIL_SMTP_URL, and yet a worker
        deadline = time.monotonic() + 20
        while len(list(outbox.glob("*.eml"))) < 3:
            assert time.monotonic() < deadline, "the campaign never reached the capture folder"
            time.sleep(0.1)
    assert report["exit_code"] == "0", report["log"]
    assert "kept as .eml files" in report["log"]


def test_schedule_at_an_hour_in_each_partners_zone_from_the_command_line(
    run: Cli, tmp_path: Path
) -> None:
    run.env["COOPMAIL_TIMEZONE"] = "Europe/Zurich"
    bad = run("lists", "create", "andes", "--timezone", "Andes/Cusco")
    assert bad.exit_code == 1 and "'Andes/Cusco' is not a zone name" in bad.stderr
    made = run.ok("lists", "create", "andes", "--timezone", "America/Lima", "--json").json()
    assert made["timezone"] == "America/Lima"
    run.ok("lists", "create", "alps")
    assert run.ok("lists", "edit", "alps", "--timezone", "", "--json").json()["timezone"] is None
    rows = run.ok("lists", "list").table()  # folded, never cut short, in 80 columns
    assert rows["andes"][4].replace("\n", "") == "America/Lima"
    assert rows["alps"][4].replace("\n", " ") == "the unit's"
    (tmp_path / "people.csv").write_text(
        "email,timezone\nquechua@coop.example.org,America/Lima\nkyoto@coop.example.org,Asia/Tokyo\n"
        "nowhere@coop.example.org,Atlantis/Central\n"
    )
    run.ok("subscribers", "import", "people.csv", "--list", "andes")
    (tmp_path / "letter.md").write_text(
        "---\nsubject: Hi\ntemplate: news-article\nlists: [andes, alps]\n---\nHello"
    )
    campaign = str(run.ok("campaigns", "create", "--content", "letter.md", "--json").json()["id"])
    year = datetime.now(UTC).year + 1
    offset = run(
        "campaigns", "schedule", campaign, "--at", f"{year}-01-15T09:00Z", "--each-local-time"
    )
    assert offset.exit_code == 2 and "has an offset" in offset.stderr
    past = run("campaigns", "schedule", campaign, "--at", "2020-01-15T09:00", "--each-local-time")
    assert past.exit_code == 1
    assert "has already passed in America/Lima, Asia/Tokyo" in past.stderr
    result = run.ok(
        "campaigns", "schedule", campaign, "--at", f"{year}-01-15T09:00", "--each-local-time"
    )
    assert f"Asia/Tokyo: 1 at {year}-01-15 01:00 CET" in result.stderr
    assert f"America/Lima: 2 at {year}-01-15 15:00 CET" in result.stderr  # one unreadable zone
    assert "1 recipients have a timezone attribute that names no zone" in result.stderr
    shown = run.ok("campaigns", "status", campaign, "--json").json()
    assert shown["local_send_time"] == f"{year}-01-15T09:00"
    assert shown["scheduled_at"] == f"{year}-01-15T00:00:00+00:00"  # Tokyo's 09:00 comes first
    said = run.ok("campaigns", "status", campaign).stderr
    assert f"scheduled for {year}-01-15 09:00 in each partner's time zone" in said


def test_the_scheduler_starts_a_send_at_an_hour_in_each_zone_with_the_units_zone(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    """Whoever has no zone of their own gets the hour in the zone the scheduler runs for."""
    people(session, "partners", 2)
    campaign = letter(session, tmp_path, ["partners"])
    wall = datetime(datetime.now(UTC).year + 1, 1, 15, 9, 0)  # noqa: DTZ001 - in no zone
    schedule_at_local_time(
        session, campaign=campaign, wall=wall, unit_zone="Europe/Zurich", now=datetime.now(UTC)
    )
    session.commit()
    at = campaign.scheduled_at
    assert at == datetime(wall.year, 1, 15, 8, 0, tzinfo=UTC)  # 09:00 in Zurich, UTC+1
    service(engine).fire(campaign.id, at)
    assert status(session, campaign.id).status is CampaignStatus.SENDING
    rows = session.execute(select(Delivery.time_zone, Delivery.next_attempt_at)).all()
    assert rows == [("Europe/Zurich", at)] * 2
