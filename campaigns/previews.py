"""What one person sees of a campaign in several languages and variants: previews, the
variants and their recipients, and the edition of someone viewing their letter online."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.compose import Composer, Composition
from campaigns.drafts import Preview, message_factory, preview_recipient
from campaigns.editions import Editions, campaign_editions, choose_version, plan_editions
from campaigns.errors import VariantNotFound, VersionNotFound
from campaigns.messages import Recipient
from campaigns.models import Campaign, Delivery
from campaigns.variants import Reader, known_values
from campaigns.versions import Version, campaign_versions
from subscribers.languages import best_language
from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus


@dataclass(frozen=True, kw_only=True)
class VariantSummary:
    """One rendering of one version: the tested values it has and how many get it."""

    language: str
    index: int
    values: dict[str, Any]
    recipients: int
    subscriber_ids: tuple[int, ...]  # a few of them, to preview it as one of them


@dataclass(frozen=True, kw_only=True)
class Edition:
    """The rendering one person gets, and the language it is written in."""

    language: str
    composition: Composition


def campaign_variants(
    session: Session, *, composer: Composer, campaign: Campaign
) -> list[VariantSummary]:
    """Every variant of every version, with its recipients, in the order they are
    rendered; as frozen in the outbox once the campaign is queued, else as it stands."""
    queued = campaign.rendered is not None
    plan = plan_editions(session, composer=composer, campaign=campaign, queued=queued)
    editions = campaign_editions(campaign) if queued else None
    summaries = []
    for version in plan.versions:
        language = version.language
        keys = sorted(key for (lang, key) in plan.groups if lang == language)
        if editions is not None and language in editions.versions:
            frozen = [v.key for v in editions.versions[language].variants]
            keys = [key for key in frozen if key in keys] + [k for k in keys if k not in frozen]
        for index, key in enumerate(keys):
            rows = plan.groups[(language, key)]
            ids = rows[:3] if not queued else _subscribers_of(session, rows[:3])
            summaries.append(
                VariantSummary(
                    language=language,
                    index=index,
                    values=known_values(key),
                    recipients=len(rows),
                    subscriber_ids=tuple(ids),
                )
            )
    return summaries


def preview_edition(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    base_url: str,
    key: bytes,
    now: datetime,
    to: str | None = None,
    language: str | None = None,
    variant: int | None = None,
) -> Preview:
    """The message one recipient would get, in the version they would get (or the one
    ``language`` names) and in their variant (or variant number ``variant``, as one of its
    recipients)."""
    versions = campaign_versions(session, campaign=campaign)
    version: Version | None = None
    if language is not None:
        version = _version(campaign, versions, language)
    if variant is not None:
        summaries = [
            s
            for s in campaign_variants(session, composer=composer, campaign=campaign)
            if s.language == (version.language if version else campaign.language)
        ]
        if variant >= len(summaries):
            raise VariantNotFound(
                campaign_id=campaign.id,
                language=version.language if version else campaign.language,
                variant=variant,
                count=len(summaries),
            )
        chosen = summaries[variant]
        subscriber = session.get(Subscriber, chosen.subscriber_ids[0])
        to = subscriber.email if subscriber is not None else to
    recipient = preview_recipient(session, campaign, to)
    edition = _edition(
        session,
        composer=composer,
        campaign=campaign,
        versions=versions,
        recipient=recipient,
        version=version,
    )
    factory = message_factory(
        edition.composition,
        campaign,
        base_url=base_url,
        key=key,
        content_language=edition.language,
    )
    values = factory.values(recipient)
    return Preview(
        recipient=recipient,
        html=edition.composition.html.fill(values),
        text=edition.composition.text.fill(values),
        message=factory.build(recipient, now=now),
    )


def edition_for(
    session: Session, *, composer: Composer, campaign: Campaign, recipient: Recipient
) -> Edition:
    """The rendering ``recipient`` got (the one their outbox row names, else the frozen one
    they would get), or, before the send, the one they would get, rendered now."""
    editions = campaign_editions(campaign)
    if editions is not None:
        row = session.execute(
            select(Delivery.version, Delivery.variant).where(
                Delivery.campaign_id == campaign.id,
                Delivery.subscriber_id == recipient.subscriber_id,
            )
        ).first()
        if row is not None:
            language = row.version or editions.default
            return Edition(
                language=language if language in editions.versions else editions.default,
                composition=editions.composition(row.version, row.variant),
            )
    versions = campaign_versions(session, campaign=campaign)
    return _edition(
        session,
        composer=composer,
        campaign=campaign,
        versions=versions,
        recipient=recipient,
        version=None,
        editions=editions,
    )


def _edition(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    versions: list[Version],
    recipient: Recipient,
    version: Version | None,
    editions: Editions | None = None,
) -> Edition:
    """The edition of ``version`` (else the one the language rule gives) in the variant
    ``recipient`` belongs to: from ``editions`` when frozen there, else rendered now."""
    if version is None:
        list_language = session.scalar(
            select(MailingList.language).where(MailingList.id == recipient.list_id)
        )
        chosen = choose_version(
            languages=[v.language for v in versions],
            default=campaign.language,
            subscriber=recipient.language,
            mailing_list=list_language,
        )
        version = next(v for v in versions if v.language == chosen)
    conditions = composer.conditions(
        content=version.content, template=campaign.template, subject=version.subject
    )
    reader = Reader(
        language=recipient.language,
        attributes=recipient.attributes,
        lists=_lists_of(session, recipient.subscriber_id),
    )
    key = conditions.key(reader)
    frozen = editions.versions.get(version.language) if editions is not None else None
    index = frozen.index(key) if frozen is not None else None
    if frozen is not None and index is not None:
        return Edition(language=version.language, composition=frozen.variants[index].composition)
    composition = composer.compose(
        content=version.content,
        template=campaign.template,
        subject=version.subject,
        preheader=version.preheader,
        language=version.language,
        known=known_values(key),
    )
    return Edition(language=version.language, composition=composition)


def _version(campaign: Campaign, versions: list[Version], language: str) -> Version:
    languages = [v.language for v in versions]
    chosen = best_language([language], available=languages)
    if chosen is None:
        raise VersionNotFound(campaign_id=campaign.id, language=language, languages=languages)
    return next(v for v in versions if v.language == chosen)


def _lists_of(session: Session, subscriber_id: int) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(MailingList.name)
            .join(Subscription, Subscription.list_id == MailingList.id)
            .where(Subscription.subscriber_id == subscriber_id)
            .where(Subscription.status == SubscriptionStatus.CONFIRMED)
        )
    )


def _subscribers_of(session: Session, delivery_ids: list[int]) -> list[int]:
    return [
        subscriber_id
        for subscriber_id in session.scalars(
            select(Delivery.subscriber_id).where(Delivery.id.in_(delivery_ids))
        )
        if subscriber_id is not None
    ]
