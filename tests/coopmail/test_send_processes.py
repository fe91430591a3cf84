"""`coopmail campaigns send --workers N`: delivery processes sharing the outbox, on SQLite and
PostgreSQL, each recipient once, one summary."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from coopmail.sending import MESSAGES_PER_PROCESS, processes_for
from templates import sample_path
from tests.campaigns.test_delivery import people
from tests.smtp_server import RecordingSmtpServer


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


def test_two_processes_share_the_send_and_each_recipient_gets_one_message(
    database_url: str, session: Session, tmp_path: Path, smtp_server: RecordingSmtpServer
) -> None:
    addresses = people(session, "partners", 240)
    shutil.copyfile(sample_path("solidarity-letter"), tmp_path / "letter.md")
    env = {
        **os.environ,
        "COOPMAIL_DATABASE_URL": database_url,
        "COOPMAIL_SMTP_URL": smtp_server.url,
        "COOPMAIL_SECRET_KEY": "processes-test-secret-key-12345",
        "COOPMAIL_CONFIG": "",
    }

    def coopmail(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "coopmail", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    created = coopmail("campaigns", "create", "--content", "letter.md", "--json")
    assert created.returncode == 0, created.stderr
    campaign = str(json.loads(created.stdout)["id"])
    smtp_server.slow(0.04, stage="message")  # slow enough that both processes get work
    sent = coopmail("campaigns", "send", campaign, "--workers", "2", "--concurrency", "2", "--json")
    assert sent.returncode == 0, sent.stderr
    assert '"sent": 240' in sent.stdout and '"status": "sent"' in sent.stdout
    shares = re.search(r"Delivered by 2 processes, sent (\d+) \+ (\d+)\.", sent.stderr)
    assert shares is not None, sent.stderr
    assert int(shares[1]) + int(shares[2]) == 240
    assert int(shares[1]) > 0 and int(shares[2]) > 0  # both really sent
    assert smtp_server.recipients() == dict.fromkeys(addresses, 1)


def test_a_small_send_uses_one_process_and_a_large_one_a_process_per_core() -> None:
    assert processes_for(remaining=10, requested=None) == 1
    assert processes_for(remaining=10, requested=3) == 3
    many = processes_for(remaining=MESSAGES_PER_PROCESS * 64, requested=None)
    assert many == len(os.sched_getaffinity(0))
