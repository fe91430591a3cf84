"""An asyncio SMTP client for bulk sending: one connection, one message after another.

Every problem the network or the server can cause comes back as a SendResult, never as an
exception, because the delivery worker must record each outcome before the next message.
The line that matters is the data terminator: until "CRLF.CRLF" has been written the
server cannot have accepted the message, so any failure is DEFERRED and safe to retry;
once it has been written only the reply tells, and a lost reply is UNKNOWN: the message
may have been delivered, and sending it again could make a duplicate.

The hot path is two writes and four reply reads per message on a reused connection
(MAIL, RCPT and DATA pipelined when the server allows it), with no copy of the message
unless it needs dot-stuffing.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import math
import re
import socket
import ssl
from dataclasses import dataclass, fields
from types import TracebackType
from typing import NamedTuple, Self, TypeVar
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
_URL_PARAMETERS = ("starttls", "timeout", "max_messages", "verify", "helo")
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
        Query parameters: starttls, timeout, max_messages, verify, helo. Credentials are
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

    SENT = "sent"  # 2xx after the end of DATA
    DEFERRED = "deferred"  # 4xx, or no connection before the terminator: safe to retry
    REJECTED = "rejected"  # 5xx at MAIL, RCPT, DATA or after the message: permanent
    UNKNOWN = "unknown"  # terminator written, no reply: may have been delivered


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
_ENHANCED = re.compile(rb"([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_LINE_DOT = re.compile(rb"\r\n\.")  # a regex finds it twice as fast as `in` (memchr on CR)
_ENVELOPE_ADDRESS = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]*")  # printable ASCII but < and >
_QUIT_TIMEOUT = 5.0
_STAGES = ("mail", "rcpt", "data")


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


class SmtpConnection:
    """One SMTP connection, opened lazily, reused for max_messages_per_connection messages.

    Not for concurrent use: each delivery task owns one and awaits each send in turn.
    Cancelling a send after its data phase began leaves the outcome unknown, so a worker
    that stops should let the current send finish.
    """

    def __init__(self, *, settings: SmtpSettings) -> None:
        self._settings = settings
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pipelining = False
        self._count = 0
        self._busy = False
        self._tls: ssl.SSLContext | None = None

    @property
    def messages_on_connection(self) -> int:
        """Transactions started on the current connection (0 when not connected)."""
        return self._count

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
        envelope = _envelope(sender, recipient)
        data = _data(message)
        if self._busy:
            raise RuntimeError("SmtpConnection.send was called again before the last one ended")
        self._busy = True
        try:
            return await self._send(envelope, data)
        except BaseException:
            self._abort()  # cancelled mid-transaction: the protocol state is unknown
            raise
        finally:
            self._busy = False

    async def close(self) -> None:
        """Say QUIT and close the connection; never raises."""
        if self._writer is not None:
            await self._quit()

    async def _send(self, envelope: tuple[bytes, bytes], data: tuple[bytes, bytes]) -> SendResult:
        if self._writer is not None and self._count >= self._settings.max_messages_per_connection:
            await self._quit()
        if self._writer is not None:
            result = await self._transaction(envelope, data, reused=True)
            if result is not None:
                return result
            self._abort()  # the server closed the idle connection: a new one, once
        try:
            await self._connect()
        except _ConnectFailed as failed:
            return failed.result
        result = await self._transaction(envelope, data, reused=False)
        assert result is not None
        return result

    async def _transaction(
        self, envelope: tuple[bytes, bytes], data: tuple[bytes, bytes], *, reused: bool
    ) -> SendResult | None:
        """MAIL, RCPT, DATA and the message; None if a reused connection turned out closed."""
        self._count += 1
        replies: list[_Reply] = []
        try:
            await self._envelope(envelope, replies)
        except _NETWORK as error:
            if reused and not replies and not isinstance(error, TimeoutError):
                return None
            self._abort()
            return _failure(Outcome.DEFERRED, _STAGES[len(replies)], error, self._settings.timeout)
        if reused and replies[0].code == 421:
            return None
        if not _accepted(replies):
            return await self._refused(replies)
        return await self._message(data)

    async def _envelope(self, envelope: tuple[bytes, bytes], replies: list[_Reply]) -> None:
        """Send MAIL, RCPT and DATA, pipelined if we may, appending each reply as it comes."""
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        commands = (*envelope, b"DATA\r\n")
        async with asyncio.timeout(self._settings.timeout):
            if self._pipelining:
                writer.write(b"".join(commands))
                while len(replies) < 3 and (not replies or replies[-1].code != 421):
                    replies.append(await _read_reply(reader))
            else:
                for command in commands:
                    writer.write(command)
                    replies.append(await _read_reply(reader))
                    if not _went_well(len(replies) - 1, replies[-1]):
                        break

    async def _message(self, data: tuple[bytes, bytes]) -> SendResult:
        """Write the message and its terminator in one go, then wait for the verdict."""
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        timeout = self._settings.timeout
        if reader.at_eof() or writer.is_closing():  # gone after 354: nothing can be accepted
            self._abort()
            return _failure(Outcome.DEFERRED, "data", EOFError(), timeout)
        writer.writelines(data)
        try:
            async with asyncio.timeout(timeout):
                final = await _read_reply(reader)
        except _NETWORK as error:
            self._abort()
            return _failure(Outcome.UNKNOWN, "message", error, timeout)
        if final.code // 100 not in (2, 4, 5):
            self._abort()
            return _result(final, "message", outcome=Outcome.UNKNOWN)
        if final.code == 421:
            self._abort()
        return _result(final, "message")

    async def _refused(self, replies: list[_Reply]) -> SendResult:
        """The result of a transaction refused before the message; the connection is reset."""
        index = next(
            (i for i, reply in enumerate(replies) if not _went_well(i, reply)), len(replies) - 1
        )
        stage, reply = _STAGES[index], replies[index]
        result = _result(reply, stage)
        if reply.code // 100 not in (4, 5) or reply.code == 421:
            self._abort()  # a reply that makes no sense here, or the server is closing
            return _result(reply, stage, outcome=Outcome.DEFERRED)
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        try:
            async with asyncio.timeout(self._settings.timeout):
                if len(replies) == 3 and replies[2].code == 354:
                    # Only pipelining gets here (a refused RCPT, yet 354): an empty message
                    # with no valid recipient ends the data phase and delivers nothing.
                    writer.write(b".\r\n")
                    await _read_reply(reader)
                writer.write(b"RSET\r\n")
                reset = await _read_reply(reader)
            if reset.code // 100 != 2:
                raise _ProtocolError(f"RSET answered {reset.code}")
        except _NETWORK:
            self._abort()
        return result

    async def _connect(self) -> None:
        """Open, greet, secure and authenticate, or raise _ConnectFailed with the result."""
        settings = self._settings
        timeout = settings.timeout
        self._count = 0
        self._pipelining = False
        try:
            async with asyncio.timeout(timeout):
                if settings.security is Security.TLS:
                    self._reader, self._writer = await asyncio.open_connection(
                        settings.host,
                        settings.port,
                        ssl=self._tls_context(),
                        server_hostname=settings.host,
                        ssl_handshake_timeout=timeout,
                    )
                else:
                    self._reader, self._writer = await asyncio.open_connection(
                        settings.host, settings.port
                    )
            greeting = await self._command(None)
            _expect(greeting, 220)
            extensions = await self._hello()
            if settings.security is Security.STARTTLS:
                if "STARTTLS" not in extensions:
                    raise _refusal("the server does not offer STARTTLS")
                _expect(await self._command(b"STARTTLS\r\n"), 220)
                assert self._reader is not None and self._writer is not None
                if getattr(self._reader, "_buffer", b""):  # StreamReader has no public peek
                    # Read later as if it came over TLS: a man in the middle injecting replies.
                    raise _ProtocolError("the server sent more after 220 to STARTTLS")
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(
                        self._tls_context(),
                        server_hostname=settings.host,
                        ssl_handshake_timeout=timeout,
                    )
                extensions = await self._hello()
            if settings.username is not None and settings.password is not None:
                await self._authenticate(extensions, settings.username, settings.password)
        except _ConnectFailed:
            await self._quit()
            raise
        except _NETWORK as error:
            self._abort()
            raise _ConnectFailed(_failure(Outcome.DEFERRED, "connect", error, timeout)) from None
        self._pipelining = "PIPELINING" in extensions

    async def _hello(self) -> dict[str, str]:
        """EHLO (HELO if refused); the extensions the server advertised, keyword -> params."""
        name = self._settings.local_hostname or self._local_name()
        reply = await self._command(f"EHLO {name}\r\n".encode("ascii"))
        if reply.code // 100 == 5:
            _expect(await self._command(f"HELO {name}\r\n".encode("ascii")), 250)
            return {}
        _expect(reply, 250)
        extensions = {}
        for line in reply.lines[1:]:
            keyword, _, params = line.decode("ascii", "replace").partition(" ")
            extensions[keyword.upper()] = params.strip()
        return extensions

    async def _authenticate(self, extensions: dict[str, str], username: str, password: str) -> None:
        offered = extensions.get("AUTH", "").upper().split()
        if "PLAIN" in offered:
            token = _b64(f"\x00{username}\x00{password}")
            _expect(await self._command(b"AUTH PLAIN " + token + b"\r\n"), 235)
        elif "LOGIN" in offered:
            _expect(await self._command(b"AUTH LOGIN\r\n"), 334)
            _expect(await self._command(_b64(username) + b"\r\n"), 334)
            _expect(await self._command(_b64(password) + b"\r\n"), 235)
        elif not offered:
            raise _refusal("the server does not offer AUTH (does it need STARTTLS first?)")
        else:
            raise _refusal(
                f"the server offers no AUTH mechanism we speak (PLAIN, LOGIN): {' '.join(offered)}"
            )

    async def _command(self, command: bytes | None) -> _Reply:
        """Write one command (None: just read, as for the greeting) and read its reply."""
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        async with asyncio.timeout(self._settings.timeout):
            if command is not None:
                writer.write(command)
            return await _read_reply(reader)

    async def _quit(self) -> None:
        """QUIT politely, then close; never raises, whatever state the connection is in."""
        writer, reader = self._writer, self._reader
        self._reader = self._writer = None
        self._count = 0
        if writer is None or reader is None:
            return
        try:
            async with asyncio.timeout(min(self._settings.timeout, _QUIT_TIMEOUT)):
                if not writer.is_closing() and not reader.at_eof():
                    writer.write(b"QUIT\r\n")
                    await _read_reply(reader)
                writer.close()
                await writer.wait_closed()
        except Exception:  # closing must not fail, whatever the server did
            writer.transport.abort()

    def _abort(self) -> None:
        """Drop the connection at once: its state is unknown or it is already gone."""
        writer = self._writer
        self._reader = self._writer = None
        self._count = 0
        if writer is not None:
            writer.transport.abort()

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
        assert self._writer is not None
        address = str(self._writer.get_extra_info("sockname", ("127.0.0.1",))[0])
        return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


def send_one(*, settings: SmtpSettings, sender: str, recipient: str, message: bytes) -> SendResult:
    """One message on a connection of its own, from synchronous code: a test message or a
    confirmation mail, where a campaign's reused connections would be out of place."""

    async def exchange() -> SendResult:
        connection = SmtpConnection(settings=settings)
        try:
            return await connection.send(sender=sender, recipient=recipient, message=message)
        finally:
            await connection.close()

    return asyncio.run(exchange())


async def _read_reply(reader: asyncio.StreamReader) -> _Reply:
    """One reply, single or multi-line ("250-..." lines, then "250 ...")."""
    lines = []
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # longer than the reader's limit
            raise _ProtocolError("the server sent a reply line too long to be SMTP") from None
        if not line.endswith(b"\n"):
            raise EOFError("the server closed the connection")
        code = line[:3]
        separator = line[3:4]
        if not code.isdigit() or separator not in (b" ", b"-", b"\r", b"\n"):
            raise _ProtocolError(f"not an SMTP reply: {_clean(line[:80])!r}")
        lines.append(line[4:].rstrip(b"\r\n"))
        if separator != b"-":
            return _Reply(int(code), lines)
        if len(lines) >= _MAX_REPLY_LINES:
            raise _ProtocolError(f"a reply of more than {_MAX_REPLY_LINES} lines")


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


def _data(message: bytes) -> tuple[bytes, bytes]:
    """The message as it goes on the wire, dot-stuffed if needed, and the terminator.

    Line ends must be CRLF: servers disagree on whether a bare CR or LF ends a line, which
    is how "SMTP smuggling" hides a second message inside the first. Comparing the counts
    of CR and LF (about 13 µs for 20 KB) catches LF-only or CR-only messages, the mistakes
    that happen; mailer.mime never makes a bare one.
    """
    if message.count(b"\r") != message.count(b"\n"):
        position = re.search(rb"\r(?!\n)|(?<!\r)\n", message)
        raise InvalidMessage(
            "the message has a bare CR or LF (SMTP needs CRLF line ends) "
            f"at byte {position.start() if position else '?'}"
        )
    if message.startswith(b".") or _LINE_DOT.search(message) is not None:
        message = (b"." if message.startswith(b".") else b"") + message.replace(b"\r\n.", b"\r\n..")
    return message, b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"


def _accepted(replies: list[_Reply]) -> bool:
    """MAIL and RCPT accepted (2xx) and DATA answered 354 "start mail input"."""
    return len(replies) == 3 and all(_went_well(i, reply) for i, reply in enumerate(replies))


def _went_well(index: int, reply: _Reply) -> bool:
    """Whether the reply to MAIL (0), RCPT (1) or DATA (2) lets the transaction go on."""
    return reply.code == 354 if index == 2 else reply.code // 100 == 2


def _expect(reply: _Reply, code: int) -> None:
    """Return if the reply has the expected code, else fail the connection attempt."""
    if reply.code != code:
        raise _ConnectFailed(_result(reply, "connect", outcome=Outcome.DEFERRED))


def _refusal(text: str) -> _ConnectFailed:
    return _ConnectFailed(
        SendResult(outcome=Outcome.DEFERRED, code=None, enhanced=None, reply=text, stage="connect")
    )


def _result(reply: _Reply, stage: str, *, outcome: Outcome | None = None) -> SendResult:
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
        reply=_text(reply),
        stage=stage,
    )


def _failure(outcome: Outcome, stage: str, error: BaseException, timeout: float) -> SendResult:
    """The result of a network problem: no reply code, a description of what happened."""
    if isinstance(error, TimeoutError):
        text = f"no reply within {timeout:g} s"
    elif isinstance(error, ssl.SSLError):
        text = f"TLS failed: {error.reason or error}"
    elif isinstance(error, ConnectionRefusedError):
        text = "connection refused"
    elif isinstance(error, EOFError | ConnectionResetError | BrokenPipeError):
        text = "the server closed the connection"
    else:
        text = str(error) or type(error).__name__
    return SendResult(
        outcome=outcome, code=None, enhanced=None, reply=_clean(text.encode()), stage=stage
    )


def _text(reply: _Reply) -> str:
    return _clean(b" ".join(reply.lines))


def _clean(text: bytes) -> str:
    """Server text fit for a log or a database column: decoded, no controls, capped."""
    return _CONTROL.sub(" ", text.decode("utf-8", "replace")).strip()[:_REPLY_CAP]


def _b64(text: str) -> bytes:
    return base64.b64encode(text.encode("utf-8"))
