"""Create campaigns from content files, list them, and preview one as a recipient gets it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from campaigns.compose import Composer, Composition
from campaigns.content import Content
from campaigns.errors import CampaignNotFound, ContentError, UnknownSender
from campaigns.kinds import UnknownFields, check_fields, get_kind
from campaigns.links import Links
from campaigns.media.references import ImageContext, ResolvedImages, keep_images, resolve_images
from campaigns.messages import MessageFactory, Recipient
from campaigns.models import Campaign, CampaignStatus
from campaigns.revisions import record_revision
from campaigns.senders import Sender, find_sender
from mailer.errors import InvalidHeader
from mailer.headers import check_header_value, format_feedback_id, parse_address
from subscribers.addresses import normalise_address
from subscribers.base import utcnow
from subscribers.errors import InvalidLanguage
from subscribers.languages import DEFAULT_LANGUAGE, check_language
from subscribers.lists import get_list, list_words
from subscribers.models import Subscriber, Subscription, SubscriptionStatus

SUBJECT_MAX = 250
# Who a preview is for when no subscriber is chosen (or none is confirmed yet).
SAMPLE_READER = "Sample Reader"
SAMPLE_READER_EMAIL = "reader@example.org"


@dataclass(frozen=True, kw_only=True)
class DraftCampaign:
    """A campaign checked and rendered once, not yet stored: what ``store_campaign`` saves.

    Rendering comes first, with no database session open, so that a slow template never
    holds the database's write lock (SQLite has one for everybody)."""

    content: Content
    template: str
    list_names: list[str]
    subject: str
    preheader: str
    sender: str
    reply_to: str | None
    language: str
    # What staff may want to fix, though it does not stop the campaign (a misspelt field).
    warnings: tuple[UnknownFields, ...] = ()
    # The images the content brought (local files, remote copies), kept with the campaign.
    images: ResolvedImages | None = None


def prepare_campaign(
    session: Session,
    *,
    composer: Composer,
    content: Content,
    default_sender: str,
    template: str | None = None,
    list_names: list[str] | None = None,
    subject: str | None = None,
    images: ImageContext | None = None,
    senders: Sequence[Sender] = (),
) -> DraftCampaign:
    """Check the header and the lists, resolve every image (with ``images``: see
    campaigns.media.references), then render once, so template errors surface now, not at
    send. ``session`` only reads: give it one that holds no write lock.

    A field the kind does not know is a warning in the draft, not an error. With
    ``senders``, the From must be one of them, and its Reply-To comes with it."""
    resolved = resolve_images(session, content=content, context=images) if images else None
    content = resolved.content if resolved else content
    header = content.header
    template = template or _text(header.get("template"), "template", content)
    names = list_names or _list_names(header.get("lists"), content)
    for name in names:
        get_list(session, name=name)
    subject = _subject(subject or _text(header.get("subject"), "subject", content), content)
    preheader = _optional_text(header.get("preheader"), "preheader", content) or ""
    sender = _address(header.get("from") or default_sender, "from", content)
    reply_to = _address(header["reply_to"], "reply_to", content) if header.get("reply_to") else None
    if senders:
        chosen = find_sender(senders, from_address=sender)
        if chosen is None:
            raise UnknownSender(
                address=sender, known=[s.from_address for s in senders], source=content.name
            )
        reply_to = reply_to or chosen.reply_to
    language = _language(header.get("language"), content)
    composer.compose(
        content=content,
        template=template,
        subject=subject,
        preheader=preheader,
        language=language,
    )
    kind = get_kind(template)
    warnings = check_fields(kind, meta=content.meta, source=content.name) if kind else []
    return DraftCampaign(
        content=content,
        template=template,
        list_names=names,
        subject=subject,
        preheader=preheader,
        sender=sender,
        reply_to=reply_to,
        language=language,
        warnings=tuple(warnings),
        images=resolved,
    )


def store_campaign(
    session: Session, *, draft: DraftCampaign, author: str = "", now: datetime | None = None
) -> Campaign:
    """Save a prepared draft, as its first revision by ``author``, and the images it
    brought; its lists must exist."""
    if draft.images is not None:
        keep_images(session, resolved=draft.images, now=now or utcnow())
    mailing_lists = [get_list(session, name=name) for name in draft.list_names]
    campaign = Campaign(
        subject=draft.subject,
        preheader=draft.preheader,
        template=draft.template,
        source_format=draft.content.format,
        source_name=draft.content.name,
        body=draft.content.body,
        meta=draft.content.meta,
        from_address=draft.sender,
        reply_to=draft.reply_to,
        language=draft.language,
        status=CampaignStatus.DRAFT,
        lists=mailing_lists,
    )
    session.add(campaign)
    session.flush()
    record_revision(session, campaign=campaign, author=author, now=now or campaign.created_at)
    return campaign


def create_campaign(
    session: Session,
    *,
    composer: Composer,
    content: Content,
    default_sender: str,
    template: str | None = None,
    list_names: list[str] | None = None,
    subject: str | None = None,
    author: str = "",
) -> Campaign:
    """``prepare_campaign`` then ``store_campaign`` in one session, for callers whose
    rendering may wait on nobody (a test, the demo on its own database)."""
    draft = prepare_campaign(
        session,
        composer=composer,
        content=content,
        default_sender=default_sender,
        template=template,
        list_names=list_names,
        subject=subject,
    )
    return store_campaign(session, draft=draft, author=author)


def get_campaign(session: Session, *, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


def list_campaigns(session: Session, *, limit: int = 50, offset: int = 0) -> list[Campaign]:
    """Newest first, with their lists loaded in the same round trip (callers show them)."""
    return list(
        session.scalars(
            select(Campaign)
            .options(selectinload(Campaign.lists))
            .order_by(Campaign.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )


def compose_campaign(composer: Composer, campaign: Campaign) -> Composition:
    content = Content(
        name=campaign.source_name,
        format=campaign.source_format,
        body=campaign.body,
        body_line=1,
        meta=campaign.meta,
    )
    return composer.compose(
        content=content,
        template=campaign.template,
        subject=campaign.subject,
        preheader=campaign.preheader,
        language=campaign.language,
    )


def message_factory(
    composition: Composition,
    campaign: Campaign,
    *,
    base_url: str,
    key: bytes,
    unsubscribe_mailbox: str | None = None,
    feedback_sender: str | None = None,
    content_language: str | None = None,
) -> MessageFactory:
    first_list = campaign.lists[0]
    host = urlsplit(base_url).hostname or "localhost"
    _, sender_address = parse_address(campaign.from_address)
    return MessageFactory(
        composition=composition,
        links=Links(base_url=base_url, key=key, campaign_id=campaign.id),
        sender=campaign.from_address,
        reply_to=campaign.reply_to,
        list_title=list_words(first_list, language=content_language).title,
        list_id=f"{first_list.name}.{host}",
        message_id_domain=sender_address.rpartition("@")[2],
        unsubscribe_mailbox=unsubscribe_mailbox,
        feedback_id=format_feedback_id(
            identifiers=(str(campaign.id), first_list.name, campaign.template),
            sender=feedback_sender,
        )
        if feedback_sender
        else None,
        content_language=content_language,
    )


@dataclass(frozen=True, kw_only=True)
class Preview:
    recipient: Recipient
    html: str
    text: str
    message: bytes


def preview_campaign(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    base_url: str,
    key: bytes,
    now: datetime,
    to: str | None = None,
) -> Preview:
    """The message one recipient would get: a subscriber of the campaign's lists if ``to``
    names one (or, without ``to``, the first confirmed one), otherwise a sample reader."""
    recipient = preview_recipient(session, campaign, to)
    composition = compose_campaign(composer, campaign)
    factory = message_factory(composition, campaign, base_url=base_url, key=key)
    values = factory.values(recipient)
    return Preview(
        recipient=recipient,
        html=composition.html.fill(values),
        text=composition.text.fill(values),
        message=factory.build(recipient, now=now),
    )


def preview_recipient(session: Session, campaign: Campaign, to: str | None) -> Recipient:
    list_ids = [mailing_list.id for mailing_list in campaign.lists]
    query = (
        select(Subscriber, Subscription.list_id)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id.in_(list_ids))
        .where(Subscription.status == SubscriptionStatus.CONFIRMED)
        .order_by(Subscriber.id)
        .limit(1)
    )
    if to is not None:
        query = query.where(Subscriber.email == normalise_address(to))
    found = session.execute(query).first()
    if found is None:
        return Recipient(
            subscriber_id=0,
            list_id=list_ids[0],
            email=normalise_address(to) if to else SAMPLE_READER_EMAIL,
            name=SAMPLE_READER,
        )
    subscriber, list_id = found
    return Recipient(
        subscriber_id=subscriber.id,
        list_id=list_id,
        email=subscriber.email,
        name=subscriber.name,
        language=subscriber.language,
        attributes=subscriber.attributes,
    )


def _text(value: object, key: str, content: Content) -> str:
    text = _optional_text(value, key, content)
    if not text:
        raise ContentError(
            f"no {key} given: add `{key}: ...` to the front matter or pass --{key}",
            source=content.name,
        )
    return text


def _optional_text(value: object, key: str, content: Content) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise ContentError(f"{key} must be a single line of text", source=content.name, line=2)
    try:
        return check_header_value(name=key, value=str(value)).strip()
    except InvalidHeader as error:
        raise ContentError(str(error), source=content.name, line=2) from None


def _language(value: object, content: Content) -> str:
    """The campaign's language tag, written the standard way; English when none is given."""
    text = _optional_text(value, "language", content) or ""
    try:
        return check_language(text) or DEFAULT_LANGUAGE
    except InvalidLanguage as error:
        raise ContentError(str(error), source=content.name, line=2) from None


def _subject(subject: str, content: Content) -> str:
    subject = _text(subject, "subject", content)
    if len(subject) > SUBJECT_MAX:
        raise ContentError(
            f"the subject is longer than {SUBJECT_MAX} characters", source=content.name
        )
    return subject


def _address(value: object, key: str, content: Content) -> str:
    text = _text(value, key, content)
    try:
        parse_address(text)
    except InvalidHeader as error:
        raise ContentError(f"{key}: {error}", source=content.name, line=2) from None
    return text


def _list_names(value: object, content: Content) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise ContentError(
        "no lists given: add `lists: [partners]` to the front matter or pass --list",
        source=content.name,
    )
