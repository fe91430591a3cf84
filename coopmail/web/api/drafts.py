"""/api/v1/campaigns/{id} as a draft: change its content or settings, delete it, read,
compare and restore its revisions; and /api/v1/preview, content rendered before it is saved.

No `from __future__ import annotations` here: FastAPI must see the routes' annotations
evaluated, since they name the caller dependency local to the router factory.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from campaigns.content import parse_content
from campaigns.drafts import DraftCampaign, get_campaign
from campaigns.editing import (
    DraftChanges,
    apply_edit,
    changed_content,
    check_editable,
    delete_draft,
    prepare_edit,
)
from campaigns.live_preview import preview_content
from campaigns.models import CampaignRevision, SourceFormat
from campaigns.restoring import PreparedRestore, apply_restore, prepare_restore
from campaigns.revisions import compare_revisions, get_revision, list_revisions
from coopmail.apikeys import ApiKey
from coopmail.media import image_context
from coopmail.web.api.campaigns import CampaignId, author_of, campaign_detail
from coopmail.web.api.errors import ApiRoute, error_responses
from coopmail.web.api.models import (
    CampaignOut,
    ContentIn,
    DiffOut,
    DraftPatch,
    PreviewIn,
    PreviewOut,
    RevisionOut,
)
from coopmail.web.api.versions import LanguageFilter
from coopmail.web.context import WebContext

MAX_REVISION = 2**31 - 1
RevisionNumber = Annotated[int, Path(ge=1, le=MAX_REVISION, description="1 is the first.")]


def _revision(revision: CampaignRevision, *, with_source: bool = False) -> RevisionOut:
    return RevisionOut(
        number=revision.number,
        author=revision.author,
        created_at=revision.created_at,
        restored_from=revision.restored_from,
        language=revision.language,
        source=revision.source if with_source else None,
    )


def _restored(
    context: WebContext, campaign_id: int, prepared: PreparedRestore, *, author: str
) -> CampaignOut:
    with context.session() as session:
        apply_restore(
            session,
            campaign_id=campaign_id,
            prepared=prepared,
            author=author,
            now=context.clock(),
        )
        detail = campaign_detail(
            session, get_campaign(session, campaign_id=campaign_id), context.composer
        )
    if isinstance(prepared.draft, DraftCampaign):
        detail.warnings = [str(warning) for warning in prepared.draft.warnings]
    return detail


def drafts_router(context: WebContext, caller: Callable[..., ApiKey]) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["campaigns"])
    Caller = Annotated[ApiKey, Depends(caller)]

    def save(campaign_id: int, draft: DraftCampaign, key: ApiKey, **extra: Any) -> CampaignOut:
        with context.session() as session:
            saved = apply_edit(
                session,
                campaign_id=campaign_id,
                draft=draft,
                author=author_of(key),
                now=context.clock(),
                **extra,
            )
            detail = campaign_detail(session, saved.campaign, context.composer)
        detail.warnings = [str(warning) for warning in draft.warnings]
        return detail

    @router.put("/campaigns/{campaign_id}/content", responses=error_responses(404, 409))
    def put_content(campaign_id: CampaignId, body: ContentIn, key: Caller) -> CampaignOut:
        """Replace a draft's content (a scheduled campaign's too), kept as a new revision;
        409 once it was queued. What the front matter leaves out stays as it is."""
        with context.session(write=False) as session:
            campaign = get_campaign(session, campaign_id=campaign_id)
            fmt = SourceFormat(body.format) if body.format else campaign.source_format
            content = parse_content(body.content, name=campaign.source_name, format=fmt)
            draft = prepare_edit(
                session,
                composer=context.composer,
                campaign=campaign,
                content=content,
                senders=context.settings.senders,
                images=image_context(context.settings, folder=None),
            )
        return save(campaign_id, draft, key)

    @router.patch("/campaigns/{campaign_id}", responses=error_responses(404, 409))
    def patch_campaign(campaign_id: CampaignId, body: DraftPatch, key: Caller) -> CampaignOut:
        """Change some settings, fields or the body of a draft, kept as a new revision."""
        changes = DraftChanges(
            subject=body.subject,
            preheader=body.preheader,
            template=body.template,
            lists=body.lists,
            sender=body.from_address,
            reply_to=body.reply_to,
            language=body.language,
            fields=body.fields,
            body=body.body,
        )
        with context.session(write=False) as session:
            campaign = get_campaign(session, campaign_id=campaign_id)
            check_editable(campaign)
            content = changed_content(campaign, changes)
            draft = prepare_edit(
                session,
                composer=context.composer,
                campaign=campaign,
                content=content,
                senders=context.settings.senders,
                images=image_context(context.settings, folder=None),
            )
        return save(campaign_id, draft, key)

    @router.delete("/campaigns/{campaign_id}", status_code=204, responses=error_responses(404, 409))
    def delete_campaign(campaign_id: CampaignId) -> Response:
        """Delete a draft and its revisions; 409 for a campaign past its draft."""
        with context.session() as session:
            delete_draft(session, campaign_id=campaign_id)
        return Response(status_code=204)

    @router.get("/campaigns/{campaign_id}/revisions", responses=error_responses(404))
    def get_revisions(
        campaign_id: CampaignId,
        language: LanguageFilter = None,
    ) -> list[RevisionOut]:
        """Every saved version of one version, oldest first: who saved it, when. The
        numbers are one sequence for all versions; 404 for a language the campaign has
        no version (nor revisions) in."""
        with context.session(write=False) as session:
            get_campaign(session, campaign_id=campaign_id)
            revisions = list_revisions(session, campaign_id=campaign_id, language=language)
            return [_revision(r) for r in revisions]

    @router.get("/campaigns/{campaign_id}/revisions/{number}", responses=error_responses(404))
    def get_one_revision(campaign_id: CampaignId, number: RevisionNumber) -> RevisionOut:
        """One revision with its source."""
        with context.session(write=False) as session:
            revision = get_revision(session, campaign_id=campaign_id, number=number)
            return _revision(revision, with_source=True)

    @router.get("/campaigns/{campaign_id}/diff", responses=error_responses(404, 409))
    def get_diff(
        campaign_id: CampaignId,
        old: Annotated[int, Query(ge=1, le=MAX_REVISION)],
        new: Annotated[int, Query(ge=1, le=MAX_REVISION)],
    ) -> DiffOut:
        """What changed from revision ``old`` to ``new``, two revisions of one version;
        409 `other_version` for revisions of two versions."""
        with context.session(write=False) as session:
            result = compare_revisions(session, campaign_id=campaign_id, old=old, new=new)
        return DiffOut(old=old, new=new, diff=result.text)

    @router.post(
        "/campaigns/{campaign_id}/revisions/{number}/restore",
        responses=error_responses(404, 409),
    )
    def post_restore(campaign_id: CampaignId, number: RevisionNumber, key: Caller) -> CampaignOut:
        """Make an earlier revision the content again, as a new revision of the version
        it is of (the default one, or a translation: only that one changes). 404 for a
        translation's revision once that translation was removed: add it again first."""
        with context.session(write=False) as session:
            prepared = prepare_restore(
                session,
                composer=context.composer,
                campaign_id=campaign_id,
                number=number,
                senders=context.settings.senders,
            )
        return _restored(context, campaign_id, prepared, author=author_of(key))

    @router.post("/preview", responses=error_responses(404))
    def post_preview(body: PreviewIn) -> PreviewOut:
        """Render content that is not saved, through the composer of the send, for a
        subscriber of the lists or a sample reader; mistakes are a 422 with the line."""
        key = context.settings.require_secret_key().reveal().encode()
        with context.session(write=False) as session:
            result = preview_content(
                session,
                composer=context.composer,
                text=body.content,
                format=SourceFormat(body.format),
                template=body.template,
                language=body.language,
                list_names=list(dict.fromkeys(body.lists)),
                to=body.to,
                base_url=context.settings.base_url,
                key=key,
                today=context.clock().date(),
            )
        return PreviewOut(
            subject=result.subject,
            html=result.html,
            text=result.text,
            recipient=result.recipient.email,
            warnings=[str(warning) for warning in result.warnings],
        )

    return router
