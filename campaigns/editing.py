"""Change a draft and delete one.

A campaign can be changed until it is queued (a draft, or a scheduled one, which renders
only when it starts) and deleted while it is a draft; after that it is kept as it was
sent. Every save is a new revision (campaigns/revisions.py; campaigns/restoring.py
brings one back). As when creating, rendering (``prepare_edit``) comes before the write
transaction (``apply_edit``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import HEADER_KEYS, Content, parse_content
from campaigns.drafts import DraftCampaign, get_campaign, prepare_campaign
from campaigns.errors import ContentError, DraftOnly
from campaigns.media.references import ImageContext, keep_images
from campaigns.models import Campaign, CampaignRevision, CampaignStatus, CampaignVersion
from campaigns.revisions import campaign_source, content_text, record_revision
from campaigns.senders import Sender
from subscribers.lists import get_list

EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")


def check_editable(campaign: Campaign) -> None:
    if campaign.status not in EDITABLE:
        raise DraftOnly(campaign_id=campaign.id, status=campaign.status.value, action="change")


def prepare_edit(
    session: Session,
    *,
    composer: Composer,
    campaign: Campaign,
    content: Content,
    senders: Sequence[Sender] = (),
    images: ImageContext | None = None,
) -> DraftCampaign:
    """Check and render the new content of ``campaign``. What its front matter leaves out
    (template, lists, subject, sender) stays as the campaign has it. Its images are
    resolved with ``images`` as when it was created: a change never lets a broken one in."""
    check_editable(campaign)
    header = content.header
    draft = prepare_campaign(
        session,
        composer=composer,
        content=content,
        default_sender=campaign.from_address,
        template=None if header.get("template") else campaign.template,
        list_names=None if header.get("lists") else [ml.name for ml in campaign.lists],
        subject=None if header.get("subject") else campaign.subject,
        senders=senders,
        images=images,
    )
    translated = session.scalar(
        select(CampaignVersion.language).where(
            CampaignVersion.campaign_id == campaign.id,
            CampaignVersion.language == draft.language,
        )
    )
    if translated is not None:
        raise ContentError(
            f"the language {translated} already has its own version; the default version "
            "is written in another language (or remove that version first)",
            source=content.name,
            line=2,
        )
    return draft


@dataclass(frozen=True, kw_only=True)
class SavedEdit:
    """What ``apply_edit`` did. ``stored`` is the revision it kept, or None when the edit
    changed nothing: the shells say "saved as revision 4" or "nothing changed", and audit
    only real changes, without asking the database again."""

    campaign: Campaign
    stored: CampaignRevision | None


def apply_edit(
    session: Session,
    *,
    campaign_id: int,
    draft: DraftCampaign,
    author: str,
    now: datetime,
    restored_from: int | None = None,
) -> SavedEdit:
    """Save a prepared edit and keep it as a new revision; refused if the campaign was
    queued in the meantime. An edit that changes nothing (an autosave of what is already
    saved) leaves the campaign and its revisions as they are."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    check_editable(campaign)
    before = (campaign.source_format, campaign_source(campaign))
    if draft.images is not None:
        keep_images(session, resolved=draft.images, now=now)
    campaign.subject = draft.subject
    campaign.preheader = draft.preheader
    campaign.template = draft.template
    campaign.source_format = draft.content.format
    campaign.source_name = draft.content.name
    campaign.body = draft.content.body
    campaign.meta = draft.content.meta
    campaign.from_address = draft.sender
    campaign.reply_to = draft.reply_to
    campaign.language = draft.language
    campaign.lists = [get_list(session, name=name) for name in draft.list_names]
    if (campaign.source_format, campaign_source(campaign)) == before and restored_from is None:
        session.flush()
        return SavedEdit(campaign=campaign, stored=None)
    campaign.updated_at = now
    session.flush()
    stored = record_revision(
        session, campaign=campaign, author=author, now=now, restored_from=restored_from
    )
    return SavedEdit(campaign=campaign, stored=stored)


def edit_campaign(
    session: Session,
    *,
    composer: Composer,
    campaign_id: int,
    content: Content,
    author: str,
    now: datetime,
    senders: Sequence[Sender] = (),
) -> tuple[SavedEdit, DraftCampaign]:
    """``prepare_edit`` then ``apply_edit`` in one session, for callers whose rendering
    may wait on nobody. Returns what was saved and the draft (with its warnings)."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    draft = prepare_edit(
        session, composer=composer, campaign=campaign, content=content, senders=senders
    )
    return apply_edit(session, campaign_id=campaign_id, draft=draft, author=author, now=now), draft


@dataclass(frozen=True, kw_only=True)
class DraftChanges:
    """Some of a campaign's settings to change, the rest kept: what a form sends.

    ``fields`` are merged into the kind's fields; a field set to None is removed."""

    subject: str | None = None
    preheader: str | None = None
    template: str | None = None
    lists: Sequence[str] | None = None
    sender: str | None = None
    reply_to: str | None = None
    language: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    body: str | None = None


def changed_content(campaign: Campaign, changes: DraftChanges) -> Content:
    """The campaign's content with ``changes`` applied, as if a file said it all."""
    header: dict[str, Any] = {
        "subject": campaign.subject,
        "preheader": campaign.preheader,
        "template": campaign.template,
        "lists": [ml.name for ml in campaign.lists],
        "from": campaign.from_address,
        "reply_to": campaign.reply_to,
        "language": campaign.language,
    }
    given = {
        "subject": changes.subject,
        "preheader": changes.preheader,
        "template": changes.template,
        "lists": list(changes.lists) if changes.lists is not None else None,
        "from": changes.sender,
        "reply_to": changes.reply_to,
        "language": changes.language,
    }
    header.update({key: value for key, value in given.items() if value is not None})
    if header.get("reply_to") == "":
        header["reply_to"] = None
    for name in changes.fields:
        if not _FIELD_NAME.fullmatch(name) or name in HEADER_KEYS:
            raise ContentError(
                f"{name!r} is not a name for a field; fields are named in lower case, "
                "such as place, and are not settings such as subject",
                source=campaign.source_name,
            )
    meta = {**campaign.meta, **changes.fields}
    text = content_text(
        header={k: v for k, v in header.items() if v not in (None, "")},
        meta={k: v for k, v in meta.items() if v is not None},
        body=campaign.body if changes.body is None else changes.body,
    )
    return parse_content(text, name=campaign.source_name, format=campaign.source_format)


def delete_draft(session: Session, *, campaign_id: int) -> None:
    """Delete a draft and its revisions; a campaign past its draft is refused."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    if campaign.status is not CampaignStatus.DRAFT:
        raise DraftOnly(campaign_id=campaign.id, status=campaign.status.value, action="delete")
    session.delete(campaign)
    session.flush()
