"""Every saved version of a campaign: the source as a file would hold it, who, when.

The default version's saves and each translation's are revisions alike, told apart by
their ``language`` (None for the default version) and numbered in one sequence.

A revision keeps the whole source (front matter and body) rather than a difference, so
any one can be read or restored alone, and two are compared by diffing their texts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from campaigns.errors import (
    CampaignNotFound,
    RevisionNotFound,
    RevisionsOfTwoVersions,
    VersionNotFound,
)
from campaigns.models import Campaign, CampaignRevision, CampaignVersion, SourceFormat


def campaign_source(campaign: Campaign) -> str:
    """The campaign as a content file: what ``coopmail``'s readers parse back to it."""
    header: dict[str, Any] = {
        "subject": campaign.subject,
        "preheader": campaign.preheader or None,
        "template": campaign.template,
        "lists": [mailing_list.name for mailing_list in campaign.lists],
        "from": campaign.from_address,
        "reply_to": campaign.reply_to,
        "language": campaign.language,
    }
    return content_text(
        header={k: v for k, v in header.items() if v is not None},
        meta=campaign.meta,
        body=campaign.body,
    )


def content_text(*, header: dict[str, Any], meta: dict[str, Any], body: str) -> str:
    """Front matter (the header, then the kind's fields) and the body, as one text: how a
    form's fields become the same content a file gives."""
    front = {**header, **meta}
    if not front:
        return body
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=10_000)
    return f"---\n{dumped}---\n{body}"


def record_revision(
    session: Session,
    *,
    campaign: Campaign,
    author: str,
    now: datetime,
    restored_from: int | None = None,
) -> CampaignRevision:
    """Keep the campaign's default version as it now stands as its next revision."""
    return _store(
        session,
        campaign_id=campaign.id,
        language=None,
        source_format=campaign.source_format,
        source=campaign_source(campaign),
        author=author,
        now=now,
        restored_from=restored_from,
    )


def record_version_revision(
    session: Session,
    *,
    campaign_id: int,
    language: str,
    source_format: SourceFormat,
    source: str,
    author: str,
    now: datetime,
    restored_from: int | None = None,
) -> CampaignRevision:
    """Keep one translation, ``source`` as a file of it holds it, as the campaign's next
    revision: one sequence for every version, so a number never needs its language."""
    return _store(
        session,
        campaign_id=campaign_id,
        language=language,
        source_format=source_format,
        source=source,
        author=author,
        now=now,
        restored_from=restored_from,
    )


def _store(
    session: Session,
    *,
    campaign_id: int,
    language: str | None,
    source_format: SourceFormat,
    source: str,
    author: str,
    now: datetime,
    restored_from: int | None,
) -> CampaignRevision:
    last = session.scalar(
        select(func.max(CampaignRevision.number)).where(CampaignRevision.campaign_id == campaign_id)
    )
    revision = CampaignRevision(
        campaign_id=campaign_id,
        number=(last or 0) + 1,
        author=author,
        created_at=now,
        source_format=source_format,
        source=source,
        restored_from=restored_from,
        language=language,
    )
    session.add(revision)
    session.flush()
    return revision


def list_revisions(
    session: Session, *, campaign_id: int, language: str | None = None
) -> list[CampaignRevision]:
    """The revisions of one version, oldest first: without ``language`` (or with the
    default's) the default version's, whose revision 1 is the campaign as created.

    A language the campaign has no version in, and never had, is refused rather than
    answered with an empty history; a removed translation's revisions stay listed."""
    stored = _stored_language(session, campaign_id=campaign_id, language=language)
    revisions = list(
        session.scalars(
            select(CampaignRevision)
            .where(CampaignRevision.campaign_id == campaign_id, _of_version(stored))
            .order_by(CampaignRevision.number)
        )
    )
    if stored is not None and not revisions:
        _require_version(session, campaign_id=campaign_id, language=stored)
    return revisions


def _stored_language(session: Session, *, campaign_id: int, language: str | None) -> str | None:
    """How revisions of the version in ``language`` are marked: None for the default."""
    if language is None:
        return None
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return None if language == campaign.language else language


def _require_version(session: Session, *, campaign_id: int, language: str) -> None:
    found = session.scalar(
        select(CampaignVersion.id).where(
            CampaignVersion.campaign_id == campaign_id, CampaignVersion.language == language
        )
    )
    if found is None:
        campaign = session.get(Campaign, campaign_id)
        others = session.scalars(
            select(CampaignVersion.language)
            .where(CampaignVersion.campaign_id == campaign_id)
            .order_by(CampaignVersion.language)
        )
        languages = [campaign.language if campaign is not None else "", *others]
        raise VersionNotFound(campaign_id=campaign_id, language=language, languages=languages)


def _of_version(language: str | None) -> ColumnElement[bool]:
    if language is None:
        return CampaignRevision.language.is_(None)
    return CampaignRevision.language == language


def get_revision(session: Session, *, campaign_id: int, number: int) -> CampaignRevision:
    revision = session.scalar(
        select(CampaignRevision).where(
            CampaignRevision.campaign_id == campaign_id, CampaignRevision.number == number
        )
    )
    if revision is None:
        raise RevisionNotFound(campaign_id=campaign_id, number=number)
    return revision


@dataclass(frozen=True, kw_only=True)
class RevisionDiff:
    campaign_id: int
    old: int
    new: int
    language: str | None  # the translation both are of; None for the default version
    lines: list[str]  # a unified diff, without line ends; empty when they are the same

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")


def compare_revisions(session: Session, *, campaign_id: int, old: int, new: int) -> RevisionDiff:
    """What changed from revision ``old`` to revision ``new``, line by line: two
    revisions of the same version (a translation beside the default version is a
    different text, not a change of it)."""
    before = get_revision(session, campaign_id=campaign_id, number=old)
    after = get_revision(session, campaign_id=campaign_id, number=new)
    if before.language != after.language:
        raise RevisionsOfTwoVersions(
            campaign_id=campaign_id,
            old=old,
            new=new,
            old_language=before.language,
            new_language=after.language,
        )
    lines = difflib.unified_diff(
        before.source.splitlines(),
        after.source.splitlines(),
        fromfile=f"revision {old}",
        tofile=f"revision {new}",
        lineterm="",
    )
    return RevisionDiff(
        campaign_id=campaign_id, old=old, new=new, language=before.language, lines=list(lines)
    )


def latest_revision(session: Session, *, campaign_id: int) -> CampaignRevision | None:
    """The default version's newest revision: when the campaign's own content last
    changed (a translation's save is not a change of what it translates)."""
    return session.scalar(
        select(CampaignRevision)
        .where(CampaignRevision.campaign_id == campaign_id, _of_version(None))
        .order_by(CampaignRevision.number.desc())
        .limit(1)
    )
