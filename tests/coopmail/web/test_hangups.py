"""A client that declares a body and hangs up costs one log line, not a traceback."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.coopmail.web.public.test_browser_public import serving_live

CLIENTS = 5


def answered(port: int) -> bool:
    """A request on its own connection, answered: the server has read what came before."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
        probe.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return probe.recv(100).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("path", ["/subscribe", "/api/v1/lists"])
def test_each_client_that_hangs_up_mid_body_is_one_line(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """Before: 67 lines of traceback per client on the public forms."""
    caplog.set_level(logging.INFO)
    with serving_live(engine, database_url, tmp_path) as live:
        port = int(live.base_url.rpartition(":")[2])
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(CLIENTS)]
        for client in clients:
            client.sendall(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 1000\r\n\r\nemail=ana%40".encode()
            )
        assert answered(port)  # the server is waiting for the rest of each body
        for client in clients:
            client.close()
        assert answered(port)
        deadline = time.monotonic() + 10
        while caplog.text.count("hung up") < CLIENTS and time.monotonic() < deadline:
            threading.Event().wait(0.01)
    lines = [r for r in caplog.records if "hung up before sending the whole body" in r.message]
    assert len(lines) == CLIENTS
    assert all(record.message.startswith(f"POST {path}: ") for record in lines)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
