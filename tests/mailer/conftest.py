"""Fixtures for the mailer tests: a real SMTP server on 127.0.0.1 for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smtp_server import RecordingSmtpServer


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    """A started RecordingSmtpServer: PIPELINING, no AUTH, no TLS; faults set per test."""
    with RecordingSmtpServer() as server:
        yield server
