"""Bring back an earlier revision of whichever version it is of: the default version's
through ``prepare_edit``/``apply_edit``, a translation's through ``prepare_version_edit``/
``apply_version_edit``. Either way the revision is checked and rendered again (a
template or a list may have changed since) and saved as the newest revision of its
version, saying which one it restored: the revisions in between are kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.drafts import DraftCampaign, get_campaign
from campaigns.editing import apply_edit, prepare_edit
from campaigns.models import CampaignRevision
from campaigns.revisions import get_revision
from campaigns.senders import Sender
from campaigns.versions import DraftVersion, apply_version_edit, prepare_version_edit


@dataclass(frozen=True, kw_only=True)
class PreparedRestore:
    """A revision checked and rendered again, to be saved by ``apply_restore``."""

    number: int
    draft: DraftCampaign | DraftVersion  # the default version's, or a translation's

    @property
    def language(self) -> str | None:
        """The translation restored; None for the default version."""
        return self.draft.language if isinstance(self.draft, DraftVersion) else None


def prepare_restore(
    session: Session,
    *,
    composer: Composer,
    campaign_id: int,
    number: int,
    senders: Sequence[Sender] = (),
) -> PreparedRestore:
    """Revision ``number`` of the campaign, checked and rendered again to be saved. A
    translation's revision needs that translation: once removed, it is added again first."""
    campaign = get_campaign(session, campaign_id=campaign_id)
    revision = get_revision(session, campaign_id=campaign_id, number=number)
    content = parse_content(
        revision.source, name=campaign.source_name, format=revision.source_format
    )
    draft: DraftCampaign | DraftVersion
    if revision.language is None:
        draft = prepare_edit(
            session, composer=composer, campaign=campaign, content=content, senders=senders
        )
    else:
        draft = prepare_version_edit(
            session,
            composer=composer,
            campaign=campaign,
            content=content,
            language=revision.language,
        )
    return PreparedRestore(number=number, draft=draft)


def apply_restore(
    session: Session,
    *,
    campaign_id: int,
    prepared: PreparedRestore,
    author: str,
    now: datetime,
) -> CampaignRevision:
    """Save a prepared restore as the newest revision of its version; refused as any
    save is once the campaign was queued."""
    if isinstance(prepared.draft, DraftVersion):
        stored = apply_version_edit(
            session,
            campaign_id=campaign_id,
            version=prepared.draft,
            author=author,
            now=now,
            restored_from=prepared.number,
        )
    else:
        stored = apply_edit(
            session,
            campaign_id=campaign_id,
            draft=prepared.draft,
            author=author,
            now=now,
            restored_from=prepared.number,
        ).stored
    assert stored is not None, "a restore always stores a revision"
    return stored


def restore_revision(
    session: Session,
    *,
    composer: Composer,
    campaign_id: int,
    number: int,
    author: str,
    now: datetime,
    senders: Sequence[Sender] = (),
) -> CampaignRevision:
    """``prepare_restore`` then ``apply_restore`` in one session, for callers whose
    rendering may wait on nobody."""
    prepared = prepare_restore(
        session, composer=composer, campaign_id=campaign_id, number=number, senders=senders
    )
    return apply_restore(
        session, campaign_id=campaign_id, prepared=prepared, author=author, now=now
    )
