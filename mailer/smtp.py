"""An asyncio SMTP client for bulk sending: one connection, one message after another.

Every problem the network or the server can cause comes back as a SendResult, never as an
exception, because the delivery worker must record each outcome before the next message.
The line that matters is the end of the message: until the data terminator "CRLF.CRLF"
(or the last BDAT chunk) has been written the server cannot have accepted the message, so
any failure is DEFERRED and safe to retry; once it has been written only the reply tells,
and a lost reply is UNKNOWN: the message may have been delivered, and sending it again
could make a duplicate.

On a server that offers PIPELINING the hot path is one write and one read per message:
the end of one message travels with the next transaction's MAIL, RCPT and DATA (RFC 2920),
or, when the server offers CHUNKING (RFC 3030), with the next MAIL, RCPT and the whole next
message as a BDAT chunk that only a later "BDAT 0 LAST" completes. Either way the next
message cannot be accepted before its own end is written, which happens only when the
caller sends it, so a connection never has more than one message whose fate is unknown.
Replies are parsed by an asyncio.Protocol as they arrive: no stream reader, no per-line
future, and the message bytes are handed to the transport as they are.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import math
import re
import socket
import ssl
import sys
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from mailer.errors import InvalidAddress, InvalidMessage, InvalidSmtpSettings, InvalidSmtpUrl


class Security(enum.StrEnum):
    """How the connection is protected: not at all, upgraded by STARTTLS, or TLS from the start."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_SUBMISSION_PORT = 587
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_URL_PARAMETERS = ("starttls", "timeout", "max_messages", "verify", "helo", "chunking")
_HOSTNAME = re.compile(r"[\x21-\x7e]+")  # what can follow EHLO or be connected to
_N = TypeVar("_N", int, float)


@dataclass(frozen=True, kw_only=True, repr=False)
class SmtpSettings:
    """Where and how to connect. The password never appears in repr, str or an error."""

    host: str
    port: int = 25
    security: Security = Security.NONE
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0  # seconds, for each command and each reply
    max_messages_per_connection: int = 100
    verify_tls: bool = True
    local_hostname: str | None = None  # the EHLO name; the host name or address otherwise
    chunking: bool = True  # BDAT (RFC 3030) when the server offers CHUNKING and PIPELINING

    def __post_init__(self) -> None:
        object.__setattr__(self, "security", _security(self.security))
        if _HOSTNAME.fullmatch(self.host) is None:
            raise InvalidSmtpSettings("the SMTP host must be a name or address, without spaces")
        if isinstance(self.port, bool) or not 1 <= self.port <= 65535:
            raise InvalidSmtpSettings(f"the SMTP port must be 1 to 65535, not {self.port!r}")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise InvalidSmtpSettings(f"the SMTP timeout must be positive, not {self.timeout!r}")
        if self.max_messages_per_connection < 1:
            raise InvalidSmtpSettings(
                "max_messages_per_connection must be at least 1, "
                f"not {self.max_messages_per_connection!r}"
            )
        if (self.username is None) != (self.password is None):
            raise InvalidSmtpSettings("SMTP authentication needs both a user name and a password")
        if self.username is not None and ("\x00" in self.username or not self.username):
            raise InvalidSmtpSettings("the SMTP user name must be non-empty and without NUL")
        if self.password is not None and "\x00" in self.password:
            raise InvalidSmtpSettings("the SMTP password must not contain a NUL character")
        if self.local_hostname is not None and _HOSTNAME.fullmatch(self.local_hostname) is None:
            raise InvalidSmtpSettings("the EHLO name must be a name or address, without spaces")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{field.name}={'***' if field.name == 'password' and value else value!r}"
            for field in fields(self)
            for value in (getattr(self, field.name),)
        )
        return f"SmtpSettings({shown})"

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Settings from `smtp://user:pass@host:587?starttls=true` or `smtps://host`.

        smtp:// is port 25 (587 with starttls=true), smtps:// is implicit TLS on 465.
        Query parameters: starttls, timeout, max_messages, verify, helo, chunking. Credentials are
        percent-decoded. InvalidSmtpUrl says what is wrong without repeating the password.
        """
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise InvalidSmtpUrl(
                "invalid SMTP URL: it must start with smtp:// or smtps:// "
                "(e.g. smtp://user:password@mail.example.org:587?starttls=true)"
            )
        if "@" in parts.path + parts.query + parts.fragment:
            # An unencoded "/", "?" or "#" in the password cut the URL short: say nothing of it.
            raise InvalidSmtpUrl(
                "invalid SMTP URL: percent-encode @ : / ? # % in the user name and password"
            )
        if parts.path not in ("", "/") or parts.fragment:
            raise InvalidSmtpUrl("invalid SMTP URL: it cannot have a path or a #fragment")
        if not parts.hostname:
            raise InvalidSmtpUrl("invalid SMTP URL: the host is missing")
        try:
            port = parts.port
        except ValueError:
            raise InvalidSmtpUrl("invalid SMTP URL: the port must be 1 to 65535") from None
        query = _query(parts.query)
        starttls = _flag(query, "starttls", default=False)
        if scheme == "smtps" and starttls:
            raise InvalidSmtpUrl(
                "invalid SMTP URL: smtps:// is TLS from the start; starttls=true is for smtp://"
            )
        security = Security.TLS if scheme == "smtps" else Security.NONE
        if starttls:
            security = Security.STARTTLS
        default_port = _SUBMISSION_PORT if starttls else _DEFAULT_PORTS[scheme]
        username = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        if username is not None and not password:
            raise InvalidSmtpUrl("invalid SMTP URL: a user name needs a password (user:pass@)")
        try:
            return cls(
                host=parts.hostname,
                port=port or default_port,
                security=security,
                username=username,
                password=password,
                timeout=_number(query, "timeout", float, 30.0),
                max_messages_per_connection=_number(query, "max_messages", int, 100),
                verify_tls=_flag(query, "verify", default=True),
                local_hostname=query.get("helo"),
                chunking=_flag(query, "chunking", default=True),
            )
        except InvalidSmtpSettings as error:
            raise InvalidSmtpUrl(f"invalid SMTP URL: {error}") from None


def _security(value: object) -> Security:
    try:
        return Security(str(value))
    except ValueError:
        raise InvalidSmtpSettings(
            f"security must be one of {', '.join(Security)}, not {value!r}"
        ) from None


def _query(text: str) -> dict[str, str]:
    query: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        if name not in _URL_PARAMETERS:
            raise InvalidSmtpUrl(
                f"invalid SMTP URL: unknown parameter {name!r} "
                f"(known: {', '.join(_URL_PARAMETERS)})"
            )
        if name in query:
            raise InvalidSmtpUrl(f"invalid SMTP URL: the parameter {name!r} is given twice")
        query[name] = value
    return query


def _flag(query: dict[str, str], name: str, *, default: bool) -> bool:
    value = query.get(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidSmtpUrl(f"invalid SMTP URL: {name} must be true or false, not {value!r}")


def _number(query: dict[str, str], name: str, kind: type[_N], default: _N) -> _N:
    value = query.get(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise InvalidSmtpUrl(
            f"invalid SMTP URL: {name} must be a{'n integer' if kind is int else ' number'}, "
            f"not {value!r}"
        ) from None


class Outcome(enum.StrEnum):
    """What became of one message; only DEFERRED may be retried automatically.

    A REJECTED at stage "mail" is about the sender or the session (530 authentication
    required, 553 sender refused), not the recipient: a worker should stop the campaign
    rather than mark the address as bad.
    """

    SENT = "sent"  # 2xx after the end of the message
    DEFERRED = "deferred"  # 4xx, or no connection before the end was written: safe to retry
    REJECTED = "rejected"  # 5xx at MAIL, RCPT, DATA or after the message: permanent
    UNKNOWN = "unknown"  # the end written, no reply: may have been delivered


@dataclass(frozen=True, kw_only=True, slots=True)
class SendResult:
    """The outcome of one send, with the server's reply (or what went wrong) for the record."""

    outcome: Outcome
    code: int | None  # the SMTP reply code, None if no reply came
    enhanced: str | None  # the enhanced status code ("5.1.1") if the reply had one
    reply: str  # the server's text (or the network problem), control characters removed
    stage: str  # "connect", "mail", "rcpt", "data" or "message"


_REPLY_CAP = 500
_MAX_REPLY_LINES = 100
_MAX_LINE = 8192  # bytes without a line end: no SMTP server sends that
_ENHANCED = re.compile(rb"([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_LINE_DOT = re.compile(rb"\r\n\.")  # a regex finds it twice as fast as `in` (memchr on CR)
_ENVELOPE_ADDRESS = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]*")  # printable ASCII but < and >
_QUIT_TIMEOUT = 5.0
_STAGES = ("mail", "rcpt", "data")
_DATA = b"DATA\r\n"
_LAST_CHUNK = b"BDAT 0 LAST\r\n"
_T = TypeVar("_T")


class _Reply(NamedTuple):
    code: int
    lines: list[bytes]  # the text of each line, after "250-" or "250 "


class _ProtocolError(Exception):
    """The server said something that is not an SMTP reply (or not the one expected)."""


class _ConnectFailed(Exception):
    """Connecting, securing or authenticating failed: carries the result to return."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.reply)
        self.result = result


# Everything the network and the server can do to us; anything else is a bug and is raised.
_NETWORK = (OSError, EOFError, TimeoutError, _ProtocolError)


class Prepared:
    """One message made ready for the wire: checked once, its commands encoded once.

    InvalidAddress for an envelope address that could inject commands, InvalidMessage for
    a bare CR or LF; a message without a final line break gets one. `line_ends_checked`
    skips the line-end check (about 30 µs for 25 KB) for bytes whose maker guarantees
    CRLF alone, as mailer.mime does by construction.
    """

    __slots__ = ("_stuffed", "chunk", "mail", "message", "opening", "rcpt")

    def __init__(
        self, *, sender: str, recipient: str, message: bytes, line_ends_checked: bool = False
    ) -> None:
        self.mail, self.rcpt = _envelope(sender, recipient)
        if not line_ends_checked:
            _check_line_ends(message)
        if not message.endswith(b"\r\n"):
            message += b"\r\n"
        self.message = message
        self.opening = self.mail + self.rcpt + _DATA  # MAIL, RCPT and DATA in one write
        self.chunk = b"BDAT %d\r\n" % len(message)
        self._stuffed: bytes | None = None

    def stuffed(self) -> bytes:
        """The message as DATA carries it: a dot doubled at the start of every line."""
        if self._stuffed is None:
            message = self.message
            if message.startswith(b".") or _LINE_DOT.search(message) is not None:
                message = (b"." if message.startswith(b".") else b"") + message.replace(
                    b"\r\n.", b"\r\n.."
                )
            self._stuffed = message
        return self._stuffed


def prepare(
    *, sender: str, recipient: str, message: bytes, line_ends_checked: bool = False
) -> Prepared:
    """The message ready for SmtpConnection.deliver (see Prepared for what it refuses)."""
    return Prepared(
        sender=sender, recipient=recipient, message=message, line_ends_checked=line_ends_checked
    )


class _Replies(asyncio.Protocol):
    """Reads SMTP replies off the connection as they arrive and hands them out in order.

    One waiter at a time, woken when bytes or the end come; a deadline per read. Lines are
    split here, so a burst of pipelined replies costs one wake-up, not one per line.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._partial = b""
        self._lines: list[bytes] = []
        self._replies: deque[_Reply] = deque()
        self._failure: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = loop.create_future()

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self._partial:
            data = self._partial + data
        start = 0
        end = data.find(b"\n")
        while end >= 0 and self._failure is None:
            self._line(data[start : end + 1])
            start = end + 1
            end = data.find(b"\n", start)
        self._partial = data[start:]
        if len(self._partial) > _MAX_LINE:
            self._fail(_ProtocolError("the server sent a reply line too long to be SMTP"))
        self._wake()

    def eof_received(self) -> bool:
        self._fail(EOFError("the server closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or EOFError("the server closed the connection"))
        if not self.closed.done():
            self.closed.set_result(None)

    # Ours

    @property
    def failed(self) -> bool:
        return self._failure is not None

    @property
    def pending(self) -> bool:
        """Whether anything arrived that nobody has read yet."""
        return bool(self._partial or self._lines or self._replies)

    async def read(self, replies: list[_Reply], count: int, timeout: float) -> None:
        """Append replies to `replies` until it has `count`, or stop at a 421 (the server
        is closing: nothing more will come). Raises the network problem otherwise."""
        deadline = self._loop.time() + timeout
        while len(replies) < count:
            if self._replies:
                reply = self._replies.popleft()
                replies.append(reply)
                if reply.code == 421:
                    return
            elif self._failure is not None:
                raise self._failure
            else:
                await self._wait(deadline)

    async def read_one(self, timeout: float) -> _Reply:
        replies: list[_Reply] = []
        await self.read(replies, 1, timeout)
        return replies[0]

    def _line(self, line: bytes) -> None:
        code, separator = line[:3], line[3:4]
        if not code.isdigit() or separator not in (b" ", b"-", b"\r", b"\n"):
            text = line[:80].decode("utf-8", "replace")
            self._fail(_ProtocolError(f"not an SMTP reply: {text}"))
            return
        self._lines.append(line[4:].rstrip(b"\r\n"))
        if separator != b"-":
            self._replies.append(_Reply(int(code), self._lines))
            self._lines = []
        elif len(self._lines) >= _MAX_REPLY_LINES:
            self._fail(_ProtocolError(f"a reply of more than {_MAX_REPLY_LINES} lines"))

    async def _wait(self, deadline: float) -> None:
        waiter = self._loop.create_future()
        self._waiter = waiter
        timer = self._loop.call_at(deadline, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self._failure is None:
            self._failure = error
        self._wake()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _Redactor:
    """Takes the configured credentials out of any text a server sends back.

    Some relays quote the failed login in their reply (`535 ... [user pa$$word]`); that
    text goes into results, logs and the database, so the client, which alone knows the
    credentials, removes them (plain and as the base64 that AUTH sent) before anyone sees it.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        secrets: set[str] = set()
        username, password = settings.username, settings.password
        if password:
            secrets |= {
                password,
                _b64(password).decode(),
                _b64(f"\x00{username}\x00{password}").decode(),
            }
        if username and len(username) >= 3:  # a shorter one would blank ordinary words
            secrets |= {username, _b64(username).decode()}
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text


class SmtpConnection:
    """One SMTP connection, opened lazily, reused for max_messages_per_connection messages.

    Not for concurrent use: each delivery task owns one and awaits each send in turn.
    Cancelling a send after its data phase began leaves the outcome unknown, so a worker
    that stops should let the current send finish.
    """

    def __init__(self, *, settings: SmtpSettings) -> None:
        self._settings = settings
        self._protocol: _Replies | None = None
        self._transport: asyncio.Transport | None = None
        self._pipelining = False
        self._chunking = False
        self._count = 0
        self._busy = False
        self._tls: ssl.SSLContext | None = None
        self._ahead: Prepared | None = None  # begun with the last message's end
        self._redact = _Redactor(settings)

    @property
    def messages_on_connection(self) -> int:
        """Transactions started on the current connection (0 when not connected)."""
        return self._count

    @property
    def chunking(self) -> bool:
        """Whether messages go as BDAT chunks on the current connection (else DATA)."""
        return self._chunking

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, *, sender: str, recipient: str, message: bytes) -> SendResult:
        """Send one message to one recipient; every SMTP or network problem is a result.

        `message` is the complete message with CRLF line ends (what mailer.mime builds);
        `sender` may be "" (the null reverse-path). Raises only for arguments that could
        never be sent: InvalidAddress, InvalidMessage.
        """
        return await self.deliver(prepare(sender=sender, recipient=recipient, message=message))

    async def deliver(self, prepared: Prepared, *, then: Prepared | None = None) -> SendResult:
        """Send one prepared message; every SMTP or network problem is a result.

        `then` is the message the caller will deliver next on this connection: on a server
        that pipelines, its transaction is begun in the same write as this message's end,
        and the next call must pass it (any other message drops the connection, because a
        transaction is open on it). Its own end is written only by that call, so it can
        never be accepted before the caller has dealt with this result.
        """
        if self._busy:
            raise RuntimeError("SmtpConnection.send was called again before the last one ended")
        self._busy = True
        try:
            return await self._deliver(prepared, then)
        except BaseException:
            self._abort()  # cancelled mid-transaction: the protocol state is unknown
            raise
        finally:
            self._busy = False

    async def close(self) -> None:
        """Say QUIT and close the connection; never raises."""
        if self._ahead is not None:
            self._abort()  # a transaction is open: QUIT could be read as message text
        elif self._transport is not None:
            await self._quit()

    async def _deliver(self, prepared: Prepared, then: Prepared | None) -> SendResult:
        if self._ahead is prepared:  # its MAIL, RCPT and DATA went with the last message
            self._ahead = None
            result = await self._transaction(prepared, then, reused=True)
            if result is not None:
                return result
            self._abort()  # the server closed the connection: a new one, once
        else:
            if self._ahead is not None:  # the caller changed its mind about the next message
                self._abort()
            if self._transport is not None and self._count >= self._max:
                await self._quit()
            if self._transport is not None:
                self._begin(prepared)
                result = await self._transaction(prepared, then, reused=True)
                if result is not None:
                    return result
                self._abort()
        try:
            await self._connect()
        except _ConnectFailed as failed:
            return failed.result
        self._begin(prepared)
        result = await self._transaction(prepared, then, reused=False)
        assert result is not None
        return result

    @property
    def _max(self) -> int:
        return self._settings.max_messages_per_connection

    def _begin(self, prepared: Prepared) -> None:
        """Start a transaction: with pipelining its commands go out now, in one write."""
        self._count += 1
        if self._pipelining:
            assert self._transport is not None
            self._transport.writelines(self._opening(prepared))

    def _opening(self, prepared: Prepared) -> list[bytes]:
        if self._chunking:  # the whole message as a chunk that only BDAT 0 LAST completes
            return [prepared.mail, prepared.rcpt, prepared.chunk, prepared.message]
        return [prepared.opening]

    async def _transaction(
        self, prepared: Prepared, then: Prepared | None, *, reused: bool
    ) -> SendResult | None:
        """Read the envelope's replies, then send the end; None if a reused connection
        turned out closed before anything was accepted."""
        replies: list[_Reply] = []
        try:
            await self._envelope_replies(prepared, replies)
        except _NETWORK as error:
            if reused and not replies and not isinstance(error, TimeoutError):
                return None
            self._abort()
            return self._failure(Outcome.DEFERRED, _STAGES[len(replies)], error)
        if reused and replies[0].code == 421:
            return None
        if not self._accepted(replies):
            return await self._refused(replies)
        return await self._end(prepared, then)

    async def _envelope_replies(self, prepared: Prepared, replies: list[_Reply]) -> None:
        """The replies to MAIL, RCPT and DATA (or the BDAT chunk); in lockstep without
        pipelining, each command waits for the reply to the one before."""
        protocol, transport = self._protocol, self._transport
        assert protocol is not None and transport is not None
        timeout = self._settings.timeout
        if self._pipelining:
            await protocol.read(replies, 3, timeout)
            return
        for index, command in enumerate((prepared.mail, prepared.rcpt, _DATA)):
            transport.write(command)
            await protocol.read(replies, index + 1, timeout)
            if not self._went_well(index, replies[-1]):
                return

    async def _end(self, prepared: Prepared, then: Prepared | None) -> SendResult:
        """Write the end of the message (and begin `then`), then wait for the verdict."""
        protocol, transport = self._protocol, self._transport
        assert protocol is not None and transport is not None
        if protocol.failed or transport.is_closing():  # gone after 354: nothing accepted
            self._abort()
            return self._failure(Outcome.DEFERRED, "data", EOFError())
        pieces = [_LAST_CHUNK] if self._chunking else [prepared.stuffed(), b".\r\n"]
        if then is not None and self._pipelining and self._count < self._max:
            pieces += self._opening(then)
            self._count += 1
            self._ahead = then
        transport.writelines(pieces)
        try:
            final = await protocol.read_one(self._settings.timeout)
        except _NETWORK as error:
            self._abort()
            return self._failure(Outcome.UNKNOWN, "message", error)
        if final.code // 100 not in (2, 4, 5):
            self._abort()
            return self._result(final, "message", outcome=Outcome.UNKNOWN)
        if final.code == 421:
            self._abort()
        return self._result(final, "message")

    async def _refused(self, replies: list[_Reply]) -> SendResult:
        """The result of a transaction refused before its end; the connection is reset."""
        index = next(
            (i for i, reply in enumerate(replies) if not self._went_well(i, reply)),
            len(replies) - 1,
        )
        stage, reply = _STAGES[index], replies[index]
        result = self._result(reply, stage)
        if reply.code // 100 not in (4, 5) or reply.code == 421:
            self._abort()  # a reply that makes no sense here, or the server is closing
            return self._result(reply, stage, outcome=Outcome.DEFERRED)
        protocol, transport = self._protocol, self._transport
        assert protocol is not None and transport is not None
        timeout = self._settings.timeout
        try:
            if not self._chunking and len(replies) == 3 and replies[2].code == 354:
                # Only pipelining gets here (a refused RCPT, yet 354): an empty message
                # with no valid recipient ends the data phase and delivers nothing.
                transport.write(b".\r\n")
                await protocol.read_one(timeout)
            # After a refused BDAT chunk RFC 3030 wants a RSET before anything else.
            transport.write(b"RSET\r\n")
            reset = await protocol.read_one(timeout)
            if reset.code // 100 != 2:
                raise _ProtocolError(f"RSET answered {reset.code}")
        except _NETWORK:
            self._abort()
        return result

    def _accepted(self, replies: list[_Reply]) -> bool:
        """MAIL and RCPT accepted, and DATA answered 354 (or the chunk taken)."""
        return len(replies) == 3 and all(
            self._went_well(i, reply) for i, reply in enumerate(replies)
        )

    def _went_well(self, index: int, reply: _Reply) -> bool:
        """Whether the reply to MAIL (0), RCPT (1) or DATA/BDAT (2) lets the transaction go on."""
        if index == 2 and not self._chunking:
            return reply.code == 354
        return reply.code // 100 == 2

    async def _connect(self) -> None:
        """Open, greet, secure and authenticate, or raise _ConnectFailed with the result."""
        settings = self._settings
        timeout = settings.timeout
        loop = asyncio.get_running_loop()
        self._count = 0
        self._pipelining = self._chunking = False
        protocol = _Replies(loop)
        try:
            async with asyncio.timeout(timeout):
                if settings.security is Security.TLS:
                    transport, _ = await loop.create_connection(
                        lambda: protocol,
                        settings.host,
                        settings.port,
                        ssl=self._tls_context(),
                        server_hostname=settings.host,
                        ssl_handshake_timeout=timeout,
                    )
                else:
                    transport, _ = await loop.create_connection(
                        lambda: protocol, settings.host, settings.port
                    )
            self._protocol, self._transport = protocol, transport
            self._expect(await protocol.read_one(timeout), 220)
            extensions = await self._hello()
            if settings.security is Security.STARTTLS:
                if "STARTTLS" not in extensions:
                    raise _refusal("the server does not offer STARTTLS")
                self._expect(await self._command(b"STARTTLS\r\n"), 220)
                if protocol.pending:
                    # Read later as if it came over TLS: a man in the middle injecting replies.
                    raise _ProtocolError("the server sent more after 220 to STARTTLS")
                async with asyncio.timeout(timeout):
                    secured = await loop.start_tls(
                        transport,
                        protocol,
                        self._tls_context(),
                        server_hostname=settings.host,
                        ssl_handshake_timeout=timeout,
                    )
                if secured is None:
                    raise _ProtocolError("TLS could not be started on this connection")
                self._transport = protocol.transport = secured
                extensions = await self._hello()
            if settings.username is not None and settings.password is not None:
                await self._authenticate(extensions, settings.username, settings.password)
        except _ConnectFailed:
            await self._quit()
            raise
        except _NETWORK as error:
            self._abort()
            raise _ConnectFailed(self._failure(Outcome.DEFERRED, "connect", error)) from None
        self._pipelining = "PIPELINING" in extensions
        self._chunking = settings.chunking and self._pipelining and "CHUNKING" in extensions

    async def _hello(self) -> dict[str, str]:
        """EHLO (HELO if refused); the extensions the server advertised, keyword -> params."""
        name = self._settings.local_hostname or self._local_name()
        reply = await self._command(f"EHLO {name}\r\n".encode("ascii"))
        if reply.code // 100 == 5:
            self._expect(await self._command(f"HELO {name}\r\n".encode("ascii")), 250)
            return {}
        self._expect(reply, 250)
        extensions = {}
        for line in reply.lines[1:]:
            keyword, _, params = line.decode("ascii", "replace").partition(" ")
            extensions[keyword.upper()] = params.strip()
        return extensions

    async def _authenticate(self, extensions: dict[str, str], username: str, password: str) -> None:
        offered = extensions.get("AUTH", "").upper().split()
        if "PLAIN" in offered:
            token = _b64(f"\x00{username}\x00{password}")
            self._expect(await self._command(b"AUTH PLAIN " + token + b"\r\n"), 235)
        elif "LOGIN" in offered:
            self._expect(await self._command(b"AUTH LOGIN\r\n"), 334)
            self._expect(await self._command(_b64(username) + b"\r\n"), 334)
            self._expect(await self._command(_b64(password) + b"\r\n"), 235)
        elif not offered:
            raise _refusal("the server does not offer AUTH (does it need STARTTLS first?)")
        else:
            raise _refusal(
                f"the server offers no AUTH mechanism we speak (PLAIN, LOGIN): {' '.join(offered)}"
            )

    async def _command(self, command: bytes) -> _Reply:
        """Write one command of the handshake and read its reply."""
        protocol, transport = self._protocol, self._transport
        assert protocol is not None and transport is not None
        transport.write(command)
        return await protocol.read_one(self._settings.timeout)

    def _expect(self, reply: _Reply, code: int) -> None:
        """Return if the reply has the expected code, else fail the connection attempt."""
        if reply.code != code:
            raise _ConnectFailed(self._result(reply, "connect", outcome=Outcome.DEFERRED))

    async def _quit(self) -> None:
        """QUIT politely, then close; never raises, whatever state the connection is in."""
        protocol, transport = self._protocol, self._transport
        self._protocol = self._transport = None
        self._count = 0
        self._ahead = None
        if protocol is None or transport is None:
            return
        try:
            timeout = min(self._settings.timeout, _QUIT_TIMEOUT)
            if not transport.is_closing() and not protocol.failed:
                transport.write(b"QUIT\r\n")
                await protocol.read_one(timeout)
            transport.close()
            async with asyncio.timeout(timeout):
                await protocol.closed
        except Exception:  # closing must not fail, whatever the server did
            transport.abort()

    def _abort(self) -> None:
        """Drop the connection at once: its state is unknown or it is already gone."""
        transport = self._transport
        self._protocol = self._transport = None
        self._count = 0
        self._ahead = None
        if transport is not None:
            transport.abort()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            context = ssl.create_default_context()
            if not self._settings.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._tls = context
        return self._tls

    def _local_name(self) -> str:
        """Our host name if it is qualified, else our address literal, as RFC 5321 asks."""
        name = socket.gethostname()
        if "." in name and _HOSTNAME.fullmatch(name):
            return name
        assert self._transport is not None
        address = str(self._transport.get_extra_info("sockname", ("127.0.0.1",))[0])
        return f"[IPv6:{address}]" if ":" in address else f"[{address}]"

    def _result(self, reply: _Reply, stage: str, *, outcome: Outcome | None = None) -> SendResult:
        """The result a reply gives: 2xx SENT, 4xx DEFERRED, 5xx REJECTED unless told otherwise."""
        kind = reply.code // 100
        if outcome is None:
            outcome = {2: Outcome.SENT, 5: Outcome.REJECTED}.get(kind, Outcome.DEFERRED)
        enhanced = _ENHANCED.match(reply.lines[0])
        return SendResult(
            outcome=outcome,
            code=reply.code,
            enhanced=(
                enhanced.group().decode("ascii")
                if enhanced is not None and int(enhanced[1]) == kind
                else None
            ),
            reply=self._clean(b" ".join(reply.lines)),
            stage=stage,
        )

    def _failure(self, outcome: Outcome, stage: str, error: BaseException) -> SendResult:
        """The result of a network problem: no reply code, a description of what happened."""
        if isinstance(error, TimeoutError):
            text = f"no reply within {self._settings.timeout:g} s"
        elif isinstance(error, ssl.SSLError):
            text = f"TLS failed: {error.reason or error}"
        elif isinstance(error, ConnectionRefusedError):
            text = "connection refused"
        elif isinstance(error, EOFError | ConnectionResetError | BrokenPipeError):
            text = "the server closed the connection"
        else:
            text = str(error) or type(error).__name__
        return SendResult(
            outcome=outcome, code=None, enhanced=None, reply=self._clean(text.encode()), stage=stage
        )

    def _clean(self, text: bytes) -> str:
        """Server text fit for a log or a database column: decoded, without our credentials
        or control characters, capped."""
        decoded = self._redact(text.decode("utf-8", "replace"))
        return self._redact(_CONTROL.sub(" ", decoded).strip())[:_REPLY_CAP]


def send_one(*, settings: SmtpSettings, sender: str, recipient: str, message: bytes) -> SendResult:
    """One message on a connection of its own, from synchronous code: a test message or a
    confirmation mail, where a campaign's reused connections would be out of place."""

    async def exchange() -> SendResult:
        connection = SmtpConnection(settings=settings)
        try:
            return await connection.send(sender=sender, recipient=recipient, message=message)
        finally:
            await connection.close()

    return run(exchange())


def run(main: Coroutine[Any, Any, _T], *, uvloop: bool = True) -> _T:
    """asyncio.run, on uvloop when it is installed on Linux (the `uvloop` extra) unless
    told otherwise: its transports write a list of pieces with one writev and cost less
    per read and per wake-up; without it the standard loop does the same work."""
    with asyncio.Runner(loop_factory=event_loop_factory() if uvloop else None) as runner:
        return runner.run(main)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop on Linux when it is installed, else None (asyncio's own)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _envelope(sender: str, recipient: str) -> tuple[bytes, bytes]:
    """The MAIL and RCPT commands, or InvalidAddress for what could inject commands."""
    if _ENVELOPE_ADDRESS.fullmatch(sender) is None:
        raise InvalidAddress(f"{sender!r} cannot be an envelope sender: {_problem(sender)}")
    if not recipient or _ENVELOPE_ADDRESS.fullmatch(recipient) is None:
        raise InvalidAddress(
            f"{recipient!r} cannot be an envelope recipient: {_problem(recipient) or 'empty'}"
        )
    return (
        f"MAIL FROM:<{sender}>\r\n".encode("ascii"),
        f"RCPT TO:<{recipient}>\r\n".encode("ascii"),
    )


def _problem(address: str) -> str:
    for char in address:
        if char in "\r\n":
            return "it contains a line break, which could inject SMTP commands"
        if char in "<> \t":
            return f"it contains {char!r}"
        if not "\x21" <= char <= "\x7e":
            return (
                f"it contains {char!r}: envelope addresses must be ASCII "
                "(a non-ASCII domain in its IDNA form, xn--...)"
            )
    return ""


def _check_line_ends(message: bytes) -> None:
    """Refuse a bare CR or LF: servers disagree on whether one ends a line, which is how
    "SMTP smuggling" hides a second message inside the first. Comparing the counts of CR
    and LF (about 13 µs for 20 KB) catches LF-only or CR-only messages, the mistakes that
    happen; mailer.mime never makes a bare one."""
    if message.count(b"\r") != message.count(b"\n"):
        position = re.search(rb"\r(?!\n)|(?<!\r)\n", message)
        raise InvalidMessage(
            "the message has a bare CR or LF (SMTP needs CRLF line ends) "
            f"at byte {position.start() if position else '?'}"
        )


def _refusal(text: str) -> _ConnectFailed:
    return _ConnectFailed(
        SendResult(outcome=Outcome.DEFERRED, code=None, enhanced=None, reply=text, stage="connect")
    )


def _b64(text: str) -> bytes:
    return base64.b64encode(text.encode("utf-8"))
