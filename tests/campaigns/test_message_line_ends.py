"""Messages from a MessageFactory have CRLF line ends alone, whatever the recipient's data:
the worker relies on it to skip the SMTP client's per-message line-end scan."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.links import Links
from campaigns.messages import MessageFactory, Recipient
from mailer.smtp import prepare
from templates import sample_path

COMPOSITION = Composer().compose(
    content=read_content(sample_path("solidarity-letter")),
    template="solidarity-letter",
    subject="Hello {{ subscriber.name }}",
)
FACTORY = MessageFactory(
    composition=COMPOSITION,
    links=Links(base_url="https://news.example.org", key=b"k" * 32, campaign_id=3),
    sender="Cooperatives Unit <coop@example.org>",
    reply_to=None,
    list_title="Partners",
    list_id="partners.news.example.org",
    message_id_domain="example.org",
)
AWKWARD = st.text(alphabet=st.sampled_from("a .\r\n\t=é€\x00\u2028From"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(name=AWKWARD, country=AWKWARD)
def test_personal_data_never_makes_a_bare_cr_or_lf(name: str, country: str) -> None:
    recipient = Recipient(
        subscriber_id=7,
        list_id=1,
        email="anne@example.org",
        name=name,
        attributes={"country": country},
    )
    try:
        message = FACTORY.build(recipient, now=datetime.now(UTC))
    except ValueError:
        return  # refused (a header cannot carry it): nothing is sent
    prepare(sender="b@example.org", recipient="anne@example.org", message=message)  # checks
    assert b"\r\n.\r\n" not in message
