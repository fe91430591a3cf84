"""SmtpConnection against a real SMTP server on 127.0.0.1: delivery, faults, AUTH and TLS."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mailer.errors import InvalidAddress, InvalidMessage
from mailer.headers import format_address, format_date, make_message_id
from mailer.mime import assemble, make_boundary
from mailer.smtp import Outcome, SendResult, SmtpConnection, SmtpSettings
from tests.smtp_server import RecordingSmtpServer

SENDER = "bounces@example.org"


def message(recipient: str = "anne@example.org", text: str = "Hello,\n\nNews.\n") -> bytes:
    return assemble(
        headers=[
            ("From", format_address(name="Unit", address="unit@example.org")),
            ("To", format_address(name="", address=recipient)),
            ("Subject", "News"),
            ("Date", format_date()),
            ("Message-ID", make_message_id(domain="example.org")),
        ],
        text=text,
        html=f"<p>{text}</p>",
        boundary=make_boundary(),
    )


def run(
    server: RecordingSmtpServer,
    body: Callable[[SmtpConnection], Awaitable[Any]],
    **settings: Any,
) -> Any:
    """Run `body` with a connection to `server`, closed afterwards."""

    async def main() -> Any:
        async with SmtpConnection(settings=server.settings(**settings)) as connection:
            return await body(connection)

    return asyncio.run(main())


def send_one(
    server: RecordingSmtpServer, recipient: str = "anne@example.org", **settings: Any
) -> SendResult:
    async def body(connection: SmtpConnection) -> SendResult:
        return await connection.send(sender=SENDER, recipient=recipient, message=message(recipient))

    result: SendResult = run(server, body, **settings)
    return result


def send_many(
    server: RecordingSmtpServer, recipients: list[str], **settings: Any
) -> list[SendResult]:
    async def body(connection: SmtpConnection) -> list[SendResult]:
        return [
            await connection.send(sender=SENDER, recipient=each, message=message(each))
            for each in recipients
        ]

    results: list[SendResult] = run(server, body, **settings)
    return results


# Delivery


def test_the_server_records_the_exact_bytes(smtp_server: RecordingSmtpServer) -> None:
    data = message("anne@example.org")

    async def body(connection: SmtpConnection) -> SendResult:
        return await connection.send(sender=SENDER, recipient="anne@example.org", message=data)

    result = run(smtp_server, body)

    assert result == SendResult(
        outcome=Outcome.SENT, code=250, enhanced="2.0.0", reply="2.0.0 OK queued", stage="message"
    )
    [received] = smtp_server.wait_for(1)
    assert received.data == data
    assert received.sender == SENDER
    assert received.recipients == ("anne@example.org",)


def test_200_messages_at_50_per_connection_take_4_connections(
    smtp_server: RecordingSmtpServer,
) -> None:
    recipients = [f"member{index}@example.org" for index in range(200)]

    results = send_many(smtp_server, recipients, max_messages_per_connection=50)

    assert {result.outcome for result in results} == {Outcome.SENT}
    received = smtp_server.wait_for(200)
    assert smtp_server.recipients() == dict.fromkeys(recipients, 1)
    assert smtp_server.connections == 4
    assert [message.connection for message in received] == [n // 50 + 1 for n in range(200)]


def test_messages_on_connection_counts_and_resets(smtp_server: RecordingSmtpServer) -> None:
    async def body(connection: SmtpConnection) -> list[int]:
        counts = [connection.messages_on_connection]
        for index in range(5):
            await connection.send(
                sender=SENDER, recipient=f"m{index}@example.org", message=message()
            )
            counts.append(connection.messages_on_connection)
        await connection.close()
        counts.append(connection.messages_on_connection)
        return counts

    assert run(smtp_server, body, max_messages_per_connection=3) == [0, 1, 2, 3, 1, 2, 0]


@pytest.mark.parametrize("pipelining", [True, False])
def test_mail_rcpt_and_data_go_in_one_write_when_pipelining_is_offered(pipelining: bool) -> None:
    with RecordingSmtpServer(pipelining=pipelining) as server:
        results = send_many(server, ["a@example.org", "b@example.org", "c@example.org"])
        assert {result.outcome for result in results} == {Outcome.SENT}
        assert server.recipients() == {"a@example.org": 1, "b@example.org": 1, "c@example.org": 1}
        commands = [data for _, data in server.reads if data.startswith(b"MAIL FROM:")]
    if pipelining:
        assert commands == [
            f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{each}@example.org>\r\nDATA\r\n".encode()
            for each in "abc"
        ]
    else:
        assert commands == [f"MAIL FROM:<{SENDER}>\r\n".encode()] * 3


def test_dot_stuffing_keeps_lines_that_start_with_a_dot(smtp_server: RecordingSmtpServer) -> None:
    data = b".starts with a dot\r\nSubject: dots\r\n\r\nbody\r\n.\r\n..\r\n.hidden\r\nend\r\n"
    plain = b"Subject: none\r\n\r\nno dots at line starts.\r\n"
    unterminated = b"Subject: no final line break\r\n\r\nlast line"

    async def body(connection: SmtpConnection) -> list[SendResult]:
        return [
            await connection.send(sender=SENDER, recipient="a@example.org", message=each)
            for each in (data, plain, unterminated)
        ]

    results = run(smtp_server, body)

    assert [result.outcome for result in results] == [Outcome.SENT] * 3
    assert [received.data for received in smtp_server.wait_for(3)] == [
        data,
        plain,
        unterminated + b"\r\n",
    ]


def test_the_null_sender_is_allowed(smtp_server: RecordingSmtpServer) -> None:
    async def body(connection: SmtpConnection) -> SendResult:
        return await connection.send(sender="", recipient="a@example.org", message=message())

    assert run(smtp_server, body).outcome is Outcome.SENT


# Faults: each gives the right outcome, stage and codes, with and without pipelining

FAULTS = [
    # (fault, expected outcome, stage, code, enhanced code)
    (("fail", "mail", 451, "4.3.0 Try later"), Outcome.DEFERRED, "mail", 451, "4.3.0"),
    (("fail", "mail", 553, "5.7.1 Sender refused"), Outcome.REJECTED, "mail", 553, "5.7.1"),
    (("fail", "rcpt", 451, "4.7.1 Greylisted"), Outcome.DEFERRED, "rcpt", 451, "4.7.1"),
    (("fail", "rcpt", 550, "5.1.1 No such user"), Outcome.REJECTED, "rcpt", 550, "5.1.1"),
    (("fail", "data", 554, "5.5.1 No valid recipients"), Outcome.REJECTED, "data", 554, "5.5.1"),
    (("fail", "message", 552, "5.3.4 Message too big"), Outcome.REJECTED, "message", 552, "5.3.4"),
    (("fail", "message", 451, "4.3.0 Queue full"), Outcome.DEFERRED, "message", 451, "4.3.0"),
    (("fail", "rcpt", 550, "Mailbox unavailable"), Outcome.REJECTED, "rcpt", 550, None),
    (("drop", "mail"), Outcome.DEFERRED, "mail", None, None),
    (("drop", "rcpt"), Outcome.DEFERRED, "rcpt", None, None),
    (("drop", "data"), Outcome.DEFERRED, "data", None, None),
    (("drop", "after_data"), Outcome.UNKNOWN, "message", None, None),
    (("fail", "connect", 554, "5.3.2 No service"), Outcome.DEFERRED, "connect", 554, "5.3.2"),
    (("drop", "connect"), Outcome.DEFERRED, "connect", None, None),
]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "lockstep"])
@pytest.mark.parametrize(
    ("fault", "outcome", "stage", "code", "enhanced"),
    FAULTS,
    ids=["-".join(map(str, fault[0][:3])) for fault in FAULTS],
)
def test_a_fault_gives_its_outcome(
    pipelining: bool,
    fault: tuple[Any, ...],
    outcome: Outcome,
    stage: str,
    code: int | None,
    enhanced: str | None,
) -> None:
    with RecordingSmtpServer(pipelining=pipelining) as server:
        if fault[0] == "fail":
            server.fail(stage=fault[1], code=fault[2], text=fault[3])
        else:
            server.drop(stage=fault[1])

        result = send_one(server)

        assert (result.outcome, result.stage, result.code, result.enhanced) == (
            outcome,
            stage,
            code,
            enhanced,
        )
        if code is not None:
            assert fault[3] in result.reply
        assert server.messages == []
        unacknowledged = [received.recipients for received in server.unacknowledged]
        assert unacknowledged == ([("anne@example.org",)] if outcome is Outcome.UNKNOWN else [])


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "lockstep"])
def test_after_a_refused_recipient_the_connection_is_reset_and_reused(pipelining: bool) -> None:
    with RecordingSmtpServer(pipelining=pipelining) as server:
        server.fail(stage="rcpt", code=550, text="5.1.1 No such user", recipient="gone@example.org")
        server.fail(stage="mail", code=451, text="4.3.0 Later")

        results = send_many(
            server,
            ["a@example.org", "b@example.org", "gone@example.org", "c@example.org"],
        )

        assert [(result.outcome, result.stage) for result in results] == [
            (Outcome.DEFERRED, "mail"),
            (Outcome.SENT, "message"),
            (Outcome.REJECTED, "rcpt"),
            (Outcome.SENT, "message"),
        ]
        assert server.recipients() == {"b@example.org": 1, "c@example.org": 1}
        assert server.connections == 1
        assert any(b"RSET\r\n" in data for _, data in server.reads)


def test_a_refused_message_keeps_the_connection(smtp_server: RecordingSmtpServer) -> None:
    smtp_server.fail(stage="message", code=552, text="5.3.4 Too big")

    results = send_many(smtp_server, ["a@example.org", "b@example.org"])

    assert [result.outcome for result in results] == [Outcome.REJECTED, Outcome.SENT]
    assert smtp_server.connections == 1


def test_after_a_lost_connection_the_next_send_reconnects(smtp_server: RecordingSmtpServer) -> None:
    smtp_server.drop(stage="after_data")

    results = send_many(smtp_server, ["a@example.org", "b@example.org"])

    assert [result.outcome for result in results] == [Outcome.UNKNOWN, Outcome.SENT]
    assert smtp_server.recipients() == {"b@example.org": 1}
    assert smtp_server.connections == 2


def test_a_connection_the_server_closed_while_idle_is_replaced(
    smtp_server: RecordingSmtpServer,
) -> None:
    async def body(connection: SmtpConnection) -> list[SendResult]:
        first = await connection.send(sender=SENDER, recipient="a@example.org", message=message())
        smtp_server.kick()  # as a server's idle timeout would
        await asyncio.sleep(0.05)
        second = await connection.send(sender=SENDER, recipient="b@example.org", message=message())
        return [first, second]

    results = run(smtp_server, body)

    assert [result.outcome for result in results] == [Outcome.SENT, Outcome.SENT]
    assert smtp_server.recipients() == {"a@example.org": 1, "b@example.org": 1}
    assert smtp_server.connections == 2


def test_a_server_that_is_not_listening_defers_at_connect() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]

    async def main() -> SendResult:
        async with SmtpConnection(
            settings=SmtpSettings(host="127.0.0.1", port=port, timeout=2)
        ) as connection:
            return await connection.send(
                sender=SENDER, recipient="a@example.org", message=message()
            )

    result = asyncio.run(main())

    assert (result.outcome, result.stage, result.code) == (Outcome.DEFERRED, "connect", None)
    assert "refused" in result.reply


@pytest.mark.parametrize(
    ("stage", "outcome"),
    [
        ("connect", Outcome.DEFERRED),
        ("mail", Outcome.DEFERRED),
        ("rcpt", Outcome.DEFERRED),
        ("data", Outcome.DEFERRED),
        ("message", Outcome.UNKNOWN),
    ],
)
def test_a_reply_slower_than_the_timeout(
    smtp_server: RecordingSmtpServer, stage: str, outcome: Outcome
) -> None:
    smtp_server.slow(1.0, stage=stage, times=1)

    result = send_one(smtp_server, timeout=0.2)

    assert (result.outcome, result.stage, result.code) == (outcome, stage, None)
    assert result.reply == "no reply within 0.2 s"
    assert smtp_server.messages == []


def test_a_slow_reply_within_the_timeout_is_fine(smtp_server: RecordingSmtpServer) -> None:
    smtp_server.slow(0.05)

    assert send_one(smtp_server, timeout=2).outcome is Outcome.SENT


def test_reply_text_is_capped_and_cleaned(smtp_server: RecordingSmtpServer) -> None:
    smtp_server.fail(stage="rcpt", code=550, text="5.1.1 " + "\x01\x7fbad " * 200)

    result = send_one(smtp_server)

    assert result.outcome is Outcome.REJECTED
    assert len(result.reply) == 500
    assert result.reply.isprintable()


# Programming errors raise


@pytest.mark.parametrize(
    "address",
    [
        "a@example.org\r\nRCPT TO:<b@example.org>",
        "a@example.org\n",
        "a b@example.org",
        "<a@example.org>",
        "anne@exämple.org",
    ],
)
def test_an_address_that_could_inject_commands_is_refused(
    smtp_server: RecordingSmtpServer, address: str
) -> None:
    async def as_recipient(connection: SmtpConnection) -> None:
        await connection.send(sender=SENDER, recipient=address, message=message())

    async def as_sender(connection: SmtpConnection) -> None:
        await connection.send(sender=address, recipient="a@example.org", message=message())

    with pytest.raises(InvalidAddress):
        run(smtp_server, as_recipient)
    with pytest.raises(InvalidAddress):
        run(smtp_server, as_sender)
    assert smtp_server.connections == 0


@pytest.mark.parametrize(
    "data", [b"Subject: x\n\nLF only\n", b"Subject: x\r\n\r\nbare\rCR\r\n", b"a\r\n\n.\r\nb\r\n"]
)
def test_a_message_with_bare_line_breaks_is_refused(
    smtp_server: RecordingSmtpServer, data: bytes
) -> None:
    async def body(connection: SmtpConnection) -> None:
        await connection.send(sender=SENDER, recipient="a@example.org", message=data)

    with pytest.raises(InvalidMessage, match="bare CR or LF"):
        run(smtp_server, body)


def test_close_never_raises(smtp_server: RecordingSmtpServer) -> None:
    async def body(connection: SmtpConnection) -> None:
        await connection.close()  # never connected
        await connection.send(sender=SENDER, recipient="a@example.org", message=message())
        smtp_server.stop()  # the server goes away under the open connection
        await connection.close()
        await connection.close()

    run(smtp_server, body)


# AUTH


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth(mechanism: str) -> None:
    with RecordingSmtpServer(
        username="unit", password="pä:ss wörd", auth_mechanisms=[mechanism]
    ) as server:
        result = send_one(server)

        assert result.outcome is Outcome.SENT
        assert server.recipients() == {"anne@example.org": 1}
        assert any(f"AUTH {mechanism}".encode() in data for _, data in server.reads)


def test_a_wrong_password_defers_at_connect_after_one_attempt() -> None:
    with RecordingSmtpServer(username="unit", password="right") as server:
        result = send_one(server, password="wrong")

        assert (result.outcome, result.stage, result.code, result.enhanced) == (
            Outcome.DEFERRED,
            "connect",
            535,
            "5.7.8",
        )
        assert "credentials invalid" in result.reply
        assert server.connections == 1
        assert server.messages == []


def test_without_credentials_a_server_requiring_auth_refuses_mail() -> None:
    with RecordingSmtpServer(username="unit", password="right") as server:
        result = send_one(server, username=None, password=None)

    assert (result.outcome, result.stage, result.code) == (Outcome.REJECTED, "mail", 530)


def test_credentials_for_a_server_without_auth_defer() -> None:
    with RecordingSmtpServer(auth_mechanisms=[]) as server:
        result = send_one(server, username="unit", password="secret")

    assert (result.outcome, result.stage) == (Outcome.DEFERRED, "connect")
    assert "does not offer AUTH" in result.reply


# TLS


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_with_auth(mode: str) -> None:
    with RecordingSmtpServer(
        starttls=mode == "starttls",
        implicit_tls=mode == "implicit",
        username="unit",
        password="secret",
    ) as server:
        results = send_many(server, ["a@example.org", "b@example.org"])

        assert [result.outcome for result in results] == [Outcome.SENT, Outcome.SENT]
        assert server.recipients() == {"a@example.org": 1, "b@example.org": 1}
        assert server.connections == 1
        assert all(received.tls for received in server.messages)


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_verifies_the_certificate(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with RecordingSmtpServer(
        starttls=mode == "starttls", implicit_tls=mode == "implicit"
    ) as server:
        untrusted = send_one(server, verify_tls=True)
        assert server.ca_file is not None
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        trusted = send_one(server, verify_tls=True)

    assert (untrusted.outcome, untrusted.stage) == (Outcome.DEFERRED, "connect")
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.reply
    assert trusted.outcome is Outcome.SENT


def test_starttls_required_but_not_offered_defers(smtp_server: RecordingSmtpServer) -> None:
    result = send_one(smtp_server, security="starttls")

    assert (result.outcome, result.stage) == (Outcome.DEFERRED, "connect")
    assert result.reply == "the server does not offer STARTTLS"
    assert smtp_server.messages == []


def test_the_url_of_the_test_server_works() -> None:
    with RecordingSmtpServer(starttls=True, username="unit", password="secret") as server:
        assert (
            server.url == f"smtp://unit:secret@127.0.0.1:{server.port}?starttls=true&verify=false"
        )

        async def main() -> SendResult:
            settings = SmtpSettings.from_url(server.url)
            async with SmtpConnection(settings=settings) as connection:
                return await connection.send(
                    sender=SENDER, recipient="a@example.org", message=message()
                )

        assert asyncio.run(main()).outcome is Outcome.SENT


# Servers that misbehave in ways aiosmtpd will not: a few lines of asyncio each

Script = Callable[[bytes], bytes]


async def scripted(script: Script, body: Callable[[SmtpSettings], Awaitable[Any]]) -> Any:
    """Run `body` against a server answering each command line with script(line)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(script(b""))
            while line := await reader.readline():
                reply = script(line)
                writer.write(reply)
                if reply.startswith(b"354"):
                    await reader.readuntil(b"\r\n.\r\n")
                    writer.write(b"250 2.0.0 ok\r\n")
                if reply.startswith(b"221"):
                    break
        except ConnectionError:
            pass  # the client dropped the connection, as it does after a bad reply
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await body(SmtpSettings(host="127.0.0.1", port=port, timeout=2))
    finally:
        server.close()
        await server.wait_closed()


def send_scripted(script: Script, **settings: Any) -> SendResult:
    async def body(base: SmtpSettings) -> SendResult:
        values = {"host": base.host, "port": base.port, "timeout": base.timeout, **settings}
        async with SmtpConnection(settings=SmtpSettings(**values)) as connection:
            return await connection.send(
                sender=SENDER, recipient="a@example.org", message=message()
            )

    result: SendResult = asyncio.run(scripted(script, body))
    return result


def test_a_server_that_refuses_ehlo_gets_helo() -> None:
    seen: list[bytes] = []

    def script(line: bytes) -> bytes:
        seen.append(line.split(b" ")[0].strip())
        if line.startswith(b"EHLO"):
            return b"502 5.5.2 what?\r\n"
        if line.startswith(b"DATA"):
            return b"354 go\r\n"
        if line.startswith(b"QUIT"):
            return b"221 bye\r\n"
        return b"220 old smtp\r\n" if not line else b"250 ok\r\n"

    assert send_scripted(script).outcome is Outcome.SENT
    assert seen == [b"", b"EHLO", b"HELO", b"MAIL", b"RCPT", b"DATA", b"QUIT"]


def test_replies_pushed_before_tls_starts_are_refused() -> None:
    def script(line: bytes) -> bytes:
        if line.startswith(b"EHLO"):
            return b"250-mx\r\n250 STARTTLS\r\n"
        if line.startswith(b"STARTTLS"):
            return b"220 go ahead\r\n250-mx\r\n250 AUTH PLAIN\r\n"  # injected after the 220
        return b"220 mx\r\n" if not line else b"250 ok\r\n"

    result = send_scripted(script, security="starttls", verify_tls=False)

    assert (result.outcome, result.stage) == (Outcome.DEFERRED, "connect")
    assert result.reply == "the server sent more after 220 to STARTTLS"


def test_a_reply_that_is_not_smtp_defers() -> None:
    def script(line: bytes) -> bytes:
        if line.startswith(b"MAIL"):
            return b"HTTP/1.1 400 Bad Request\r\n"
        return b"220 mx\r\n" if not line else b"250 ok\r\n"

    result = send_scripted(script)

    assert (result.outcome, result.stage, result.code) == (Outcome.DEFERRED, "mail", None)
    assert result.reply.startswith("not an SMTP reply: ")


def test_421_at_mail_on_a_reused_connection_is_retried_once_on_a_new_one() -> None:
    transactions = 0

    def script(line: bytes) -> bytes:
        nonlocal transactions
        if line.startswith(b"MAIL"):
            transactions += 1
            if transactions in (2, 4, 5):  # the 2nd send, then the 3rd twice
                return b"421 4.4.2 idle too long\r\n"
        if line.startswith(b"DATA"):
            return b"354 go\r\n"
        return b"220 mx\r\n" if not line else b"250 ok\r\n"

    async def body(settings: SmtpSettings) -> list[tuple[Outcome, str, int | None]]:
        async with SmtpConnection(settings=settings) as connection:
            results = [
                await connection.send(sender=SENDER, recipient="a@example.org", message=message())
                for _ in range(3)
            ]
        return [(result.outcome, result.stage, result.code) for result in results]

    assert asyncio.run(scripted(script, body)) == [
        (Outcome.SENT, "message", 250),
        (Outcome.SENT, "message", 250),  # 421 on the old connection, sent on a new one
        (Outcome.DEFERRED, "mail", 421),  # 421 on the old one, and again on the new one
    ]
