"""One test message of a campaign, straight to the relay, outside the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.compose import Composer, Composition
from campaigns.drafts import message_factory, preview_recipient
from campaigns.models import Campaign
from campaigns.previews import edition_for
from campaigns.slots import Skeleton
from campaigns.worker import SendingIdentity
from mailer.smtp import SendResult, SmtpSettings

TEST_MARK = "[Test] "


def send_trial(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    to: str,
    identity: SendingIdentity,
    smtp: SmtpSettings,
    now: datetime,
) -> SendResult:
    """Send the campaign to ``to`` as its subscriber would get it, in their version and
    variant (or as a sample reader), with the subject marked so nobody mistakes it for the
    real thing."""
    recipient = preview_recipient(session, campaign, to)
    edition = edition_for(session, composer=composer, campaign=campaign, recipient=recipient)
    composition = edition.composition
    subject = composition.subject
    marked = Composition.of(
        subject=Skeleton((TEST_MARK + subject.literals[0], *subject.literals[1:]), subject.slots),
        html=composition.html,
        text=composition.text,
    )
    factory = message_factory(
        marked,
        campaign,
        base_url=identity.base_url,
        key=identity.key,
        feedback_sender=identity.feedback_sender,
        content_language=edition.language,
    )
    return identity.send_alone(
        smtp=smtp,
        from_address=factory.sender_address,
        recipient=recipient.email,
        message=factory.build(recipient, now=now),
    )
