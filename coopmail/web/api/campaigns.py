"""/api/v1/campaigns: create drafts from content, follow them, schedule and unschedule.

No `from __future__ import annotations` here: FastAPI must see the routes' annotations
evaluated, since they name the caller dependency local to the router factory.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.archive import set_archived
from campaigns.compose import Composer
from campaigns.content import Content, parse_content
from campaigns.drafts import get_campaign, list_campaigns
from campaigns.editions import version_counts
from campaigns.kinds import KINDS
from campaigns.models import Campaign, SourceFormat
from campaigns.outbox import delivery_counts
from campaigns.schedule import (
    schedule_at_local_time,
    schedule_campaign,
    send_time,
    unschedule_campaign,
)
from campaigns.versions import campaign_versions, prepare_in_languages, store_in_languages
from campaigns.zones import pending_zones
from coopmail.apikeys import ApiKey
from coopmail.ids import ID_MAX
from coopmail.media import image_context
from coopmail.web.api.errors import ApiRoute, error_responses
from coopmail.web.api.models import (
    MAX_OFFSET,
    ArchiveIn,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignSummary,
    DeliveryCounts,
    KindOut,
    ScheduleIn,
    SenderOut,
    VersionOut,
    ZonePendingOut,
)
from coopmail.web.context import WebContext

CampaignId = Annotated[int, Path(ge=1, le=ID_MAX, description="The campaign's id.")]
_SUFFIX = {"markdown": ".md", "html": ".html"}


def _summary(campaign: Campaign) -> CampaignSummary:
    return CampaignSummary(
        id=campaign.id,
        subject=campaign.subject,
        template=campaign.template,
        lists=sorted(mailing_list.name for mailing_list in campaign.lists),
        status=campaign.status.value,
        scheduled_at=campaign.scheduled_at,
        created_at=campaign.created_at,
    )


def campaign_detail(session: Session, campaign: Campaign, composer: Composer) -> CampaignOut:
    counts = delivery_counts(session, campaign_id=campaign.id)
    recipients = version_counts(session, composer=composer, campaign=campaign)
    return CampaignOut(
        **_summary(campaign).model_dump(),
        preheader=campaign.preheader,
        from_address=campaign.from_address,
        reply_to=campaign.reply_to,
        language=campaign.language,
        source=campaign.source_name,
        status_reason=campaign.status_reason or None,
        updated_at=campaign.updated_at,
        counts=DeliveryCounts(**counts, total=sum(counts.values())),
        archived=campaign.archived,
        versions=[
            VersionOut(
                language=version.language,
                default=version.language == campaign.language,
                subject=version.subject,
                preheader=version.preheader,
                source=version.content.name,
                recipients=recipients.get(version.language, 0),
            )
            for version in campaign_versions(session, campaign=campaign)
        ],
        local_send_time=campaign.local_send_time,
        zones_pending=[
            ZonePendingOut(**zone.as_json())
            for zone in pending_zones(session, campaign_id=campaign.id, now=datetime.now(UTC))
        ]
        if campaign.local_send_time is not None
        else [],
        zone_fallbacks=campaign.zone_fallbacks,
    )


def _parse(text: str, *, name: str, fmt: str) -> Content:
    suffix = _SUFFIX[fmt]
    file_name = name if name.lower().endswith(suffix) else name + suffix
    return parse_content(text, name=file_name, format=SourceFormat(fmt))


def author_of(key: ApiKey) -> str:
    return f"API key {key.name}"


def campaigns_router(context: WebContext, caller: Callable[..., ApiKey]) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["campaigns"])
    Caller = Annotated[ApiKey, Depends(caller)]

    @router.post("/campaigns", status_code=201, responses=error_responses(404))
    def post_campaign(body: CampaignIn, response: Response, key: Caller) -> CampaignOut:
        """Create a draft from content with a front-matter header, exactly like
        `coopmail campaigns create`; template errors come back now as a 422 with the line."""
        contents = [_parse(body.content, name=body.name, fmt=body.format)] + [
            _parse(version.content, name=version.name, fmt=version.format)
            for version in body.versions
        ]
        with context.session(write=False) as session:  # render without the write lock
            prepared = prepare_in_languages(
                session,
                composer=context.composer,
                contents=contents,
                default_sender=context.settings.from_address,
                template=body.template,
                list_names=list(dict.fromkeys(body.lists)) if body.lists else None,
                subject=body.subject,
                images=[image_context(context.settings, folder=None)] * len(contents),
                senders=context.settings.senders,
            )
        with context.session() as session:
            campaign = store_in_languages(session, prepared=prepared, author=author_of(key))
            detail = campaign_detail(session, campaign, context.composer)
        detail.warnings = [str(warning) for warning in prepared.draft.warnings]
        response.headers["Location"] = f"/api/v1/campaigns/{detail.id}"
        return detail

    @router.get("/senders", responses=error_responses())
    def get_senders() -> list[SenderOut]:
        """The senders a campaign may use, the default first; its `from` picks one."""
        return [
            SenderOut(from_address=sender.from_address, reply_to=sender.reply_to)
            for sender in context.settings.sender_choices()
        ]

    @router.get("/kinds", responses=error_responses())
    def get_kinds() -> list[KindOut]:
        """The kinds of campaign and each one's fields, to build a form from; every
        field is optional, with the default it says."""
        return [KindOut.model_validate(kind.as_json()) for kind in KINDS.values()]

    @router.get("/campaigns", responses=error_responses())
    def get_campaigns(
        request: Request,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> CampaignPage:
        """Campaigns, newest first, a page at a time (follow `next`)."""
        with context.session(write=False) as session:
            total = session.scalar(select(func.count()).select_from(Campaign)) or 0
            items = [
                _summary(campaign)
                for campaign in list_campaigns(session, limit=limit, offset=offset)
            ]
        following = offset + len(items)
        next_url = None
        if following < total:
            next_url = f"{request.url.path}?limit={limit}&offset={following}"
        return CampaignPage(items=items, total=total, limit=limit, offset=offset, next=next_url)

    @router.get("/campaigns/{campaign_id}", responses=error_responses(404))
    def get_one(campaign_id: CampaignId) -> CampaignOut:
        """One campaign, with its messages counted by delivery state."""
        with context.session(write=False) as session:
            return campaign_detail(
                session, get_campaign(session, campaign_id=campaign_id), context.composer
            )

    @router.post("/campaigns/{campaign_id}/schedule", responses=error_responses(404, 409))
    def post_schedule(campaign_id: CampaignId, body: ScheduleIn) -> CampaignOut:
        """Send a draft (or move a scheduled campaign) at a future time, or at an hour in
        each partner's time zone; `coopmail serve` starts it then. 409 if it is already
        sending or the time has passed (in any of the partners' zones)."""
        with context.session() as session:
            campaign = get_campaign(session, campaign_id=campaign_id)
            if body.each_local_time:  # the hour on each partner's clock
                schedule_at_local_time(
                    session,
                    campaign=campaign,
                    wall=body.at,
                    unit_zone=context.settings.timezone,
                    now=datetime.now(UTC),
                )
            else:
                at = send_time(body.at, zone=context.settings.timezone)
                schedule_campaign(session, campaign=campaign, at=at, now=datetime.now(UTC))
            return campaign_detail(session, campaign, context.composer)

    @router.delete("/campaigns/{campaign_id}/schedule", responses=error_responses(404, 409))
    def delete_schedule(campaign_id: CampaignId) -> CampaignOut:
        """Take a scheduled campaign back to draft; 409 if it is not scheduled."""
        with context.session() as session:
            campaign = get_campaign(session, campaign_id=campaign_id)
            unschedule_campaign(session, campaign=campaign)
            return campaign_detail(session, campaign, context.composer)

    @router.put("/campaigns/{campaign_id}/archived", responses=error_responses(404))
    def put_archived(campaign_id: CampaignId, body: ArchiveIn) -> CampaignOut:
        """Show the campaign on the public archive (once sent to a public list), or take
        it off, as `coopmail campaigns archive` does."""
        with context.session() as session:
            campaign = set_archived(session, campaign_id=campaign_id, archived=body.archived)
            return campaign_detail(session, campaign, context.composer)

    return router
