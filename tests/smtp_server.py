"""A real SMTP server on 127.0.0.1 for delivery tests: records what it accepts, injects faults.

Built on aiosmtpd's protocol (an independent SMTP implementation, so the client is not
tested against its own reading of the RFCs), run in a thread with its own event loop,
listening on a port the OS chose. Faults are set from the test thread:

    with RecordingSmtpServer() as server:
        server.fail(stage="rcpt", code=550, text="5.1.1 No such user", recipient="x@example.org")
        server.drop(stage="message")  # the whole message read, then no reply: UNKNOWN
        server.hold(stage="message", recipient="kofi@example.org")  # no reply until...
        server.held.wait(30); server.release()  # ...the test has looked mid-way
        ...
        assert server.recipients()["anne@example.org"] == 1

Stages are the client's (SendResult.stage): "connect" (the greeting), "mail", "rcpt",
"data" (the DATA command, before 354, or a BDAT chunk that is not the last) and "message"
(after the whole message; "after_data" means the same). A message dropped at "message"
lands in `.unacknowledged`, not `.messages`. With chunking=True the server also offers
CHUNKING (RFC 3030) and takes BDAT; with echo_credentials=True a failed AUTH quotes the
user name and password back, as some relays do.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mailer.smtp import Security, SmtpSettings

HOST = "127.0.0.1"
STAGES = ("connect", "mail", "rcpt", "data", "message")
_ALIASES = {"after_data": "message"}
_READ_PREFIX = 256  # how much of each read is kept in .reads


@dataclass(frozen=True)
class ReceivedMessage:
    sender: str
    recipients: tuple[str, ...]
    data: bytes  # exactly what the client sent, dot-stuffing undone
    connection: int  # 1 for the first connection the server accepted, and so on
    tls: bool = False  # whether it came over TLS (STARTTLS or implicit)


@dataclass
class _Fault:
    kind: str  # "fail", "drop", "slow" or "hold"
    stage: str
    times: int | None  # None: for ever
    recipient: str | None = None
    reply: str = ""
    seconds: float = 0.0


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    messages: list[ReceivedMessage] = field(default_factory=list)
    unacknowledged: list[ReceivedMessage] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    reads: list[tuple[int, bytes]] = field(default_factory=list)
    read_ends: list[tuple[int, bytes]] = field(default_factory=list)
    connections: int = 0
    live: dict[int, _Session] = field(default_factory=dict)
    released: asyncio.Event | None = None  # made in the server's loop, by _serve

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class RecordingSmtpServer:
    """An SMTP server for tests; a context manager that starts and stops it."""

    def __init__(
        self,
        *,
        pipelining: bool = True,
        username: str | None = None,
        password: str | None = None,
        auth_mechanisms: Sequence[str] = ("PLAIN", "LOGIN"),
        starttls: bool = False,
        implicit_tls: bool = False,
        chunking: bool = False,
        echo_credentials: bool = False,
    ) -> None:
        self.host = HOST
        self.chunking = chunking
        self.echo_credentials = echo_credentials
        self.port = 0
        self.pipelining = pipelining
        self.credentials = (username, password) if username is not None else None
        self.auth_mechanisms = tuple(mechanism.upper() for mechanism in auth_mechanisms)
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.ca_file: Path | None = None  # the CA that signed our certificate, with TLS
        self._state = _State()
        self._tls_context: ssl.SSLContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self.held = threading.Event()  # set when a reply is being held back (see hold)

    # Life cycle

    def start(self) -> Self:
        if self.starttls or self.implicit_tls:
            self._make_certificate()
        ready = threading.Event()
        errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(ready, errors), name="smtp-test-server", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the test SMTP server did not start within 10 s")
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        stopping = self._stopping
        if stopping is not None:
            self._loop.call_soon_threadsafe(stopping.set)
        self._thread.join(10)
        self._thread = None
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """A URL the client can use as it is: credentials and TLS options included."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        credentials = ""
        if self.credentials is not None:
            credentials = f"{self.credentials[0]}:{self.credentials[1]}@"
        query = "?starttls=true&verify=false" if self.starttls else ""
        if self.implicit_tls:
            query = "?verify=false"
        return f"{scheme}://{credentials}{self.host}:{self.port}{query}"

    def settings(self, **changes: Any) -> SmtpSettings:
        """Client settings for this server (TLS unverified), with `changes` applied."""
        security = Security.NONE
        if self.starttls:
            security = Security.STARTTLS
        if self.implicit_tls:
            security = Security.TLS
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": security,
            "verify_tls": False,
            "timeout": 5.0,
        }
        if self.credentials is not None:
            values["username"], values["password"] = self.credentials
        values.update(changes)
        return SmtpSettings(**values)

    # What the server saw

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Messages accepted (answered 250 after the data), in order."""
        with self._state.lock:
            return list(self._state.messages)

    @property
    def unacknowledged(self) -> list[ReceivedMessage]:
        """Messages read in full, then the connection dropped without a reply."""
        with self._state.lock:
            return list(self._state.unacknowledged)

    @property
    def connections(self) -> int:
        """Connections accepted since the start."""
        with self._state.lock:
            return self._state.connections

    @property
    def reads(self) -> list[tuple[int, bytes]]:
        """(connection, first bytes) of every read from a client: pipelining shows here."""
        with self._state.lock:
            return list(self._state.reads)

    @property
    def read_ends(self) -> list[tuple[int, bytes]]:
        """(connection, last bytes) of every read: what ended a message travelled with."""
        with self._state.lock:
            return list(self._state.read_ends)

    def recipients(self) -> collections.Counter[str]:
        """How many accepted messages each recipient got: a duplicate shows as 2."""
        return collections.Counter(
            recipient for message in self.messages for recipient in message.recipients
        )

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """The accepted messages once there are at least `count`; AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while len(self._state.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self._state.messages)} messages after {timeout} s, expected {count}"
                    )
                self._state.changed.wait(left)
            return list(self._state.messages)

    # Faults

    def fail(
        self,
        *,
        stage: str,
        code: int,
        text: str | None = None,
        times: int | None = 1,
        recipient: str | None = None,
    ) -> None:
        """Answer `code text` at `stage`, the next `times` times (None: always), for anyone
        or only for `recipient`."""
        if not 400 <= code <= 599:
            raise ValueError(f"a failure code is 4xx or 5xx, not {code}")
        default = f"{code // 100}.0.0 Injected failure"
        self._add(_Fault("fail", stage, times, recipient, reply=f"{code} {text or default}"))

    def drop(self, *, stage: str, times: int | None = 1, recipient: str | None = None) -> None:
        """Close the connection at `stage` without replying; at "message" (or "after_data")
        once the whole message has been read, which is the ambiguous case."""
        self._add(_Fault("drop", stage, times, recipient))

    def slow(
        self,
        seconds: float,
        *,
        stage: str | None = None,
        times: int | None = None,
        recipient: str | None = None,
    ) -> None:
        """Wait `seconds` before the reply at `stage` (every stage if None)."""
        for each in [stage] if stage is not None else STAGES:
            self._add(_Fault("slow", each, times, recipient, seconds=seconds))

    def hold(self, *, stage: str, recipient: str | None = None, times: int | None = 1) -> None:
        """Keep the reply at `stage` back until release(): a send caught half-way, for as
        long as the test needs to look at it (`held` is set once a reply is held)."""
        self._add(_Fault("hold", stage, times, recipient))

    def release(self) -> None:
        """Answer every reply held back, and hold no more."""
        assert self._loop is not None
        with self._state.lock:
            self._state.faults = [f for f in self._state.faults if f.kind != "hold"]
            released = self._state.released
        if released is not None:
            self._loop.call_soon_threadsafe(released.set)

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    def kick(self) -> None:
        """Close every open client connection, as a server's idle timeout does."""
        assert self._loop is not None
        with self._state.lock:
            sessions = list(self._state.live.values())
        for session in sessions:
            if session.transport is not None:
                self._loop.call_soon_threadsafe(session.transport.close)

    def _add(self, fault: _Fault) -> None:
        fault.stage = _ALIASES.get(fault.stage, fault.stage)
        if fault.stage not in STAGES:
            raise ValueError(f"unknown stage {fault.stage!r}: one of {', '.join(STAGES)}")
        if fault.recipient is not None and fault.stage in ("connect", "mail"):
            raise ValueError(f"no recipient is known yet at {fault.stage!r}")
        with self._state.lock:
            self._state.faults.append(fault)

    # The server thread

    def _run(self, ready: threading.Event, errors: list[BaseException]) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(ready))
        except BaseException as error:
            errors.append(error)
            ready.set()
        finally:
            self._loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        self._state.released = asyncio.Event()
        server = await asyncio.get_running_loop().create_server(
            self._session,
            self.host,
            0,
            ssl=self._tls_context if self.implicit_tls else None,
        )
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            with self._state.lock:
                sessions = list(self._state.live.values())
            for session in sessions:
                if isinstance(session.transport, asyncio.Transport):
                    session.transport.abort()
            await asyncio.sleep(0)
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    def _session(self) -> _Session:
        return _Session(
            self,
            _Handler(self),
            hostname="smtp.test",
            tls_context=self._tls_context if self.starttls else None,
            auth_require_tls=False,
            auth_exclude_mechanism=[
                mechanism
                for mechanism in ("PLAIN", "LOGIN")
                if mechanism not in self.auth_mechanisms
            ],
            authenticator=self._authenticate,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if self.credentials is None or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username, password = self.credentials
        success = data.login == username.encode() and data.password == (password or "").encode()
        if not success and self.echo_credentials:
            tried = (
                f"{data.login.decode(errors='replace')} {data.password.decode(errors='replace')}"
            )
            return AuthResult(
                success=False, handled=False, message=f"535 5.7.8 Bad credentials [{tried}]"
            )
        return AuthResult(success=success, handled=False)

    def _make_certificate(self) -> None:
        authority = trustme.CA()
        certificate = authority.issue_cert(HOST, "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        self._tls_context = context
        self._directory = tempfile.TemporaryDirectory(prefix="smtp-test-ca-")
        self.ca_file = Path(self._directory.name) / "ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))

    # Called from the server thread

    def _opened(self, session: _Session) -> int:
        with self._state.lock:
            self._state.connections += 1
            self._state.live[self._state.connections] = session
            return self._state.connections

    def _closed(self, session: _Session) -> None:
        with self._state.lock:
            self._state.live.pop(session.connection, None)

    def _read(self, connection: int, data: bytes) -> None:
        with self._state.lock:
            self._state.reads.append((connection, data[:_READ_PREFIX]))
            self._state.read_ends.append((connection, data[-_READ_PREFIX:]))

    def _record(self, message: ReceivedMessage, *, acknowledged: bool) -> None:
        with self._state.changed:
            (self._state.messages if acknowledged else self._state.unacknowledged).append(message)
            self._state.changed.notify_all()

    async def _fault(
        self, session: _Session, stage: str, recipients: Iterable[str], envelope: Envelope
    ) -> str | None:
        """Apply the faults set for this stage: wait, then a reply to send instead, or a drop."""
        recipients = set(recipients)
        with self._state.lock:
            matching = [
                fault
                for fault in self._state.faults
                if fault.stage == stage
                and (fault.recipient is None or fault.recipient in recipients)
            ]
            delay = next((fault for fault in matching if fault.kind == "slow"), None)
            hold = next((fault for fault in matching if fault.kind == "hold"), None)
            action = next((f for f in matching if f.kind not in ("slow", "hold")), None)
            released = self._state.released
            for fault in (delay, hold, action):
                if fault is not None and fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._state.faults.remove(fault)
        if delay is not None:
            await asyncio.sleep(delay.seconds)
        if hold is not None and released is not None:
            self.held.set()
            await released.wait()
        if action is None:
            return None
        if action.kind == "fail":
            return action.reply
        if stage == "message":
            self._record(_received(session, envelope), acknowledged=False)
        transport = session.transport
        assert isinstance(transport, asyncio.Transport)
        transport.abort()
        await asyncio.Event().wait()  # cancelled when the connection is lost
        return None


class _Session(SMTP):
    """aiosmtpd's protocol, counting connections and reads, with faults at the greeting and
    at the DATA command (aiosmtpd has no hook for either)."""

    def __init__(self, recorder: RecordingSmtpServer, handler: _Handler, **options: Any) -> None:
        super().__init__(handler, **options)
        self.recorder = recorder
        self.connection = 0
        self._greeted = False
        self._handler = handler
        self._chunks: list[bytes] = []
        self._chunk_failed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.connection == 0:  # not again after STARTTLS
            self.connection = self.recorder._opened(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.recorder._closed(self)
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        self.recorder._read(self.connection, data)
        super().data_received(data)

    async def push(self, status: str) -> None:  # type: ignore[override]
        if not self._greeted:
            self._greeted = True
            envelope = self.envelope or Envelope()
            status = await self.recorder._fault(self, "connect", (), envelope) or status
        await super().push(status)

    async def smtp_DATA(self, arg: str | None) -> None:
        envelope = self.envelope
        if envelope is not None and envelope.rcpt_tos and not arg:
            status = await self.recorder._fault(self, "data", envelope.rcpt_tos, envelope)
            if status is not None:
                await self.push(status)
                return
        await super().smtp_DATA(arg)

    async def smtp_BDAT(self, arg: str | None) -> None:
        """RFC 3030: `BDAT size [LAST]` then exactly size bytes, no dot-stuffing."""
        if not self.recorder.chunking:
            await self.push('500 Error: command "BDAT" not recognized')
            return
        words = (arg or "").split()
        if not 1 <= len(words) <= 2 or not words[0].isdigit() or words[1:] not in ([], ["LAST"]):
            await self.push("501 5.5.4 Syntax: BDAT size [LAST]")
            return
        chunk = await self._reader.readexactly(int(words[0]))
        last = len(words) == 2
        envelope = self.envelope
        if envelope is None or not envelope.rcpt_tos or self._chunk_failed:
            self._chunk_failed = not last
            await self.push("503 5.5.1 Error: no valid recipients")
            return
        self._chunks.append(chunk)
        if not last:
            status = await self.recorder._fault(self, "data", envelope.rcpt_tos, envelope)
            if status is not None:
                self._chunk_failed = True
            await self.push(status or f"250 2.0.0 {len(chunk)} octets received")
            return
        envelope.original_content = envelope.content = b"".join(self._chunks)
        self._chunks = []
        status = await self._handler.handle_DATA(self, self.session, envelope)
        self._set_post_data_state()
        await self.push(status)

    def _set_rset_state(self) -> None:
        super()._set_rset_state()
        self._chunks = []
        self._chunk_failed = False

    def _set_post_data_state(self) -> None:
        super()._set_post_data_state()
        self._chunks = []
        self._chunk_failed = False


class _Handler:
    """aiosmtpd hooks: PIPELINING in EHLO, AUTH if required, faults, recording."""

    def __init__(self, recorder: RecordingSmtpServer) -> None:
        self.recorder = recorder

    async def handle_EHLO(
        self,
        server: _Session,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if not self.recorder.auth_mechanisms:
            responses = [line for line in responses if not line.startswith("250-AUTH")]
        if self.recorder.pipelining:
            responses.insert(-1, "250-PIPELINING")
        if self.recorder.chunking:
            responses.insert(-1, "250-CHUNKING")
        return responses

    async def handle_MAIL(
        self,
        server: _Session,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if self.recorder.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        status = await self.recorder._fault(server, "mail", (), envelope)
        if status is not None:
            return status
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: _Session,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        status = await self.recorder._fault(server, "rcpt", (address,), envelope)
        if status is not None:
            return status
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: _Session, session: Session, envelope: Envelope) -> str:
        status = await self.recorder._fault(server, "message", envelope.rcpt_tos, envelope)
        if status is not None:
            return status
        self.recorder._record(_received(server, envelope), acknowledged=True)
        return "250 2.0.0 OK queued"


def _received(session: _Session, envelope: Envelope) -> ReceivedMessage:
    return ReceivedMessage(
        sender=envelope.mail_from or "",
        recipients=tuple(envelope.rcpt_tos),
        data=envelope.original_content or b"",
        connection=session.connection,
        tls=session.transport is not None
        and session.transport.get_extra_info("ssl_object") is not None,
    )
