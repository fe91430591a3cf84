"""Personalised MIME bytes for one recipient, from a campaign rendered once.

Everything that is the same for every recipient (sender, subject when impersonal, List-Id,
boundary, and the quoted-printable encoding of the bodies between the personal fields) is
done when the factory is made; per recipient only the slots, the To line, the signed links
and the Message-ID are produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from campaigns.compose import Composition
from campaigns.links import Links
from campaigns.slots import Skeleton
from mailer.headers import (
    encode_header,
    format_address,
    format_date,
    format_list_id,
    list_unsubscribe,
    make_message_id,
    parse_address,
)
from mailer.mime import assemble_encoded, make_boundary
from mailer.skeleton import BodySkeleton


@dataclass(frozen=True, kw_only=True, slots=True)
class Recipient:
    subscriber_id: int
    list_id: int
    email: str
    name: str = ""
    language: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # The language version and variant this person gets (campaigns.editions).
    version: str | None = None
    variant: int | None = None


class MessageFactory:
    """Builds every recipient's message for one composition."""

    def __init__(
        self,
        *,
        composition: Composition,
        links: Links,
        sender: str,
        reply_to: str | None,
        list_title: str,
        list_id: str,
        message_id_domain: str,
        unsubscribe_mailbox: str | None = None,
        feedback_id: str | None = None,
        content_language: str | None = None,
    ) -> None:
        self.composition = composition
        self.sender_address = parse_address(sender)[1]
        # Where mailto unsubscribes go: the bounce mailbox, which `coopmail bounces` reads.
        self._unsubscribe_mailbox = unsubscribe_mailbox or self.sender_address
        self._links = links
        self._message_id_domain = message_id_domain
        self._boundary = make_boundary()
        self._html = _PreparedBody(composition.html)
        self._text = _PreparedBody(composition.text)
        self._static = [("From", _address_header(sender))]
        if reply_to:
            self._static.append(("Reply-To", _address_header(reply_to)))
        self._static += [
            ("List-Id", format_list_id(name=list_title, list_id=list_id)),
        ]
        if feedback_id:  # Gmail's feedback loop: complaints counted per campaign, list, kind
            self._static.append(("Feedback-ID", feedback_id))
        if content_language:
            self._static.append(("Content-Language", content_language))
        subject = composition.subject
        self._fixed_subject = (
            None if subject.slots else encode_header(name="Subject", value=subject.fill({}))
        )

    def values(self, recipient: Recipient) -> dict[str, str]:
        return personal_values(self.composition, self._links, recipient)

    def new_message_id(self) -> str:
        return make_message_id(domain=self._message_id_domain)

    def build(
        self,
        recipient: Recipient,
        *,
        now: datetime,
        date_header: str | None = None,
        message_id: str | None = None,
    ) -> bytes:
        """The message as bytes; pass ``date_header`` to share one formatted Date per batch."""
        values = self.values(recipient)
        subject = self._fixed_subject or encode_header(
            name="Subject", value=self.composition.subject.fill(values)
        )
        headers = [
            *self._static,
            ("To", format_address(name=recipient.name, address=recipient.email)),
            ("Subject", subject),
            ("Date", date_header or format_date(now)),
            ("Message-ID", message_id or self.new_message_id()),
            *list_unsubscribe(
                url=values["unsubscribe_url"],
                mailbox=self._unsubscribe_mailbox,
                token=values["unsubscribe_token"],
            ),
        ]
        return assemble_encoded(
            headers=headers,
            text=self._text.fill(values),
            html=self._html.fill(values),
            boundary=self._boundary,
        )


def personal_values(composition: Composition, links: Links, recipient: Recipient) -> dict[str, str]:
    """The personal values ``composition`` uses for ``recipient``; links are signed only
    when used, but the unsubscribe link always is, for the List-Unsubscribe header."""
    fields = composition.fields
    token = links.unsubscribe_token(
        subscriber_id=recipient.subscriber_id, list_id=recipient.list_id
    )
    values: dict[str, str] = {
        "name": recipient.name,
        "email": recipient.email,
        "language": recipient.language or "",
        "unsubscribe_token": token,
        "unsubscribe_url": links.unsubscribe(token=token),
    }
    if "preferences_url" in fields:
        values["preferences_url"] = links.preferences(subscriber_id=recipient.subscriber_id)
    if "view_url" in fields:
        values["view_url"] = links.view(subscriber_id=recipient.subscriber_id)
    for name in fields:
        if name.startswith("attributes."):
            values[name] = str(recipient.attributes.get(name[len("attributes.") :], ""))
    return values


class _PreparedBody:
    """A skeleton whose literal text is quoted-printable encoded once for the campaign."""

    def __init__(self, skeleton: Skeleton) -> None:
        self._slots = skeleton.slots
        self._encoded = BodySkeleton.prepare(segments=skeleton.literals)

    def fill(self, values: Mapping[str, str]) -> bytes:
        return self._encoded.fill(values=[slot.render(values) for slot in self._slots])


def _address_header(value: str) -> str:
    name, address = parse_address(value)
    return format_address(name=name, address=address)
