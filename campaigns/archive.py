"""The public archive: campaigns staff chose to show to anyone, once they have gone out.

An archived campaign is rendered as the mail was, for nobody in particular: every personal
field is empty (so each falls back to its default, "colleague"), and the links that carry a
person's token in a mail (unsubscribe, preferences, view in browser) lead to the subscribe
page instead. So no name, address or token can ever appear in the archive.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from campaigns.compose import Composer, Composition, Unit
from campaigns.drafts import compose_campaign, get_campaign
from campaigns.editions import campaign_editions
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign, CampaignStatus, CampaignVersion, campaign_lists
from campaigns.versions import campaign_versions
from subscribers.languages import best_language
from subscribers.models import MailingList

# Only what has gone out to its lists is public; a draft marked for the archive waits.
SHOWN = (CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.SENT)
SLUG_MAX = 60
# The layout marks the sentence that tells a recipient why they got the mail ("sent to
# ADDRESS because..."): said to nobody in particular it is wrong, so the archive drops it.
_PERSONAL_NOTE = re.compile(r"<!--personal-->.*?<!--/personal-->", re.DOTALL)


def set_archived(session: Session, *, campaign_id: int, archived: bool) -> Campaign:
    """Mark (or unmark) a campaign for the archive; any state, as it shows once sent."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    campaign.archived = archived
    session.flush()
    return campaign


@dataclass(frozen=True, kw_only=True)
class ArchivedVersion:
    """One language version of an archived campaign, as its page shows it."""

    language: str
    subject: str
    preheader: str


@dataclass(frozen=True, kw_only=True)
class ArchiveEntry:
    id: int
    slug: str
    subject: str
    preheader: str
    language: str
    sent_at: datetime
    lists: tuple[str, ...]  # the public lists' titles
    # Every version, the default first: each has its page (archive_path).
    versions: tuple[ArchivedVersion, ...] = ()

    def version_for(self, language: str) -> ArchivedVersion:
        """The version a reader of ``language`` is shown first: theirs, else the default."""
        chosen = best_language([language], available=[v.language for v in self.versions])
        return next((v for v in self.versions if v.language == chosen), self.versions[0])

    def path(self, language: str) -> str:
        return archive_path(self.slug, language=language, default=self.language)


def archived_campaigns(
    session: Session, *, list_name: str | None = None, limit: int = 100
) -> list[ArchiveEntry]:
    """Archived campaigns that went to a public list (``list_name``: that one), newest
    first. A campaign sent only to private lists is never listed."""
    public = select(campaign_lists.c.campaign_id).join(
        MailingList, MailingList.id == campaign_lists.c.list_id
    )
    public = public.where(MailingList.is_public.is_(True))
    if list_name is not None:
        public = public.where(MailingList.name == list_name)
    query = (
        select(Campaign)
        .options(selectinload(Campaign.lists))
        .where(Campaign.archived.is_(True))
        .where(Campaign.status.in_(SHOWN))
        .where(Campaign.queued_at.is_not(None))
        .where(Campaign.id.in_(public))
        .order_by(Campaign.queued_at.desc(), Campaign.id.desc())
        .limit(limit)
    )
    campaigns = list(session.scalars(query))
    preheaders = _preheaders(session, [campaign.id for campaign in campaigns])
    return [_entry(campaign, preheaders) for campaign in campaigns]


def archive_entry(session: Session, campaign: Campaign) -> ArchiveEntry:
    """The archive's entry for one campaign (its page links its versions)."""
    return _entry(campaign, _preheaders(session, [campaign.id]))


def archived_campaign(session: Session, *, campaign_id: int) -> Campaign:
    """The campaign if the archive shows it; CampaignNotFound otherwise (never "exists
    but hidden": the archive says nothing of what it does not show)."""
    campaign = session.get(Campaign, campaign_id)
    if (
        campaign is None
        or not campaign.archived
        or campaign.status not in SHOWN
        or campaign.queued_at is None
        or not any(mailing_list.is_public for mailing_list in campaign.lists)
    ):
        raise CampaignNotFound(campaign_id)
    return campaign


def archive_path(slug: str, *, language: str, default: str) -> str:
    """``/archive/<slug>`` for the default version, ``/archive/<slug>/<language>`` else."""
    return f"/archive/{slug}" if language == default else f"/archive/{slug}/{language}"


class ArchiveCache:
    """Archive pages rendered lately, per campaign, version and change (its update time and
    the unit's texts): a campaign with variants is rendered afresh for nobody, which costs a
    rendering and an inlining on every view without it. At most ``size`` pages, the least
    lately used leaving first; one per process, shared by its threads."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], tuple[Unit, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], unit: Unit) -> str | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] is not unit:
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: tuple[Any, ...], unit: Unit, html: str) -> None:
        with self._lock:
            self._pages[key] = (unit, html)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def archive_html(
    composer: Composer,
    campaign: Campaign,
    *,
    subscribe_url: str,
    page_url: str,
    session: Session | None = None,
    language: str | None = None,
    cache: ArchiveCache | None = None,
) -> str:
    """The campaign's HTML as sent in ``language``'s version (by default, the default
    version), with no one's data in it.

    A version whose content depends on its reader (variants) is rendered afresh for
    nobody: each tested field unset, as a reader with no data would have it; ``cache``
    keeps that rendering until the campaign (or the unit's texts) change."""
    unit = composer.unit
    key = (campaign.id, language, campaign.updated_at, campaign.queued_at, subscribe_url, page_url)
    if cache is not None and (found := cache.get(key, unit)) is not None:
        return found
    html = _archive_html(
        composer,
        campaign,
        subscribe_url=subscribe_url,
        page_url=page_url,
        session=session,
        language=language,
    )
    if cache is not None:
        cache.put(key, unit, html)
    return html


def _archive_html(
    composer: Composer,
    campaign: Campaign,
    *,
    subscribe_url: str,
    page_url: str,
    session: Session | None,
    language: str | None,
) -> str:
    editions = campaign_editions(campaign)
    wanted = language or campaign.language
    frozen = editions.versions.get(wanted) if editions is not None else None
    if editions is not None and frozen is not None and frozen.conditions.none:
        composition = editions.composition(wanted, None)
    elif wanted == campaign.language or session is None:
        composition = compose_campaign(composer, campaign)
    else:
        composition = _compose_version(composer, session, campaign, wanted)
    values = dict.fromkeys(composition.fields, "")
    values.update(
        unsubscribe_url=subscribe_url,
        preferences_url=subscribe_url,
        view_url=page_url,
        confirm_url=subscribe_url,
        resubscribe_url=subscribe_url,
    )
    return _PERSONAL_NOTE.sub("", composition.html.fill(values))


def _compose_version(
    composer: Composer, session: Session, campaign: Campaign, language: str
) -> Composition:
    """A translation rendered now for nobody (every tested field unset)."""
    version = next(
        (v for v in campaign_versions(session, campaign=campaign) if v.language == language),
        None,
    )
    if version is None:
        raise CampaignNotFound(campaign.id)
    return composer.compose(
        content=version.content,
        template=campaign.template,
        subject=version.subject,
        preheader=version.preheader,
        language=version.language,
    )


def archive_subject(campaign: Campaign, language: str | None = None) -> str:
    """The subject as sent (in ``language``'s version), its personal fields at their
    defaults."""
    editions = campaign_editions(campaign)
    if editions is None:
        return campaign.subject
    subject = editions.composition(language, None).subject
    return subject.fill(dict.fromkeys(subject.fields, ""))


def slug_of(campaign_id: int, subject: str) -> str:
    """``12-solidarity-with-the-weavers``: the id (which finds it) and words to read."""
    plain = unicodedata.normalize("NFKD", subject).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:SLUG_MAX].rstrip("-")
    return f"{campaign_id}-{words}" if words else str(campaign_id)


def campaign_id_of(slug: str) -> int | None:
    found = re.fullmatch(r"(\d{1,18})(?:-[a-z0-9-]*)?", slug)
    return int(found.group(1)) if found else None


def _entry(campaign: Campaign, preheaders: Mapping[tuple[int, str], str]) -> ArchiveEntry:
    """``preheaders``: the translations' preheaders, by campaign id and language."""
    assert campaign.queued_at is not None
    editions = campaign_editions(campaign)
    others = sorted(v for v in (editions.versions if editions else {}) if v != campaign.language)
    versions = [
        ArchivedVersion(
            language=campaign.language,
            subject=archive_subject(campaign),
            preheader=campaign.preheader,
        ),
        *(
            ArchivedVersion(
                language=other,
                subject=archive_subject(campaign, other),
                preheader=preheaders.get((campaign.id, other), ""),
            )
            for other in others
        ),
    ]
    return ArchiveEntry(
        id=campaign.id,
        slug=slug_of(campaign.id, campaign.subject),
        subject=archive_subject(campaign),
        preheader=campaign.preheader,
        language=campaign.language,
        sent_at=campaign.queued_at,
        lists=tuple(ml.title for ml in campaign.lists if ml.is_public),
        versions=tuple(versions),
    )


def _preheaders(session: Session, campaign_ids: list[int]) -> dict[tuple[int, str], str]:
    rows = session.execute(
        select(
            CampaignVersion.campaign_id, CampaignVersion.language, CampaignVersion.preheader
        ).where(CampaignVersion.campaign_id.in_(campaign_ids))
    )
    return {(row.campaign_id, row.language): row.preheader for row in rows}
