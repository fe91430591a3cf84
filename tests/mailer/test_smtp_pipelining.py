"""The end of one message pipelined with the next transaction (RFC 2920), BDAT (RFC 3030),
and credentials kept out of every reply text: against the recording server on 127.0.0.1.

The rule under test: a connection never has more than one message whose end was written
without a reply, whatever the server does, so a lost reply leaves one UNKNOWN at most and
the message begun in the same write is DEFERRED, never delivered behind our back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mailer.smtp import Outcome, Prepared, SendResult, SmtpConnection, prepare
from tests.mailer.test_smtp import FAULTS, SENDER, message
from tests.smtp_server import RecordingSmtpServer

MODES = ["data", "bdat"]


def server_for(mode: str, **options: Any) -> RecordingSmtpServer:
    return RecordingSmtpServer(chunking=mode == "bdat", **options)


def prepared(recipient: str) -> Prepared:
    return prepare(sender=SENDER, recipient=recipient, message=message(recipient))


def run(server: RecordingSmtpServer, body: Callable[[SmtpConnection], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with SmtpConnection(settings=server.settings()) as connection:
            return await body(connection)

    return asyncio.run(main())


def pipelined(
    server: RecordingSmtpServer, recipients: list[str], messages: list[Prepared] | None = None
) -> list[SendResult]:
    """Deliver each message with the next one begun in the same write, as the worker does."""
    messages = messages or [prepared(each) for each in recipients]

    async def body(connection: SmtpConnection) -> list[SendResult]:
        results = []
        for index, current in enumerate(messages):
            then = messages[index + 1] if index + 1 < len(messages) else None
            results.append(await connection.deliver(current, then=then))
        return results

    results: list[SendResult] = run(server, body)
    return results


@pytest.mark.parametrize("mode", MODES)
def test_each_end_travels_with_the_next_transaction(mode: str) -> None:
    recipients = [f"m{index}@example.org" for index in range(5)]
    with server_for(mode) as server:
        messages = [prepared(each) for each in recipients]
        results = pipelined(server, recipients, messages)
        received = server.wait_for(5)
        ends = [data for _, data in server.reads + server.read_ends]

    assert [result.outcome for result in results] == [Outcome.SENT] * 5
    assert [each.data for each in received] == [each.message for each in messages]
    assert [each.connection for each in received] == [1] * 5
    end = b"BDAT 0 LAST\r\n" if mode == "bdat" else b"\r\n.\r\n"
    for recipient in recipients[1:]:  # in one read: the end, MAIL, RCPT and DATA or BDAT
        begun = end + f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{recipient}>\r\n".encode()
        assert any(begun in data for data in ends), recipient
    joined = b"".join(ends)
    if mode == "bdat":
        assert b"DATA\r\n" not in joined


@pytest.mark.parametrize("mode", MODES)
def test_a_lost_reply_leaves_one_unknown_and_the_next_is_sent_once(mode: str) -> None:
    with server_for(mode) as server:
        server.drop(stage="message", times=1)
        results = pipelined(server, ["a@example.org", "b@example.org", "c@example.org"])
        server.wait_for(2)

        assert [(result.outcome, result.stage) for result in results] == [
            (Outcome.UNKNOWN, "message"),
            (Outcome.SENT, "message"),
            (Outcome.SENT, "message"),
        ]
        assert [each.recipients for each in server.unacknowledged] == [("a@example.org",)]
        assert server.recipients() == {"b@example.org": 1, "c@example.org": 1}
        assert server.connections == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_connection_lost_inside_the_next_envelope_defers_it(mode: str) -> None:
    with server_for(mode) as server:
        server.drop(stage="rcpt", recipient="b@example.org", times=1)
        results = pipelined(server, ["a@example.org", "b@example.org", "c@example.org"])
        server.wait_for(2)

        assert [(result.outcome, result.stage) for result in results] == [
            (Outcome.SENT, "message"),
            (Outcome.DEFERRED, "rcpt"),
            (Outcome.SENT, "message"),
        ]
        assert server.recipients() == {"a@example.org": 1, "c@example.org": 1}
        assert server.unacknowledged == []


@pytest.mark.parametrize("mode", MODES)
def test_a_refused_next_recipient_is_reset_and_the_connection_kept(mode: str) -> None:
    with server_for(mode) as server:
        server.fail(stage="rcpt", code=550, text="5.1.1 No such user", recipient="gone@example.org")
        results = pipelined(server, ["a@example.org", "gone@example.org", "c@example.org"])
        server.wait_for(2)

        assert [(result.outcome, result.stage, result.code) for result in results] == [
            (Outcome.SENT, "message", 250),
            (Outcome.REJECTED, "rcpt", 550),
            (Outcome.SENT, "message", 250),
        ]
        assert server.recipients() == {"a@example.org": 1, "c@example.org": 1}
        assert server.connections == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_next_message_the_caller_gives_up_is_never_delivered(mode: str) -> None:
    first, abandoned, other = (prepared(f"{name}@example.org") for name in ("a", "x", "b"))

    async def body(connection: SmtpConnection) -> list[SendResult]:
        sent = await connection.deliver(first, then=abandoned)
        return [sent, await connection.deliver(other)]  # changed its mind about `abandoned`

    with server_for(mode) as server:
        results = run(server, body)
        server.wait_for(2)

        assert [result.outcome for result in results] == [Outcome.SENT, Outcome.SENT]
        assert server.recipients() == {"a@example.org": 1, "b@example.org": 1}
        assert server.unacknowledged == []


@pytest.mark.parametrize("mode", MODES)
def test_closing_with_a_begun_transaction_delivers_nothing_more(mode: str) -> None:
    first, begun = prepared("a@example.org"), prepared("x@example.org")

    async def body(connection: SmtpConnection) -> SendResult:
        return await connection.deliver(first, then=begun)  # closed by the context manager

    with server_for(mode) as server:
        assert run(server, body).outcome is Outcome.SENT
        server.wait_for(1)
        assert server.recipients() == {"a@example.org": 1}
        assert server.unacknowledged == []


def test_the_last_message_of_a_connection_begins_nothing() -> None:
    with RecordingSmtpServer() as server:
        messages = [prepared(f"m{index}@example.org") for index in range(4)]

        async def body(connection: SmtpConnection) -> list[int]:
            counts = []
            for index, current in enumerate(messages):
                then = messages[index + 1] if index + 1 < len(messages) else None
                await connection.deliver(current, then=then)
                counts.append(connection.messages_on_connection)
            return counts

        async def main() -> list[int]:
            settings = server.settings(max_messages_per_connection=2)
            async with SmtpConnection(settings=settings) as connection:
                return await body(connection)

        assert asyncio.run(main()) == [2, 2, 2, 2]
        assert server.recipients() == {f"m{index}@example.org": 1 for index in range(4)}
        assert [each.connection for each in server.wait_for(4)] == [1, 1, 2, 2]


@pytest.mark.parametrize(
    ("fault", "outcome", "stage", "code", "enhanced"),
    FAULTS,
    ids=["-".join(map(str, fault[0][:3])) for fault in FAULTS],
)
def test_a_fault_gives_its_outcome_with_bdat(
    fault: tuple[Any, ...],
    outcome: Outcome,
    stage: str,
    code: int | None,
    enhanced: str | None,
) -> None:
    with RecordingSmtpServer(chunking=True) as server:
        if fault[0] == "fail":
            server.fail(stage=fault[1], code=fault[2], text=fault[3])
        else:
            server.drop(stage=fault[1])

        async def body(connection: SmtpConnection) -> SendResult:
            result = await connection.send(
                sender=SENDER, recipient="anne@example.org", message=message()
            )
            assert connection.chunking or stage == "connect"
            return result

        result = run(server, body)

        assert (result.outcome, result.stage, result.code, result.enhanced) == (
            outcome,
            stage,
            code,
            enhanced,
        )
        assert server.messages == []
        unacknowledged = [received.recipients for received in server.unacknowledged]
        assert unacknowledged == ([("anne@example.org",)] if outcome is Outcome.UNKNOWN else [])


def test_chunking_can_be_turned_off() -> None:
    with RecordingSmtpServer(chunking=True) as server:

        async def main() -> bool:
            async with SmtpConnection(settings=server.settings(chunking=False)) as connection:
                await connection.send(sender=SENDER, recipient="a@example.org", message=message())
                return connection.chunking

        assert asyncio.run(main()) is False
        assert any(
            data.startswith(b"MAIL FROM:") and b"DATA\r\n" in data for _, data in server.reads
        )
        assert server.recipients() == {"a@example.org": 1}


# Credentials never come back in a reply text


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_relay_quoting_the_password_back_has_it_redacted(mechanism: str) -> None:
    password = "pa$$word-7Qx"
    with RecordingSmtpServer(
        username="unit-sender", password="right", auth_mechanisms=[mechanism], echo_credentials=True
    ) as server:

        async def main() -> SendResult:
            settings = server.settings(password=password)
            async with SmtpConnection(settings=settings) as connection:
                return await connection.send(
                    sender=SENDER, recipient="a@example.org", message=message()
                )

        result = asyncio.run(main())

    assert (result.outcome, result.stage, result.code) == (Outcome.DEFERRED, "connect", 535)
    assert password not in result.reply and "unit-sender" not in result.reply
    assert "Bad credentials [*** ***]" in result.reply
