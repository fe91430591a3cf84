"""`coopmail campaigns send|status|pause|resume|cancel|test`, `worker` and `dev-smtp`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from templates import sample_path
from tests.conftest import Cli
from tests.smtp_server import RecordingSmtpServer


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


@pytest.fixture
def ready(run: Cli, tmp_path: Path, smtp_server: RecordingSmtpServer) -> Cli:
    run.env.update(
        {
            "COOPMAIL_SECRET_KEY": "cli-delivery-secret-key-123456",
            "COOPMAIL_BASE_URL": "https://news.example.org",
            "COOPMAIL_SMTP_URL": smtp_server.url,
        }
    )
    run.ok("lists", "create", "partners")
    for index in range(8):
        run.ok("subscribers", "add", f"p{index}@example.org", "--list", "partners")
    shutil.copyfile(sample_path("solidarity-letter"), tmp_path / "letter.md")
    return run


def created(cli: Cli) -> str:
    return str(cli.ok("campaigns", "create", "--content", "letter.md", "--json").json()["id"])


def test_send_in_the_foreground(ready: Cli, smtp_server: RecordingSmtpServer) -> None:
    campaign = created(ready)
    summary = ready.ok("campaigns", "send", campaign, "--json").json()
    assert (summary["sent"], summary["failed"], summary["skipped"]) == (8, 0, 0)
    assert summary["status"] == "sent"
    assert len(smtp_server.messages) == 8
    again = ready("campaigns", "send", campaign)
    assert again.exit_code == 1 and "only a draft or scheduled" in again.stderr
    status = ready.ok("campaigns", "status", campaign, "--json").json()
    assert status["sent"] == 8 and status["problems"] == []


def test_detach_pause_resume_cancel(ready: Cli, smtp_server: RecordingSmtpServer) -> None:
    campaign = created(ready)
    queued = ready.ok("campaigns", "send", campaign, "--detach", "--json").json()
    assert (queued["queued"], queued["status"]) == (8, "sending")
    assert not smtp_server.messages
    ready.ok("campaigns", "pause", campaign)
    paused = ready.ok("campaigns", "status", campaign, "--json").json()
    assert paused["status"] == "paused" and paused["reason"] == "paused by staff"
    assert ready("campaigns", "pause", campaign).exit_code == 1
    refused = ready("campaigns", "send", campaign)
    assert refused.exit_code == 1 and "coopmail campaigns resume" in refused.stderr
    ready.ok("campaigns", "resume", campaign)
    assert ready.ok("campaigns", "send", campaign, "--json").json()["sent"] == 8

    second = created(ready)
    ready.ok("campaigns", "send", second, "--detach")
    assert ready("campaigns", "cancel", second).exit_code == 2  # needs --yes without a terminal
    ready.ok("campaigns", "cancel", second, "--yes")
    cancelled = ready.ok("campaigns", "status", second, "--json").json()
    assert (cancelled["status"], cancelled["skipped"]) == ("cancelled", 8)


def test_send_needs_a_relay_and_a_key(ready: Cli) -> None:
    campaign = created(ready)
    del ready.env["COOPMAIL_SMTP_URL"]
    result = ready("campaigns", "send", campaign)
    assert result.exit_code == 3 and "COOPMAIL_SMTP_URL is not set" in result.stderr
    status = ready.ok("campaigns", "status", campaign, "--json").json()
    assert status["status"] == "draft"  # nothing was queued
    ready.env["COOPMAIL_SMTP_URL"] = "smtp://user:secretpw@"
    bad = ready("campaigns", "send", campaign)
    assert bad.exit_code == 3 and "secretpw" not in bad.stderr


def test_test_message(ready: Cli, smtp_server: RecordingSmtpServer) -> None:
    campaign = created(ready)
    ready.ok("campaigns", "test", campaign, "--to", "editor@example.org")
    assert smtp_server.recipients() == {"editor@example.org": 1}
    assert b"Subject: [Test] " in smtp_server.messages[0].data
    smtp_server.fail(stage="rcpt", code=550, text="5.1.1 unknown", times=1)
    refused = ready("campaigns", "test", campaign, "--to", "nobody@example.org")
    assert refused.exit_code == 1 and "550" in refused.stderr


def coopmail(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "coopmail", *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_worker_sends_and_stops_on_sigterm(
    ready: Cli, smtp_server: RecordingSmtpServer, tmp_path: Path
) -> None:
    campaign = created(ready)
    ready.ok("campaigns", "send", campaign, "--detach")
    worker = coopmail("worker", "--concurrency", "2", env=ready.env, cwd=tmp_path)
    smtp_server.wait_for(8, timeout=30)
    time.sleep(0.3)
    worker.send_signal(signal.SIGTERM)
    _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors.decode()
    assert "Worker stopped: sent 8" in errors.decode()
    assert ready.ok("campaigns", "status", campaign, "--json").json()["status"] == "sent"


def test_dev_smtp_captures_messages(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outbox = tmp_path / "outbox"
    server = coopmail(
        "dev-smtp", "--port", str(port), "--outbox", str(outbox), env={}, cwd=tmp_path
    )
    try:
        assert server.stderr is not None  # started (imports can be slow on a busy machine)
        assert b"Capturing mail" in server.stderr.readline()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import smtplib

                with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
                    client.sendmail(
                        "a@example.org", ["b@example.org"], b"Subject: hi\r\n\r\nbody\r\n"
                    )
                break
            except OSError:
                time.sleep(0.1)
        files = list(outbox.glob("*.eml"))
        assert len(files) == 1 and b"Subject: hi" in files[0].read_bytes()
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=10)
