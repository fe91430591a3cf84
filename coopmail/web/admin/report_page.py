"""A campaign's report once it has gone out: delivered, failed, skipped, bounces (hard and
soft), complaints and unsubscribes, in total and per recipient domain, and its outbox rows
found by address (``campaigns.report``)."""

from __future__ import annotations

from starlette.responses import Response

from campaigns.drafts import get_campaign
from campaigns.errors import CampaignNotFound
from campaigns.report import campaign_report, find_deliveries
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite

ROWS = 50


class ReportPage:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def report_page(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        address = visit.query("address", 320).strip()
        with self.site.context.session(write=False) as session:
            try:
                subject = get_campaign(session, campaign_id=found).subject
            except CampaignNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            report = campaign_report(session, campaign_id=found)
            rows = find_deliveries(session, campaign_id=found, address=address, limit=ROWS)
        return self.site.render(
            visit,
            "campaign-report.html",
            campaign={"id": found, "subject": subject},
            report=report,
            rows=rows,
            address=address,
        )
