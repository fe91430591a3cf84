"""Every mail as it leaves coopmail: the four campaign kinds built by the MessageFactory the
worker uses, the system mails by the composer and mailer.mime as the Postman assembles them.

The lint, SpamAssassin, DKIM and header tests read these bytes (or their HTML part) rather
than the templates, so that what they judge is what a mail program receives: CSS inlined by
premailer, slots filled, quoted-printable encoded.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cache

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.links import Links
from campaigns.messages import MessageFactory, Recipient
from mailer.headers import encode_header, format_address, format_date, make_message_id
from mailer.mime import assemble, make_boundary
from templates import CAMPAIGN_KINDS, SYSTEM_MAILS, sample_path

SENDER = "Cooperatives Unit <coop@example.org>"
SENDER_DOMAIN = "example.org"
BASE_URL = "https://news.example.org"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
RECIPIENT = Recipient(
    subscriber_id=41, list_id=2, email="amara.diallo@coop-thies.example.net", name="Amara Diallo"
)
SYSTEM_SUBJECTS = {
    "confirm-subscription": "Please confirm your subscription to the news of the Cooperatives Unit",
    "welcome": "Welcome to the news of the Cooperatives Unit",
    "unsubscribed": "You have been unsubscribed",
}
SYSTEM_URLS = {
    "confirm_url": f"{BASE_URL}/confirm/3f9c2a7d5b1e4c8a9f0d6b2e7a1c4f8e.Zk3xQ_2pLw",
    "unsubscribe_url": f"{BASE_URL}/u/2.41.Yh7TqvB3kP0_sWm",
    "preferences_url": f"{BASE_URL}/preferences/41.1795000000.Ra8Lw2",
    "resubscribe_url": f"{BASE_URL}/subscribe",
}
NAMES: tuple[str, ...] = (*CAMPAIGN_KINDS, *(f"system/{name}" for name in SYSTEM_MAILS))


@cache
def _composer() -> Composer:
    return Composer()


def factory(kind: str, *, feedback_id: str | None = None) -> MessageFactory:
    """The factory the worker would use for a campaign of ``kind`` made from its sample."""
    content = read_content(sample_path(kind))
    composition = _composer().compose(
        content=content,
        template=kind,
        subject=str(content.header["subject"]),
        preheader=str(content.header.get("preheader", "")),
    )
    return MessageFactory(
        composition=composition,
        links=Links(base_url=BASE_URL, key=b"k" * 32, campaign_id=12),
        sender=SENDER,
        reply_to=None,
        list_title="Letters to partners",
        list_id="partners.news.example.org",
        message_id_domain=SENDER_DOMAIN,
        unsubscribe_mailbox="bounces@example.org",
        feedback_id=feedback_id,
    )


def campaign_message(kind: str) -> bytes:
    return factory(kind).build(RECIPIENT, now=NOW)


def system_message(name: str) -> bytes:
    composition = _composer().compose_system(
        name=name,
        subject=SYSTEM_SUBJECTS[name],
        meta={"lists": ["Letters to partners"], "expires_in": "3 days"},
    )
    values = {"email": RECIPIENT.email, "name": RECIPIENT.name, "language": "en", **SYSTEM_URLS}
    headers = [
        ("From", SENDER),
        ("To", format_address(name=RECIPIENT.name, address=RECIPIENT.email)),
        ("Subject", encode_header(name="Subject", value=composition.subject.fill(values))),
        ("Date", format_date(NOW)),
        ("Message-ID", make_message_id(domain=SENDER_DOMAIN)),
        ("Auto-Submitted", "auto-generated"),
    ]
    return assemble(
        headers=headers,
        text=composition.text.fill(values),
        html=composition.html.fill(values),
        boundary=make_boundary(),
    )


def message(name: str) -> bytes:
    """``name`` is a campaign kind or ``system/<name>``."""
    if name.startswith("system/"):
        return system_message(name.removeprefix("system/"))
    return campaign_message(name)


def parsed(raw: bytes) -> EmailMessage:
    result = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(result, EmailMessage)
    return result


def html_part(raw: bytes) -> str:
    """The HTML part, decoded, as a mail program would render it."""
    part = parsed(raw).get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
