"""coopmail's DKIM signatures verified by implementations we did not write: Perl's
Mail::DKIM (RSA) and OpenDKIM (RSA and Ed25519), each asking a DNS server on 127.0.0.1 for
the key; relaxed/relaxed, covering both List-Unsubscribe headers, on every campaign kind as
the worker sends it, and still valid after a real Postfix relayed the message."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mailer.dkim import DkimSigner
from mailer.smtp import Outcome, SmtpConnection, prepare
from templates import CAMPAIGN_KINDS
from tests.mailer import opendkim, perl_dkim
from tests.mailer.test_postfix import wait_for_recipients
from tests.postfix_relay import PostfixRelay
from tests.templates.sent import SENDER_DOMAIN, campaign_message

SELECTOR = "news2026"
KEY_NAME = f"{SELECTOR}._domainkey.{SENDER_DOMAIN}"
COVERED = {"from", "to", "subject", "date", "message-id", "list-unsubscribe"}
COVERED |= {"list-unsubscribe-post", "list-id", "mime-version", "content-type"}


def signer(algorithm: str) -> DkimSigner:
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DkimSigner(selector=SELECTOR, domain=SENDER_DOMAIN, private_key=pem)


SIGNERS = {"rsa": signer("rsa"), "ed25519": signer("ed25519")}


def keys(algorithm: str) -> dict[str, str]:
    return {KEY_NAME: SIGNERS[algorithm].dns_record()}


def assert_mail_dkim_passes(message: bytes) -> None:
    [signature] = perl_dkim.verify(message, keys=keys("rsa"))
    assert signature.result == "pass"
    assert (signature.domain, signature.selector) == (SENDER_DOMAIN, SELECTOR)
    assert (signature.algorithm, signature.canonicalization) == ("rsa-sha256", "relaxed/relaxed")
    assert set(signature.headers) >= COVERED


def assert_opendkim_passes(message: bytes, algorithm: str) -> None:
    [verdict] = opendkim.verify(message, keys=keys(algorithm))
    assert verdict == opendkim.Verdict(
        result="pass", domain=SENDER_DOMAIN, selector=SELECTOR, algorithm=f"{algorithm}-sha256"
    )


@pytest.mark.usefixtures("perl_dkim")
@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_mail_dkim_verifies_every_kind_signed_with_rsa(kind: str) -> None:
    assert_mail_dkim_passes(SIGNERS["rsa"].sign(campaign_message(kind)))


@pytest.mark.usefixtures("opendkim")
@pytest.mark.parametrize("algorithm", ["rsa", "ed25519"])
@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_opendkim_verifies_every_kind(kind: str, algorithm: str) -> None:
    assert_opendkim_passes(SIGNERS[algorithm].sign(campaign_message(kind)), algorithm)


@pytest.mark.usefixtures("perl_dkim", "opendkim")
@pytest.mark.parametrize(
    ("original", "changed"),
    [
        (
            b"List-Unsubscribe: <https://news.example.org/u/",
            b"List-Unsubscribe: <https://x.test/u/",
        ),
        (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x"),
        (b"greetings", b"gr=C3=A9etings"),
    ],
    ids=["unsubscribe-link", "one-click", "body"],
)
def test_a_changed_header_or_body_fails_with_both(original: bytes, changed: bytes) -> None:
    for algorithm in ("rsa", "ed25519"):
        signed = SIGNERS[algorithm].sign(campaign_message("solidarity-letter"))
        assert original in signed
        altered = signed.replace(original, changed, 1)
        [verdict] = opendkim.verify(altered, keys=keys(algorithm))
        assert verdict.result == "fail"
        if algorithm == "rsa":
            [signature] = perl_dkim.verify(altered, keys=keys("rsa"))
            assert signature.result.startswith("fail")


@pytest.fixture
def trust_the_relay(postfix_relay: PostfixRelay, monkeypatch: pytest.MonkeyPatch) -> None:
    assert postfix_relay.ca_file is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(postfix_relay.ca_file))


@pytest.mark.usefixtures("perl_dkim", "opendkim", "trust_the_relay")
def test_signatures_survive_a_postfix_relay(postfix_relay: PostfixRelay) -> None:
    sent = {
        f"dkim-{algorithm}-{kind}@example.net": (
            algorithm,
            SIGNERS[algorithm].sign(campaign_message(kind)),
        )
        for algorithm in SIGNERS
        for kind in ("solidarity-letter", "digest")
    }

    async def send() -> list[Outcome]:
        async with SmtpConnection(settings=postfix_relay.settings()) as connection:
            outcomes = []
            for recipient, (_, message) in sent.items():
                prepared = prepare(
                    sender=f"bounces@{SENDER_DOMAIN}", recipient=recipient, message=message
                )
                outcomes.append((await connection.deliver(prepared)).outcome)
            return outcomes

    assert asyncio.run(send()) == [Outcome.SENT] * len(sent)
    relayed = wait_for_recipients(postfix_relay, list(sent))
    for recipient, (algorithm, _) in sent.items():
        [received] = relayed[recipient]
        assert received.data.startswith(b"Received: ")  # Postfix handled it
        assert_opendkim_passes(received.data, algorithm)
        if algorithm == "rsa":
            assert_mail_dkim_passes(received.data)
