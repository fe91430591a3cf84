"""Kill workers mid-send and prove nobody is missed and duplicates stay bounded.

Workers run as real `coopmail worker` processes against a recording SMTP server; SIGKILL
gives them no chance to clean up. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.models import Campaign, CampaignStatus
from campaigns.outbox import delivery_counts, queue_campaign
from coopmail.db import session_scope
from tests.campaigns.test_delivery import letter, people, queue
from tests.smtp_server import RecordingSmtpServer

CONNECTIONS = 4


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


def start_worker(database_url: str, server: RecordingSmtpServer) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "COOPMAIL_DATABASE_URL": database_url,
        "COOPMAIL_SMTP_URL": server.url,
        "COOPMAIL_SECRET_KEY": "crash-test-secret-key-crash-test",
        "COOPMAIL_CONFIG": "",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coopmail",
            "worker",
            "--concurrency",
            str(CONNECTIONS),
            "--lease",
            "3",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def campaign_status(session: Session, campaign_id: int) -> CampaignStatus:
    session.rollback()
    return session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))  # type: ignore[return-value]


def test_killed_workers_miss_nobody_and_duplicate_at_most_what_was_in_flight(
    database_url: str, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 400)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    smtp_server.slow(0.002)  # replies take a moment, so kills land mid-conversation
    kills = 0
    for threshold in (40, 130, 250):
        worker = start_worker(database_url, smtp_server)
        wait_until(lambda at=threshold: len(smtp_server.messages) >= at, timeout=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    survivor = start_worker(database_url, smtp_server)
    wait_until(lambda: campaign_status(session, campaign.id) is CampaignStatus.SENT, timeout=120)
    survivor.send_signal(signal.SIGTERM)
    _, errors = survivor.communicate(timeout=30)
    assert survivor.returncode == 0, errors.decode()

    received = smtp_server.recipients()
    assert set(received) == set(addresses), "a recipient was missed"
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= kills * CONNECTIONS
    counts = delivery_counts(session, campaign_id=campaign.id)
    assert counts["sent"] == 400 and counts["queued"] == counts["sending"] == 0
    assert campaign_status(session, campaign.id) is CampaignStatus.SENT


def test_three_workers_at_once_send_each_message_once(
    database_url: str, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 300)
    campaign = letter(session, tmp_path, ["partners"])
    workers = [start_worker(database_url, smtp_server) for _ in range(3)]
    for worker in workers:  # all three ready, SIGTERM handled, before there is work
        assert worker.stderr is not None
        assert b"delivering" in worker.stderr.readline()
    # As the application queues: a write transaction from its start. The workers commit
    # meanwhile, and on SQLite a read that turns into a write after their commit is refused.
    with session_scope(session.get_bind()) as writer:
        queued = writer.get(Campaign, campaign.id)
        assert queued is not None
        queue_campaign(writer, campaign=queued, composer=Composer(), now=datetime.now(UTC))
    wait_until(lambda: campaign_status(session, campaign.id) is CampaignStatus.SENT, timeout=120)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        _, errors = worker.communicate(timeout=30)
        assert worker.returncode == 0, errors.decode()
    assert smtp_server.recipients() == dict.fromkeys(addresses, 1)
    senders = {message.connection for message in smtp_server.messages}
    assert len(senders) >= 3  # the work really was shared


def test_a_graceful_stop_hands_back_what_it_did_not_send(
    database_url: str, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 200)
    campaign = letter(session, tmp_path, ["partners"])
    queue(session, campaign)
    smtp_server.slow(0.005)
    worker = start_worker(database_url, smtp_server)
    wait_until(lambda: len(smtp_server.messages) >= 20, timeout=60)
    worker.send_signal(signal.SIGTERM)
    _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors.decode()
    counts = delivery_counts(session, campaign_id=campaign.id)
    assert counts["sending"] == 0  # nothing left leased
    assert counts["sent"] == len(smtp_server.messages) < len(addresses)
    assert counts["queued"] == len(addresses) - counts["sent"]
