"""The SMTP client against a real Postfix relay: STARTTLS verified, PIPELINING with the end
of each message travelling with the next transaction, BDAT when Postfix offers CHUNKING,
and a recipient Postfix refuses in the middle of a pipelined run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mailer.smtp import Outcome, Prepared, SendResult, SmtpConnection, prepare
from tests.mailer.test_smtp import SENDER, message
from tests.postfix_relay import REFUSED, PostfixRelay

pytestmark = pytest.mark.usefixtures("trust_the_relay")


@pytest.fixture
def trust_the_relay(postfix_relay: PostfixRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    assert postfix_relay.ca_file is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(postfix_relay.ca_file))


def pipelined(
    relay: PostfixRelay, messages: list[Prepared], **settings: Any
) -> tuple[list[SendResult], bool]:
    async def main() -> tuple[list[SendResult], bool]:
        async with SmtpConnection(settings=relay.settings(**settings)) as connection:
            results = []
            for index, current in enumerate(messages):
                then = messages[index + 1] if index + 1 < len(messages) else None
                results.append(await connection.deliver(current, then=then))
            return results, connection.chunking

    return asyncio.run(main())


@pytest.mark.parametrize("chunking", [True, False], ids=["bdat", "data"])
def test_pipelined_messages_reach_the_relay_once_each(
    postfix_relay: PostfixRelay, chunking: bool
) -> None:
    recipients = [f"pipelined-{chunking}-{index}@example.org" for index in range(20)]
    texts = [
        message(each, text=f"Hello,\n.\n..dots at line starts {each}\n") for each in recipients
    ]
    messages = [
        prepare(sender=SENDER, recipient=each, message=text)
        for each, text in zip(recipients, texts, strict=True)
    ]

    results, used_chunking = pipelined(postfix_relay, messages, chunking=chunking)

    assert used_chunking is chunking
    assert [(result.outcome, result.code) for result in results] == [(Outcome.SENT, 250)] * 20
    relayed = wait_for_recipients(postfix_relay, recipients)
    for recipient, text in zip(recipients, texts, strict=True):
        [received] = relayed[recipient]
        assert b"with ESMTPS" in received.data  # STARTTLS was used
        body = text.split(b"\r\n\r\n", 1)[1]
        assert received.data.endswith(body)  # dot-stuffing (or BDAT) kept every byte


@pytest.mark.parametrize("chunking", [True, False], ids=["bdat", "data"])
def test_a_recipient_postfix_refuses_mid_pipeline(
    postfix_relay: PostfixRelay, chunking: bool
) -> None:
    recipients = [f"before-{chunking}@example.org", REFUSED, f"after-{chunking}@example.org"]
    messages = [
        prepare(sender=SENDER, recipient=each, message=message(each)) for each in recipients
    ]

    results, _ = pipelined(postfix_relay, messages, chunking=chunking)

    assert [(result.outcome, result.stage, result.code, result.enhanced) for result in results] == [
        (Outcome.SENT, "message", 250, "2.0.0"),
        (Outcome.REJECTED, "rcpt", 550, "5.1.1"),
        (Outcome.SENT, "message", 250, "2.0.0"),
    ]
    relayed = wait_for_recipients(postfix_relay, [recipients[0], recipients[2]])
    assert all(len(each) == 1 for each in relayed.values())
    assert REFUSED not in postfix_relay.target.recipients()


def wait_for_recipients(relay: PostfixRelay, recipients: list[str]) -> dict[str, list[Any]]:
    """The relayed messages of these recipients, once Postfix has passed them all on."""
    import time

    deadline = time.monotonic() + 30
    wanted = set(recipients)
    while True:
        found: dict[str, list[Any]] = {each: [] for each in recipients}
        for received in relay.target.messages:
            for each in set(received.recipients) & wanted:
                found[each].append(received)
        if all(found.values()) or time.monotonic() > deadline:
            missing = [each for each, got in found.items() if not got]
            assert not missing, f"Postfix did not relay to {missing}: {relay.log()[-2000:]}"
            return found
        time.sleep(0.05)
