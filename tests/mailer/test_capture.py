"""The capture server keeps each message, unchanged, as one .eml file named after its recipient."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from mailer.capture import CaptureServer, file_name_part
from mailer.smtp import Outcome, SmtpConnection, SmtpSettings

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\d{8}T\d{6}\.\d{6}Z-(\d{6})-(.+)\.eml")


def message(number: int) -> bytes:
    return (
        f"From: unit@example.org\r\nTo: member{number}@example.org\r\nSubject: {number}\r\n\r\n"
        f"Hello {number}\r\n.\r\n"
    ).encode()


def test_each_message_is_one_eml_file_with_the_bytes_unchanged(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"  # created by the server
    saved: list[Path] = []

    async def send(url: str) -> list[Outcome]:
        settings = SmtpSettings.from_url(url)
        async with SmtpConnection(settings=settings) as connection:
            return [
                (
                    await connection.send(
                        sender="bounces@example.org",
                        recipient=f"Member{number}@Example.org",
                        message=message(number),
                    )
                ).outcome
                for number in range(5)
            ]

    with CaptureServer(outbox=outbox) as capture:
        capture.on_message = saved.append
        assert capture.url == f"smtp://127.0.0.1:{capture.port}"
        outcomes = asyncio.run(send(capture.url))

    assert outcomes == [Outcome.SENT] * 5
    files = sorted(outbox.iterdir())
    assert [path.name for path in files] == sorted(path.name for path in saved)
    for number, path in enumerate(files):
        match = NAME.fullmatch(path.name)
        assert match is not None, path.name
        assert match[1] == f"{number + 1:06d}"
        assert match[2] == f"member{number}@example.org"
        assert path.read_bytes() == message(number)


def test_smtplib_can_send_to_it_too(tmp_path: Path) -> None:
    with (
        CaptureServer(outbox=tmp_path) as capture,
        smtplib.SMTP(capture.host, capture.port) as smtp,
    ):
        smtp.login("anyone", "anything")
        refused = smtp.sendmail("a@example.org", ["x@example.org", "y@example.org"], message(1))
    assert refused == {}
    [path] = tmp_path.iterdir()
    assert path.name.endswith("-x@example.org+1.eml")


@pytest.mark.parametrize(
    ("recipients", "part"),
    [
        (["Anne.Marie+news@Example.org"], "anne.marie+news@example.org"),
        (["../../etc/passwd"], "etc_passwd"),
        (["a/b\\c d@x"], "a_b_c_d@x"),
        (["x" * 300 + "@example.org"], "x" * 100),
        ([], "unknown"),
        (["..."], "unknown"),
    ],
)
def test_file_names_are_safe(recipients: list[str], part: str) -> None:
    assert file_name_part(recipients) == part


def test_serve_forever_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from mailer.capture import serve_forever\n"
        "serve_forever(outbox=Path(sys.argv[1]), port=0,\n"
        "    on_ready=lambda url: print(url, flush=True),\n"
        "    on_message=lambda path: print('saved', path.name, flush=True))\n"
        "print('stopped', flush=True)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            host, port = url.removeprefix("smtp://").split(":")
            with smtplib.SMTP(host, int(port)) as smtp:
                smtp.sendmail("a@example.org", ["z@example.org"], message(7))
            assert process.stdout.readline().startswith("saved ")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
            assert process.stdout.read() == "stopped\n"
        finally:
            if process.poll() is None:
                process.kill()
    [path] = tmp_path.iterdir()
    assert path.read_bytes() == message(7)


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    with (
        CaptureServer(outbox=tmp_path) as capture,
        smtplib.SMTP(capture.host, capture.port) as smtp,
    ):
        for number in range(3):
            smtp.sendmail("a@example.org", [f"m{number}@example.org"], message(number))
    names = [path.name for path in tmp_path.iterdir()]
    assert len(names) == 3
    assert not [name for name in names if name.startswith(".") or not name.endswith(".eml")]


def test_a_port_in_use_is_an_error(tmp_path: Path) -> None:
    with CaptureServer(outbox=tmp_path) as first:
        second = CaptureServer(outbox=tmp_path, port=first.port)
        with pytest.raises(OSError, match="address already in use"):
            second.start()
        second.stop()
