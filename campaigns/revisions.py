"""Every saved version of a campaign: the source as a file would hold it, who, when.

A revision keeps the whole source (front matter and body) rather than a difference, so
any one can be read or restored alone, and two are compared by diffing their texts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.errors import RevisionNotFound
from campaigns.models import Campaign, CampaignRevision


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
    """Keep the campaign as it now stands as its next revision."""
    last = session.scalar(
        select(func.max(CampaignRevision.number)).where(CampaignRevision.campaign_id == campaign.id)
    )
    revision = CampaignRevision(
        campaign_id=campaign.id,
        number=(last or 0) + 1,
        author=author,
        created_at=now,
        source_format=campaign.source_format,
        source=campaign_source(campaign),
        restored_from=restored_from,
    )
    session.add(revision)
    session.flush()
    return revision


def list_revisions(session: Session, *, campaign_id: int) -> list[CampaignRevision]:
    """Oldest first: revision 1 is the campaign as created."""
    return list(
        session.scalars(
            select(CampaignRevision)
            .where(CampaignRevision.campaign_id == campaign_id)
            .order_by(CampaignRevision.number)
        )
    )


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
    lines: list[str]  # a unified diff, without line ends; empty when they are the same

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")


def compare_revisions(session: Session, *, campaign_id: int, old: int, new: int) -> RevisionDiff:
    """What changed from revision ``old`` to revision ``new``, line by line."""
    before = get_revision(session, campaign_id=campaign_id, number=old)
    after = get_revision(session, campaign_id=campaign_id, number=new)
    lines = difflib.unified_diff(
        before.source.splitlines(),
        after.source.splitlines(),
        fromfile=f"revision {old}",
        tofile=f"revision {new}",
        lineterm="",
    )
    return RevisionDiff(campaign_id=campaign_id, old=old, new=new, lines=list(lines))


def latest_revision(session: Session, *, campaign_id: int) -> CampaignRevision | None:
    """The newest revision: when the campaign's own (default) version last changed."""
    return session.scalar(
        select(CampaignRevision)
        .where(CampaignRevision.campaign_id == campaign_id)
        .order_by(CampaignRevision.number.desc())
        .limit(1)
    )
