"""/api/v1/campaigns: create drafts from content, follow them, schedule and unschedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.content import parse_content
from campaigns.drafts import create_campaign, get_campaign, list_campaigns
from campaigns.models import Campaign, SourceFormat
from campaigns.outbox import delivery_counts
from campaigns.schedule import schedule_campaign, unschedule_campaign
from coopmail.web.api_errors import ApiRoute, error_responses
from coopmail.web.api_models import (
    MAX_ID,
    MAX_OFFSET,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignSummary,
    DeliveryCounts,
    ScheduleIn,
)
from coopmail.web.context import WebContext

CampaignId = Annotated[int, Path(ge=1, le=MAX_ID, description="The campaign's id.")]
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


def _detail(session: Session, campaign: Campaign) -> CampaignOut:
    counts = delivery_counts(session, campaign_id=campaign.id)
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
    )


def campaigns_router(context: WebContext) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["campaigns"])

    @router.post("/campaigns", status_code=201, responses=error_responses(404))
    def post_campaign(body: CampaignIn, response: Response) -> CampaignOut:
        """Create a draft from content with a front-matter header, exactly like
        `coopmail campaigns create`; template errors come back now as a 422 with the line."""
        suffix = _SUFFIX[body.format]
        file_name = body.name if body.name.lower().endswith(suffix) else body.name + suffix
        content = parse_content(body.content, name=file_name, format=SourceFormat(body.format))
        with context.session() as session:
            campaign = create_campaign(
                session,
                composer=context.composer,
                content=content,
                default_sender=context.settings.from_address,
                template=body.template,
                list_names=list(dict.fromkeys(body.lists)) if body.lists else None,
                subject=body.subject,
            )
            detail = _detail(session, campaign)
        response.headers["Location"] = f"/api/v1/campaigns/{detail.id}"
        return detail

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
            return _detail(session, get_campaign(session, campaign_id=campaign_id))

    @router.post("/campaigns/{campaign_id}/schedule", responses=error_responses(404, 409))
    def post_schedule(campaign_id: CampaignId, body: ScheduleIn) -> CampaignOut:
        """Send a draft (or move a scheduled campaign) at a future time;
        `coopmail serve` starts it then. 409 if it is already sending or the time has passed."""
        with context.session() as session:
            campaign = get_campaign(session, campaign_id=campaign_id)
            schedule_campaign(session, campaign=campaign, at=body.at, now=datetime.now(UTC))
            return _detail(session, campaign)

    @router.delete("/campaigns/{campaign_id}/schedule", responses=error_responses(404, 409))
    def delete_schedule(campaign_id: CampaignId) -> CampaignOut:
        """Take a scheduled campaign back to draft; 409 if it is not scheduled."""
        with context.session() as session:
            campaign = get_campaign(session, campaign_id=campaign_id)
            unschedule_campaign(session, campaign=campaign)
            return _detail(session, campaign)

    return router
