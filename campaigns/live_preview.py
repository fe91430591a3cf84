"""Preview content that is not saved yet: what the studio shows beside the editor as staff
type, through the same composer as the send (one render, CSS inlined once), for a chosen
subscriber of the lists or a sample reader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.drafts import SAMPLE_READER, SAMPLE_READER_EMAIL
from campaigns.errors import ContentError
from campaigns.kinds import UnknownFields, check_fields, get_kind
from campaigns.links import Links
from campaigns.messages import Recipient, personal_values
from campaigns.models import SourceFormat
from subscribers.addresses import normalise_address
from subscribers.errors import InvalidLanguage
from subscribers.languages import DEFAULT_LANGUAGE, check_language
from subscribers.lists import get_list
from subscribers.models import Subscriber, Subscription, SubscriptionStatus


@dataclass(frozen=True, kw_only=True)
class ContentPreview:
    subject: str
    html: str
    text: str
    recipient: Recipient
    warnings: tuple[UnknownFields, ...]


def preview_content(
    session: Session,
    *,
    composer: Composer,
    text: str,
    format: SourceFormat = SourceFormat.MARKDOWN,
    template: str | None = None,
    language: str | None = None,
    list_names: Sequence[str] = (),
    to: str | None = None,
    base_url: str,
    key: bytes,
    today: date | None = None,
) -> ContentPreview:
    """Render ``text`` (front matter and body, as a file holds it) as ``to`` would get it:
    a confirmed subscriber of ``list_names`` when ``to`` names one, else a sample reader.

    ``template`` and ``language`` are what the form says when the front matter does not;
    a mistake is the ContentError of the send, with its line."""
    content = parse_content(text, name="preview", format=format)
    header = content.header
    kind_name = str(header.get("template") or template or "")
    if not kind_name:
        raise ContentError("choose the kind of mail", source="preview")
    subject = str(header.get("subject") or "")
    tag = str(header.get("language") or language or "")
    try:
        written_in = check_language(tag) or DEFAULT_LANGUAGE
    except InvalidLanguage as error:
        raise ContentError(str(error), source="preview", line=2) from None
    composition = composer.compose(
        content=content,
        template=kind_name,
        subject=subject,
        preheader=str(header.get("preheader") or ""),
        language=written_in,
        today=today,
    )
    kind = get_kind(kind_name)
    warnings = check_fields(kind, meta=content.meta, source="preview") if kind else []
    recipient = _recipient(session, list_names=list_names, to=to)
    values = personal_values(
        composition, Links(base_url=base_url, key=key, campaign_id=0), recipient
    )
    return ContentPreview(
        subject=composition.subject.fill(values),
        html=composition.html.fill(values),
        text=composition.text.fill(values),
        recipient=recipient,
        warnings=tuple(warnings),
    )


def _recipient(session: Session, *, list_names: Sequence[str], to: str | None) -> Recipient:
    list_ids = [get_list(session, name=name).id for name in list_names]
    if to is not None and list_ids:
        found = session.execute(
            select(Subscriber, Subscription.list_id)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id.in_(list_ids))
            .where(Subscription.status == SubscriptionStatus.CONFIRMED)
            .where(Subscriber.email == normalise_address(to))
            .limit(1)
        ).first()
        if found is not None:
            subscriber, list_id = found
            return Recipient(
                subscriber_id=subscriber.id,
                list_id=list_id,
                email=subscriber.email,
                name=subscriber.name,
                language=subscriber.language,
                attributes=subscriber.attributes,
            )
    return Recipient(
        subscriber_id=0,
        list_id=list_ids[0] if list_ids else 0,
        email=normalise_address(to) if to else SAMPLE_READER_EMAIL,
        name=SAMPLE_READER,
    )
