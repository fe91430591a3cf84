"""A local SMTP server that keeps each message as an .eml file instead of delivering it.

For the demo and `coopmail dev-smtp`, like Mailpit without the web page: it accepts every
message (and any AUTH credentials) and writes the bytes unchanged to
`outbox/<UTC time>-<counter>-<recipient>.eml`. Each file appears whole or not at all (a
hidden temporary name, then a rename), so whatever watches the folder never reads half a
message. No STARTTLS: it listens on 127.0.0.1 by default and is for trials only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^a-z0-9._@+-]+")
_NAME_CAP = 100
_START_TIMEOUT = 10.0

OnMessage = Callable[[Path], None]


class CaptureServer:
    """The capture server in a background thread; a context manager starts and stops it."""

    def __init__(
        self,
        *,
        outbox: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        on_message: OnMessage | None = None,
    ) -> None:
        self.outbox = Path(outbox)
        self.host = host
        self.port = port  # the port actually listened on once started, if 0 was asked
        self.on_message = on_message  # called in the server's thread with each saved path
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> Self:
        """Listen (creating the outbox if needed); returns once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("the capture server is already running")
        ready = threading.Event()
        errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(ready, errors), name="capture-smtp", daemon=True
        )
        self._thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise RuntimeError(f"the capture server did not start within {_START_TIMEOUT:g} s")
        if errors:
            self._thread.join()
            self._thread = None
            raise errors[0]
        return self

    def stop(self) -> None:
        """Close the listener and every open connection; a message being read is lost."""
        if self._thread is None or self._loop is None:
            return
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, ready: threading.Event, errors: list[BaseException]) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._stopping = asyncio.Event()
            self._loop.run_until_complete(
                _serve(
                    outbox=self.outbox,
                    host=self.host,
                    port=self.port,
                    on_message=self._saved,
                    stopping=self._stopping,
                    on_ready=lambda port: self._ready(port, ready),
                )
            )
        except BaseException as error:
            errors.append(error)
            ready.set()
        finally:
            self._loop.close()

    def _saved(self, path: Path) -> None:
        if self.on_message is not None:
            self.on_message(path)

    def _ready(self, port: int, ready: threading.Event) -> None:
        self.port = port
        ready.set()


def serve_forever(
    *,
    outbox: Path,
    host: str = "127.0.0.1",
    port: int = 1025,
    on_message: OnMessage | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the capture server in this thread until Ctrl-C or SIGTERM, then return.

    `on_message` gets the path of each saved message; `on_ready` the URL once listening
    (useful with port 0).
    """
    with contextlib.suppress(KeyboardInterrupt):  # when signals cannot be caught (a thread)
        asyncio.run(_serve_until_signalled(outbox, host, port, on_message, on_ready))


async def _serve_until_signalled(
    outbox: Path,
    host: str,
    port: int,
    on_message: OnMessage | None,
    on_ready: Callable[[str], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    caught = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
            caught.append(signum)
    try:
        await _serve(
            outbox=outbox,
            host=host,
            port=port,
            on_message=on_message,
            stopping=stopping,
            on_ready=lambda bound: on_ready(f"smtp://{host}:{bound}") if on_ready else None,
        )
    finally:
        for signum in caught:
            loop.remove_signal_handler(signum)


async def _serve(
    *,
    outbox: Path,
    host: str,
    port: int,
    on_message: OnMessage | None,
    stopping: asyncio.Event,
    on_ready: Callable[[int], None],
) -> None:
    """Accept connections until `stopping` is set, then close everything."""
    outbox.mkdir(parents=True, exist_ok=True)
    handler = _Handler(outbox, on_message)
    sessions: set[SMTP] = set()

    def session() -> SMTP:
        protocol = _Session(
            sessions,
            handler,
            hostname="coopmail-capture",
            ident="coopmail capture",
            enable_SMTPUTF8=True,
            auth_require_tls=False,
            authenticator=_accept_anyone,
        )
        return protocol

    loop = asyncio.get_running_loop()
    server = await loop.create_server(session, host, port)
    on_ready(server.sockets[0].getsockname()[1])
    try:
        await stopping.wait()
    finally:
        server.close()
        for protocol in list(sessions):
            if isinstance(protocol.transport, asyncio.Transport):
                protocol.transport.abort()
        await asyncio.sleep(0)
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


class _Session(SMTP):
    """aiosmtpd's protocol, remembered while connected so stopping can close it."""

    def __init__(self, sessions: set[SMTP], handler: _Handler, **options: Any) -> None:
        super().__init__(handler, **options)
        self._sessions = sessions

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.discard(self)
        super().connection_lost(error)


class _Handler:
    """aiosmtpd hooks: PIPELINING in EHLO, and every message saved to the outbox."""

    def __init__(self, outbox: Path, on_message: OnMessage | None) -> None:
        self.outbox = outbox
        self.on_message = on_message
        self._counter = itertools.count(1)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        path = save(
            outbox=self.outbox,
            data=envelope.original_content or b"",
            recipients=envelope.rcpt_tos,
            counter=next(self._counter),
        )
        if self.on_message is not None:
            try:
                self.on_message(path)
            except Exception:  # the message is saved: the client must hear so, or it resends
                log.exception("on_message failed for %s", path)
        return f"250 2.0.0 Saved as {path.name}"


def save(*, outbox: Path, data: bytes, recipients: list[str], counter: int) -> Path:
    """Write `data` to a new .eml file in `outbox`, atomically; the file's path."""
    moment = datetime.now(UTC)
    stamp = f"{moment:%Y%m%dT%H%M%S}.{moment.microsecond:06d}Z"
    name = f"{stamp}-{counter:06d}-{file_name_part(recipients)}"
    temporary = outbox / f".{name}.{os.getpid()}.tmp"
    with temporary.open("wb") as file:
        file.write(data)
    # Several processes may capture into one folder: link (which never overwrites) rather
    # than rename, and take the next free name in the rare case of a clash.
    try:
        attempt = 0
        while True:
            path = outbox / (f"{name}.eml" if not attempt else f"{name}-{attempt}.eml")
            try:
                os.link(temporary, path)
            except FileExistsError:
                attempt += 1
                continue
            return path
    finally:
        temporary.unlink()


def file_name_part(recipients: list[str]) -> str:
    """The first recipient as a safe file name part (`+N` if there are more)."""
    first = _UNSAFE.sub("_", recipients[0].lower())[:_NAME_CAP] if recipients else ""
    more = f"+{len(recipients) - 1}" if len(recipients) > 1 else ""
    return (first.strip("._") or "unknown") + more


def _accept_anyone(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    return AuthResult(success=True)
