"""DKIM signatures verify with dkimpy, cover the headers that matter, break when those change."""

from __future__ import annotations

import asyncio
import re

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from mailer import dkim as signing
from mailer.dkim import DkimSigner
from mailer.errors import InvalidDkimKey, InvalidHeader, MailerError
from mailer.headers import encode_header, format_address, format_date, format_list_id
from mailer.mime import assemble, make_boundary
from mailer.smtp import Outcome, SendResult, SmtpConnection
from tests.smtp_server import RecordingSmtpServer

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()
# cryptography refuses to make keys under 1024 bits; `openssl genrsa 512` made this one.
RSA_512 = b"""\
-----BEGIN PRIVATE KEY-----
MIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA2oyX9n1oBk04Ujaa
kdsrv3vqcVX92BqURGExaBQJnqyiNu5V0V/Lc6R4rdYCzj7+vAf+3pWjc+bO4gEt
8BAaOQIDAQABAkAgAp2zZbTZz2+jYwoKuP5UYpL5HK48e9Ahn9a7tsud6MfYB90Q
GvynSAamVy0fdteR+Q6QP5WbtiDX3A8q9hCBAiEA9SbpaBSbgadSeq6OoDizRiJp
CWdRLplJc3mwbebw6EkCIQDkOFMYJIJypggQ+d6detnBRcg6lb8jxV28UxbSyKEC
cQIhAK5qf9doCfdltx3HwXumu42jf72L/0s7DfIVWvvmOfHZAiA/Zh4/ULUkYFdR
T/i1ytD/TgFntP3aVBPMI1Dt0WpZIQIgAqoT5YKUeaUJI4a8eaZ1iG/swrWgyJiK
7dg28qmxgOw=
-----END PRIVATE KEY-----
"""


def pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def message(*, reply_to: bool = False) -> bytes:
    headers = [
        ("From", format_address(name="Cooperatives Unit", address="unit@example.org")),
        ("To", format_address(name="Anne", address="anne@example.org")),
        ("Subject", encode_header(name="Subject", value="Nouvelles de mars — coopératives")),
        ("Date", format_date()),
        ("Message-ID", "<abc.123@example.org>"),
        ("List-Id", format_list_id(name="News", list_id="news.example.org")),
        ("List-Unsubscribe", "<https://example.org/u/abc>,\r\n <mailto:u@example.org>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("X-Campaign", "42"),
    ]
    if reply_to:
        headers.append(("Reply-To", "editor@example.org"))
    text = "Dear member,\n\nTwo  spaces, a\ttab and trailing blanks   \n\n\n"
    return assemble(headers=headers, text=text * 50, html="<p>News</p>\n", boundary=make_boundary())


def verify(signed: bytes, signer: DkimSigner) -> bool:
    record = signer.dns_record().encode()

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail2026._domainkey.example.org."
        return record

    return bool(dkim.verify(signed, dnsfunc=dns))


def signature_tags(signed: bytes) -> dict[str, str]:
    header = signed.split(b"\r\n\r\n", 1)[0].decode()
    value = re.search(r"^DKIM-Signature:(.*?)\r\n(?! )", header, re.S | re.M)
    assert value is not None
    unfolded = re.sub(r"\s+", "", value[1])
    return dict(tag.split("=", 1) for tag in unfolded.split(";") if tag)


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        (pem(RSA_KEY), "rsa-sha256"),
        (
            RSA_KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,  # BEGIN RSA PRIVATE KEY
                serialization.NoEncryption(),
            ),
            "rsa-sha256",
        ),
        (pem(ED_KEY), "ed25519-sha256"),
    ],
    ids=["rsa-pkcs8", "rsa-pkcs1", "ed25519"],
)
def test_a_signed_message_verifies(key: bytes, algorithm: str) -> None:
    signer = DkimSigner(selector="mail2026", domain="example.org", private_key=key)
    original = message()

    signed = signer.sign(original)

    assert signed.startswith(b"DKIM-Signature: v=1; ")
    assert signed.endswith(original)
    assert max(map(len, signed[: -len(original)].split(b"\r\n"))) <= 78
    tags = signature_tags(signed)
    assert (tags["a"], tags["c"], tags["d"], tags["s"]) == (
        algorithm,
        "relaxed/relaxed",
        "example.org",
        "mail2026",
    )
    assert tags["h"].split(":") == [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ]
    assert verify(signed, signer)


def test_reply_to_is_signed_when_present() -> None:
    signer = DkimSigner(selector="mail2026", domain="example.org", private_key=pem(ED_KEY))

    signed = signer.sign(message(reply_to=True))

    assert "reply-to" in signature_tags(signed)["h"].split(":")
    assert verify(signed, signer)


@pytest.mark.parametrize("key", [pem(RSA_KEY), pem(ED_KEY)], ids=["rsa", "ed25519"])
@pytest.mark.parametrize(
    ("change", "still_valid"),
    [
        (
            (
                b"List-Unsubscribe: <https://example.org/u/abc>",
                b"List-Unsubscribe: <https://evil.test/u>",
            ),
            False,
        ),
        (
            (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: x"),
            False,
        ),
        ((b"Message-ID: <abc.123", b"Message-ID: <abd.123"), False),
        ((b"Dear member", b"Dear memb3r"), False),
        ((b"X-Campaign: 42", b"X-Campaign: 43"), True),  # not signed
        ((b"Two  spaces", b"Two    spaces"), True),  # relaxed: whitespace runs are one space
        ((b"List-Id: News", b"list-id:   News"), True),  # relaxed: header name case, blanks
    ],
)
def test_changes_to_signed_parts_break_the_signature(
    key: bytes, change: tuple[bytes, bytes], still_valid: bool
) -> None:
    signer = DkimSigner(selector="mail2026", domain="example.org", private_key=key)
    signed = signer.sign(message())
    old, new = change
    assert old in signed

    assert verify(signed.replace(old, new, 1), signer) is still_valid


def test_a_seed_from_dknewkey_is_accepted() -> None:
    import base64

    seed = ED_KEY.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    signer = DkimSigner(
        selector="mail2026", domain="example.org", private_key=base64.b64encode(seed) + b"\n"
    )

    assert verify(signer.sign(message()), signer)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (b"", "not a PEM private key"),
        (b"not a key at all", "not a PEM private key"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a readable PEM"),
        (pem(RSA_KEY).replace(b"PRIVATE", b"PUBLIC"), "not a readable PEM"),
        (
            RSA_KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            "encrypted",
        ),
        (pem(ec.generate_private_key(ec.SECP256R1())), "DKIM signs with RSA or Ed25519"),
        (RSA_512, "512 bits"),
    ],
)
def test_a_bad_key_is_one_line_saying_why(key: bytes, problem: str) -> None:
    with pytest.raises(InvalidDkimKey) as raised:
        DkimSigner(selector="mail2026", domain="example.org", private_key=key)

    assert problem in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, MailerError)


@pytest.mark.parametrize(("selector", "domain"), [("a b", "example.org"), ("s", "exämple.org")])
def test_selector_and_domain_are_dns_labels(selector: str, domain: str) -> None:
    with pytest.raises(InvalidHeader):
        DkimSigner(selector=selector, domain=domain, private_key=pem(ED_KEY))


def test_a_message_without_from_is_refused() -> None:
    signer = DkimSigner(selector="mail2026", domain="example.org", private_key=pem(ED_KEY))

    with pytest.raises(InvalidHeader, match="no From header"):
        signer.sign(b"To: a@example.org\r\nSubject: x\r\n\r\nbody\r\n")


LINE = st.text(st.sampled_from("ab \t=."), max_size=12)


@given(st.lists(LINE, max_size=8), st.sampled_from(["", "\r\n", "\r\n\r\n"]))
def test_the_quick_relaxed_body_is_dkimpys(lines: list[str], end: str) -> None:
    body = ("\r\n".join(lines) + end).encode()

    assert signing._relaxed_body(body) == signing._RELAXED.canonicalize_body(body)


def test_the_signature_survives_the_smtp_wire(smtp_server: RecordingSmtpServer) -> None:
    signer = DkimSigner(selector="mail2026", domain="example.org", private_key=pem(RSA_KEY))
    signed = signer.sign(message() + b".leading dot\r\n")

    async def send() -> SendResult:
        async with SmtpConnection(settings=smtp_server.settings()) as connection:
            return await connection.send(
                sender="bounces@example.org", recipient="anne@example.org", message=signed
            )

    assert asyncio.run(send()).outcome is Outcome.SENT
    [received] = smtp_server.wait_for(1)
    assert verify(received.data, signer)
