"""A campaign's editions: each language version, rendered once per variant it needs.

Render once still holds, per edition: a campaign in three languages whose template tests
one attribute with two values is rendered and inlined six times at most, whatever the
number of recipients. Which edition each person gets is decided when the send starts and
written in their outbox row (``Delivery.version``, ``Delivery.variant``); the worker only
looks it up. The language rule is the one of ``subscribers.languages``: the person's
language, else their list's, among the versions; else the default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, object_session

from campaigns.compose import Composer, Composition
from campaigns.drafts import message_factory
from campaigns.errors import TooManyVariants
from campaigns.messages import MessageFactory, Recipient
from campaigns.models import Campaign, Delivery
from campaigns.variants import MAX_VARIANTS, Conditions, Reader, known_values, multiplying_fields
from campaigns.versions import (
    Version,
    campaign_versions,
    default_changed_at,
    default_version,
    older_than_default,
)
from subscribers.bulk import BulkSql
from subscribers.languages import best_language
from subscribers.models import (
    MailingList,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
)

_NOBODY = Reader(language=None, attributes={})  # values for a rendering with no recipient
_CHUNK = 5_000  # ids per UPDATE: under SQLite's limit of bound parameters


@dataclass(frozen=True, kw_only=True)
class Variant:
    key: str  # the tested values, as JSON (campaigns.variants)
    composition: Composition


@dataclass(frozen=True, kw_only=True)
class VersionEditions:
    language: str
    conditions: Conditions
    variants: tuple[Variant, ...]

    def index(self, key: str) -> int | None:
        return next((i for i, v in enumerate(self.variants) if v.key == key), None)


@dataclass(frozen=True, kw_only=True)
class Editions:
    """Every rendering of one campaign, as frozen in ``Campaign.rendered``."""

    default: str
    versions: Mapping[str, VersionEditions]

    @property
    def trivial(self) -> bool:
        """One version without conditions: everybody gets the same rendering."""
        only = self.versions[self.default]
        return len(self.versions) == 1 and only.conditions.none

    def composition(self, version: str | None, variant: int | None) -> Composition:
        editions = self.versions.get(version or self.default) or self.versions[self.default]
        variants = editions.variants
        return variants[
            variant if variant is not None and variant < len(variants) else 0
        ].composition

    def as_json(self) -> dict[str, Any]:
        return {
            "editions": 1,
            "default": self.default,
            "versions": {
                language: {
                    "conditions": editions.conditions.as_json(),
                    "variants": [
                        {"key": v.key, "composition": v.composition.as_json()}
                        for v in editions.variants
                    ],
                }
                for language, editions in self.versions.items()
            },
        }

    @classmethod
    def single(cls, *, language: str, composition: Composition) -> Editions:
        """One rendering for everybody (a campaign in one language, with no conditions)."""
        return cls.of(default=language, compositions={language: composition})

    @classmethod
    def of(cls, *, default: str, compositions: Mapping[str, Composition]) -> Editions:
        """One rendering per language version, none with conditions (the digest)."""
        key = Conditions().key(_NOBODY)
        return cls(
            default=default,
            versions={
                language: VersionEditions(
                    language=language,
                    conditions=Conditions(),
                    variants=(Variant(key=key, composition=composition),),
                )
                for language, composition in compositions.items()
            },
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, language: str) -> Editions:
        """``language``: the campaign's, for a rendering frozen before there were versions
        (one composition for everybody)."""
        if "editions" not in data:
            return cls.single(language=language, composition=Composition.from_json(dict(data)))
        return cls(
            default=data["default"],
            versions={
                language: VersionEditions(
                    language=language,
                    conditions=Conditions.from_json(editions["conditions"]),
                    variants=tuple(
                        Variant(key=v["key"], composition=Composition.from_json(v["composition"]))
                        for v in editions["variants"]
                    ),
                )
                for language, editions in data["versions"].items()
            },
        )


def campaign_editions(campaign: Campaign) -> Editions | None:
    """The editions frozen when the send started, or None for a campaign not yet queued."""
    if campaign.rendered is None:
        return None
    return Editions.from_json(campaign.rendered, language=campaign.language)


def choose_version(
    *, languages: Sequence[str], default: str, subscriber: str | None, mailing_list: str | None
) -> str:
    """The version for a person: theirs, else their list's, among ``languages``; else the
    default (``subscribers.languages.best_language``: ``fr-CA`` reads the ``fr`` version)."""
    return best_language([subscriber, mailing_list], available=languages) or default


# --- who gets what ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Row:
    row_id: int  # a delivery's id, or a subscriber's before the send starts
    subscriber_language: str | None
    list_language: str | None
    reader: Reader


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Which edition (version, variant key) each row gets."""

    versions: list[Version]
    conditions: dict[str, Conditions]
    groups: dict[tuple[str, str], list[int]]
    readers: dict[str, list[Reader]]

    def counts(self) -> dict[str, int]:
        """Recipients per version, every version listed."""
        counts = {version.language: 0 for version in self.versions}
        for (language, _), rows in self.groups.items():
            counts[language] += len(rows)
        return counts


def plan_editions(
    session: Session, *, composer: Composer, campaign: Campaign, queued: bool, limit: bool = True
) -> Plan:
    """Who gets which edition: the campaign's outbox rows when ``queued``, else the people
    it would go to now (to render before the send starts, and for previews and counts).

    Raises TooManyVariants when a version would need more than MAX_VARIANTS renderings
    (unless ``limit`` is False: counting recipients per version renders nothing)."""
    versions = campaign_versions(session, campaign=campaign)
    conditions = {
        version.language: composer.conditions(
            content=version.content, template=campaign.template, subject=version.subject
        )
        for version in versions
    }
    languages = [version.language for version in versions]
    rows = _rows(session, campaign, conditions=list(conditions.values()), queued=queued)
    chosen: dict[tuple[str | None, str | None], str] = {}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    readers: dict[str, list[Reader]] = defaultdict(list)
    for row in rows:
        pair = (row.subscriber_language, row.list_language)
        language = chosen.get(pair)
        if language is None:
            language = chosen[pair] = choose_version(
                languages=languages,
                default=campaign.language,
                subscriber=row.subscriber_language,
                mailing_list=row.list_language,
            )
        groups[(language, conditions[language].key(row.reader))].append(row.row_id)
        readers[language].append(row.reader)
    for language in languages:
        keys = {key for (version, key) in groups if version == language}
        if limit and len(keys) > MAX_VARIANTS:
            raise TooManyVariants(
                language=language,
                variants=len(keys),
                limit=MAX_VARIANTS,
                fields=multiplying_fields(conditions[language], readers[language]),
            )
    return Plan(versions=versions, conditions=conditions, groups=dict(groups), readers=readers)


def render_editions(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    plan: Plan | None = None,
    editions: Editions | None = None,
) -> Editions:
    """Render every edition ``plan`` needs that ``editions`` lacks (the default version
    always has one): rendering and inlining once per edition, never per recipient."""
    plan = plan or plan_editions(session, composer=composer, campaign=campaign, queued=False)
    versions = {version.language: version for version in plan.versions}
    needed: dict[str, set[str]] = {language: set() for language in versions}
    for language, key in plan.groups:
        needed[language].add(key)
    default_conditions = plan.conditions[campaign.language]
    if not needed[campaign.language]:
        needed[campaign.language].add(default_conditions.key(_NOBODY))
    result: dict[str, VersionEditions] = dict(editions.versions) if editions else {}
    for language, keys in needed.items():
        if not keys and language not in result:
            continue  # nobody reads this version
        have = result.get(language) or VersionEditions(
            language=language, conditions=plan.conditions[language], variants=()
        )
        missing = sorted(key for key in keys if have.index(key) is None)
        if not missing:
            result[language] = have
            continue
        version = versions[language]
        rendered = [
            Variant(
                key=key,
                composition=composer.compose(
                    content=version.content,
                    template=campaign.template,
                    subject=version.subject,
                    preheader=version.preheader,
                    language=language,
                    known=known_values(key),
                ),
            )
            for key in missing
        ]
        result[language] = replace(have, variants=(*have.variants, *rendered))
    return Editions(default=campaign.language, versions=result)


def prepare_editions(composer: Composer, campaign: Campaign) -> Editions:
    """The editions of a campaign about to be queued, rendered with no write lock held.

    Without conditions each version is rendered once, whoever reads it, and no recipient
    is read (a million of them would cost more than three renderings); with conditions the
    recipients say which variants occur. A campaign outside any session renders its
    default version only: the rest is rendered when it is queued."""
    session = object_session(campaign)
    versions = (
        [default_version(campaign)]
        if session is None
        else campaign_versions(session, campaign=campaign)
    )
    found = {
        version.language: composer.conditions(
            content=version.content, template=campaign.template, subject=version.subject
        )
        for version in versions
    }
    if session is not None and not all(conditions.none for conditions in found.values()):
        return render_editions(session, composer=composer, campaign=campaign)
    result = {}
    for version in versions:
        conditions = found[version.language]
        key = conditions.key(_NOBODY)
        composition = composer.compose(
            content=version.content,
            template=campaign.template,
            subject=version.subject,
            preheader=version.preheader,
            language=version.language,
            known=known_values(key),
        )
        result[version.language] = VersionEditions(
            language=version.language,
            conditions=conditions,
            variants=(Variant(key=key, composition=composition),),
        )
    return Editions(default=campaign.language, versions=result)


def assign_editions(
    session: Session, *, composer: Composer, campaign: Campaign, editions: Editions
) -> Editions:
    """Write in each outbox row of ``campaign`` the edition its person gets, rendering any
    that ``editions`` (made before the recipients were frozen) lacks. Returns the editions
    to freeze. A campaign with one version and no conditions writes nothing: every row
    gets the one rendering."""
    if editions.trivial and not _has_versions(session, campaign):
        return editions
    plan = plan_editions(session, composer=composer, campaign=campaign, queued=True)
    editions = render_editions(
        session, composer=composer, campaign=campaign, plan=plan, editions=editions
    )
    sql = BulkSql(session.connection())
    for (language, key), delivery_ids in plan.groups.items():
        index = editions.versions[language].index(key)
        for start in range(0, len(delivery_ids), _CHUNK):
            sql.execute(
                "UPDATE deliveries SET version = {mark}, variant = {mark} WHERE id {in_values}",
                delivery_ids[start : start + _CHUNK],
                first=(language, index),
            )
    return editions


def version_counts(session: Session, *, composer: Composer, campaign: Campaign) -> dict[str, int]:
    """Recipients per version: as frozen in the outbox once queued, else as it stands."""
    if campaign.rendered is None:
        plan = plan_editions(
            session, composer=composer, campaign=campaign, queued=False, limit=False
        )
        return plan.counts()
    counts = {version.language: 0 for version in campaign_versions(session, campaign=campaign)}
    for language, count in session.execute(
        select(Delivery.version, func.count())
        .where(Delivery.campaign_id == campaign.id)
        .group_by(Delivery.version)
    ):
        counts[language or campaign.language] = counts.get(language or campaign.language, 0) + count
    return counts


@dataclass(frozen=True, kw_only=True)
class VersionSummary:
    """One version as the shells list it."""

    language: str
    default: bool
    subject: str
    preheader: str
    source: str
    recipients: int
    # When it last changed: the default version's newest revision, a translation's save.
    changed_at: datetime
    # A translation last changed before the default version: it may no longer say the same.
    older_than_default: bool


def summarise_versions(
    session: Session, *, composer: Composer, campaign: Campaign
) -> list[VersionSummary]:
    """Every version, the default first, with its recipients and when it last changed:
    what `campaigns show`, `campaigns versions list` and the API's versions list show."""
    counts = version_counts(session, composer=composer, campaign=campaign)
    older = set(older_than_default(session, campaign=campaign))
    default_at = default_changed_at(session, campaign=campaign)
    return [
        VersionSummary(
            language=version.language,
            default=version.language == campaign.language,
            subject=version.subject,
            preheader=version.preheader,
            source=version.content.name,
            recipients=counts.get(version.language, 0),
            changed_at=(
                default_at
                if version.language == campaign.language
                else version.updated_at or campaign.updated_at
            ),
            older_than_default=version.language in older,
        )
        for version in campaign_versions(session, campaign=campaign)
    ]


def _has_versions(session: Session, campaign: Campaign) -> bool:
    return len(campaign_versions(session, campaign=campaign)) > 1


def _rows(
    session: Session, campaign: Campaign, *, conditions: list[Conditions], queued: bool
) -> list[_Row]:
    if queued:
        people = (
            select(
                Delivery.id.label("row_id"),
                Delivery.subscriber_id.label("subscriber_id"),
                Delivery.list_id.label("list_id"),
            )
            .where(Delivery.campaign_id == campaign.id)
            .where(Delivery.subscriber_id.is_not(None))
            .subquery()
        )
    else:
        list_ids = [mailing_list.id for mailing_list in campaign.lists]
        people = (
            select(
                Subscription.subscriber_id.label("row_id"),
                Subscription.subscriber_id.label("subscriber_id"),
                func.min(Subscription.list_id).label("list_id"),
            )
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscription.list_id.in_(list_ids))
            .where(Subscription.status == SubscriptionStatus.CONFIRMED)
            .where(~exists().where(Suppression.email == Subscriber.email))
            .group_by(Subscription.subscriber_id)
            .subquery()
        )
    memberships = _memberships(session, people, conditions)
    found = session.execute(
        select(
            people.c.row_id,
            people.c.subscriber_id,
            Subscriber.language,
            Subscriber.attributes,
            MailingList.language,
        )
        .join(Subscriber, Subscriber.id == people.c.subscriber_id)
        .outerjoin(MailingList, MailingList.id == people.c.list_id)
    )
    return [
        _Row(
            row_id=row_id,
            subscriber_language=language,
            list_language=list_language,
            reader=Reader(
                language=language,
                attributes=attributes or {},
                lists=memberships.get(subscriber_id, frozenset()),
            ),
        )
        for row_id, subscriber_id, language, attributes, list_language in found
    ]


def _memberships(
    session: Session, people: Any, conditions: list[Conditions]
) -> dict[int, frozenset[str]]:
    """The lists each person is confirmed on, when a version tests list membership."""
    testing = [c for c in conditions if "lists" in c.fields]
    if not testing:
        return {}
    query = (
        select(Subscription.subscriber_id, MailingList.name)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.status == SubscriptionStatus.CONFIRMED)
        .where(Subscription.subscriber_id.in_(select(people.c.subscriber_id)))
    )
    if all(c.list_names is not None for c in testing):
        names = set().union(*(c.list_names or frozenset() for c in testing))
        query = query.where(MailingList.name.in_(sorted(names)))
    found: dict[int, set[str]] = defaultdict(set)
    for subscriber_id, name in session.execute(query):
        found[subscriber_id].add(name)
    return {subscriber_id: frozenset(names) for subscriber_id, names in found.items()}


# --- the messages ---------------------------------------------------------------------------


class CampaignMessages:
    """Builds every recipient's message, from the edition their outbox row names."""

    def __init__(
        self,
        *,
        editions: Editions,
        campaign: Campaign,
        base_url: str,
        key: bytes,
        unsubscribe_mailbox: str | None = None,
        feedback_sender: str | None = None,
    ) -> None:
        self._default = editions.default
        self._factories: dict[tuple[str, int], MessageFactory] = {
            (language, index): message_factory(
                variant.composition,
                campaign,
                base_url=base_url,
                key=key,
                unsubscribe_mailbox=unsubscribe_mailbox,
                feedback_sender=feedback_sender,
                content_language=language,
            )
            for language, version in editions.versions.items()
            for index, variant in enumerate(version.variants)
        }
        first = next(iter(self._factories.values()))
        self.sender_address = first.sender_address
        self.new_message_id = first.new_message_id

    def factory(self, recipient: Recipient) -> MessageFactory:
        found = self._factories.get((recipient.version or self._default, recipient.variant or 0))
        return found or self._factories[(self._default, 0)]

    def build(
        self,
        recipient: Recipient,
        *,
        now: datetime,
        date_header: str | None = None,
        message_id: str | None = None,
    ) -> bytes:
        return self.factory(recipient).build(
            recipient, now=now, date_header=date_header, message_id=message_id
        )
