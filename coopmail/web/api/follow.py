"""/api/v1/campaigns/{id}: the checklist before sending, the progress while it sends, the
report once sent, and its outbox rows found by address."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from campaigns.checklist import check_campaign
from campaigns.models import DeliveryState
from campaigns.report import campaign_report, find_deliveries, progress_snapshot
from coopmail.delivery import dkim_domain
from coopmail.spamcheck import spam_scorer
from coopmail.web.api.campaigns import CampaignId
from coopmail.web.api.errors import ApiRoute, error_responses
from coopmail.web.api.models import MAX_OFFSET, ChecklistOut, DeliveryRowOut, ProgressOut, ReportOut
from coopmail.web.context import WebContext

StateName = Literal["queued", "sending", "sent", "failed", "skipped"]


def follow_router(context: WebContext) -> APIRouter:
    router = APIRouter(route_class=ApiRoute, tags=["campaigns"])

    @router.get("/campaigns/{campaign_id}/checklist", responses=error_responses(404))
    def get_checklist(campaign_id: CampaignId) -> ChecklistOut:
        """The checklist before sending, computed from the message as it would go out:
        each item ok, warn, fail or skipped, with what was found."""
        key = context.settings.require_secret_key().reveal().encode()
        with context.session(write=False) as session:
            result = check_campaign(
                session,
                composer=context.composer,
                campaign_id=campaign_id,
                base_url=context.settings.base_url,
                key=key,
                now=context.clock(),
                dkim_domain=dkim_domain(context.settings),
                spam_scorer=spam_scorer(),
            )
        return ChecklistOut.model_validate(
            {"id": campaign_id, "items": [item.as_json() for item in result.items]}
        )

    @router.get("/campaigns/{campaign_id}/progress", responses=error_responses(404))
    def get_progress(campaign_id: CampaignId) -> ProgressOut:
        """Where a send stands, read from the database: whichever machines send it."""
        with context.session(write=False) as session:
            snapshot = progress_snapshot(session, campaign_id=campaign_id, now=context.clock())
        return ProgressOut.model_validate(snapshot.as_json())

    @router.get("/campaigns/{campaign_id}/report", responses=error_responses(404))
    def get_report(campaign_id: CampaignId) -> ReportOut:
        """Delivered, failed, bounced, complaints and unsubscribes, in all and per domain."""
        with context.session(write=False) as session:
            return ReportOut.model_validate(
                campaign_report(session, campaign_id=campaign_id).as_json()
            )

    @router.get("/campaigns/{campaign_id}/deliveries", responses=error_responses(404))
    def get_deliveries(
        campaign_id: CampaignId,
        address: Annotated[str, Query(max_length=254)] = "",
        state: StateName | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[DeliveryRowOut]:
        """The outbox rows whose address contains ``address``, in the order queued."""
        with context.session(write=False) as session:
            rows = find_deliveries(
                session,
                campaign_id=campaign_id,
                address=address,
                state=DeliveryState(state) if state else None,
                limit=limit,
                offset=offset,
            )
        return [DeliveryRowOut.model_validate(row.as_json()) for row in rows]

    return router
