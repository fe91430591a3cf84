"""Every campaign kind, as the worker sends it, meets the header rules Gmail and Yahoo
publish for bulk senders: one List-Unsubscribe with an https and a mailto address, one-click
List-Unsubscribe-Post (RFC 8058), a DKIM signature whose d= is the From domain, a valid
Message-ID and Date, a Feedback-ID when the setting is given, and no line over 998 octets
(RFC 5322's limit)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parseaddr, parsedate_to_datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from campaigns.drafts import message_factory
from campaigns.models import Campaign, MailingList
from mailer.dkim import DkimSigner
from mailer.errors import InvalidHeader
from mailer.headers import format_feedback_id
from templates import CAMPAIGN_KINDS
from tests.templates.sent import NOW, RECIPIENT, SENDER, factory, parsed

SIGNER = DkimSigner(
    selector="news2026",
    domain="example.org",
    private_key=ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ),
)
FEEDBACK_ID = "12:partners:{kind}:coopunit"
# RFC 5322 msg-id: "<" dot-atom-text "@" (dot-atom-text or a domain literal) ">"
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"<{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*>")


def sent(kind: str) -> bytes:
    """The message of ``kind`` built and signed as the worker does."""
    made = factory(kind, feedback_id=FEEDBACK_ID.format(kind=kind))
    return SIGNER.sign(made.build(RECIPIENT, now=NOW))


def only(raw: bytes, name: str) -> str:
    values = parsed(raw).get_all(name) or []
    assert len(values) == 1, f"{name}: {len(values)} of them"
    return " ".join(str(values[0]).split())


def tags(signature: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in signature.replace(" ", "").split(";") if part)
    return dict(pairs)


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_one_list_unsubscribe_with_https_and_mailto_and_one_click(kind: str) -> None:
    raw = sent(kind)
    addresses = re.findall(r"<([^<>]+)>", only(raw, "List-Unsubscribe"))
    assert [address.split(":", 1)[0] for address in addresses] == ["https", "mailto"]
    assert addresses[0].startswith("https://news.example.org/u/")
    assert addresses[1].startswith("mailto:bounces@example.org?subject=unsubscribe%20")
    assert only(raw, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_dkim_signs_for_the_from_domain_and_covers_the_unsubscribe_headers(kind: str) -> None:
    raw = sent(kind)
    signature = tags(only(raw, "DKIM-Signature"))
    from_domain = parseaddr(only(raw, "From"))[1].rpartition("@")[2].lower()
    assert signature["d"].lower() == from_domain == parseaddr(SENDER)[1].rpartition("@")[2]
    signed = signature["h"].lower().split(":")
    assert {"from", "list-unsubscribe", "list-unsubscribe-post"} <= set(signed)


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_message_id_and_date_are_valid(kind: str) -> None:
    first, second = sent(kind), sent(kind)
    message_id = only(first, "Message-ID")
    assert MSG_ID.fullmatch(message_id), message_id
    assert message_id.endswith("@example.org>")
    assert only(second, "Message-ID") != message_id
    date = parsedate_to_datetime(only(first, "Date"))
    assert date == NOW and date.utcoffset() is not None


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_feedback_id_names_campaign_list_kind_and_sender(kind: str) -> None:
    raw = sent(kind)
    assert only(raw, "Feedback-ID") == f"12:partners:{kind}:coopunit"
    assert "Feedback-ID" not in parsed(factory(kind).build(RECIPIENT, now=NOW))


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_no_line_over_998_octets(kind: str) -> None:
    raw = sent(kind)
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 998


def test_the_campaign_factory_writes_the_feedback_id_from_the_setting() -> None:
    partners = MailingList(name="partners", title="Letters to partners")
    campaign = Campaign(
        id=7, template="digest", subject="News", from_address=SENDER, lists=[partners]
    )
    composition = factory("digest").composition
    made = message_factory(
        composition,
        campaign,
        base_url="https://news.example.org",
        key=b"k" * 32,
        feedback_sender="coopunit",
    )
    raw = made.build(RECIPIENT, now=datetime.now(UTC))
    assert only(raw, "Feedback-ID") == "7:partners:digest:coopunit"
    plain = message_factory(composition, campaign, base_url="https://news.example.org", key=b"k")
    assert "Feedback-ID" not in parsed(plain.build(RECIPIENT, now=datetime.now(UTC)))


def test_feedback_id_fields_never_break_the_header() -> None:
    value = format_feedback_id(identifiers=("12", "lettres: été", "news"), sender="coopunit")
    assert value == "12:lettres---t-:news:coopunit"
    with pytest.raises(InvalidHeader, match="only letters"):
        format_feedback_id(identifiers=("1",), sender="coop\r\nBcc: x@example.org")
