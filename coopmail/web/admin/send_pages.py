"""Test, schedule and send a campaign from its page.

A test goes to a few staff addresses at once, marked ``[Test]`` (``campaigns.trial``).
Sending to the lists needs the SEND permission (the admin role): on a schedule, in the
unit's time zone or at an hour in each partner's (``campaigns.zones``), or now, after a
page that says how many people will get it. Sending now only queues the campaign; the
workers (``coopmail serve``'s own, or ``coopmail worker`` on any machine) deliver it, and
the progress page follows them through the database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.responses import Response

from campaigns.drafts import get_campaign
from campaigns.errors import (
    CampaignNotFound,
    CampaignStateError,
    ContentError,
    ScheduleInPast,
    ZonesPassed,
)
from campaigns.models import CampaignStatus
from campaigns.outbox import queue_campaign, render_for_sending
from campaigns.schedule import schedule_at_local_time, schedule_campaign, unschedule_campaign
from campaigns.trial import send_trial
from coopmail.delivery import sending_identity, smtp_settings
from coopmail.errors import ConfigError
from coopmail.web.admin import words
from coopmail.web.admin.access import Visit
from coopmail.web.admin.campaign_form import ContentProblem
from coopmail.web.admin.campaign_pages import CampaignPages
from coopmail.web.admin.site import AdminSite
from subscribers.addresses import normalise_address
from subscribers.errors import InvalidAddress
from subscribers.lists import summarise_lists

TEST_ADDRESSES_MAX = 10
_SEPARATORS = re.compile(r"[\s,;]+")


class SendPages:
    def __init__(self, site: AdminSite, campaigns: CampaignPages) -> None:
        self.site = site
        self.campaigns = campaigns

    # --- a test -------------------------------------------------------------------------

    def test_send(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        typed = visit.field("to", 2000)
        say = self.site.pages.say
        addresses = _addresses(typed)
        mistake = None
        if not addresses or len(addresses) > TEST_ADDRESSES_MAX:
            mistake = say(visit, words.TEST_ADDRESSES, maximum=TEST_ADDRESSES_MAX)
        else:
            try:
                identity = sending_identity(self.site.settings)
                smtp = smtp_settings(self.site.settings)
            except ConfigError:
                mistake = say(visit, words.NO_RELAY)
        if mistake is not None:
            return self.campaigns.show(
                visit, status=400, errors={"to": mistake}, values={"to": typed}
            )
        refused: list[str] = []
        try:
            with self.site.context.session() as session:
                campaign = get_campaign(session, campaign_id=found)
                for address in addresses:
                    result = send_trial(
                        session,
                        composer=self.site.context.composer,
                        campaign=campaign,
                        to=address,
                        identity=identity,
                        smtp=smtp,
                        now=visit.now,
                    )
                    if result.outcome.value != "sent":
                        refused.append(f"{address}: {result.code or ''} {result.reply}".strip())
                self.site.record(
                    session,
                    visit,
                    "campaign.tested",
                    target_type="campaign",
                    target_id=found,
                    details={"addresses": len(addresses), "refused": len(refused)},
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except ContentError as error:
            message = ContentProblem.of(error).message
            return self.campaigns.show(visit, status=400, errors={"to": message})
        if refused:
            message = say(visit, words.TEST_REFUSED, replies="; ".join(refused))
            return self.campaigns.show(
                visit, status=502, errors={"to": message}, values={"to": typed}
            )
        return self.site.redirect(f"/admin/campaigns/{found}", done="test_sent")

    # --- on a schedule ------------------------------------------------------------------

    def schedule(self, visit: Visit) -> Response:
        """On a date and time in the unit's zone, or at that hour in each partner's zone."""
        found = self.site.path_id(visit, "campaign_id")
        typed = visit.field("at", 40).strip()
        each_zone = visit.field("when", 10) == "each"
        say = self.site.pages.say
        error = None
        try:
            moment = datetime.fromisoformat(typed)
        except ValueError:
            error = say(visit, words.SCHEDULE_TIME, zone=self.site.pages.timezone)
        else:
            try:
                self._schedule(visit, found, moment, each_zone=each_zone)
            except CampaignNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            except ScheduleInPast:
                error = say(visit, words.SCHEDULE_PAST)
            except ZonesPassed as passed:
                error = say(visit, words.SCHEDULE_ZONES_PASSED, zones=", ".join(passed.zones))
            except CampaignStateError as problem:
                return self.state_problem(visit, problem)
        if error is not None:
            values = {"at": typed, "when": "each" if each_zone else "unit"}
            return self.campaigns.show(visit, status=400, errors={"at": error}, values=values)
        return self.site.redirect(f"/admin/campaigns/{found}", done="scheduled")

    def _schedule(self, visit: Visit, found: int, moment: datetime, *, each_zone: bool) -> None:
        with self.site.context.session() as session:
            campaign = get_campaign(session, campaign_id=found)
            details: dict[str, object]
            if each_zone:  # an hour on the clock, wherever one is
                schedule_at_local_time(
                    session,
                    campaign=campaign,
                    wall=moment.replace(tzinfo=None),
                    unit_zone=self.site.pages.timezone,
                    now=visit.now,
                )
                details = {"local_time": campaign.local_send_time, "each_local_time": True}
            else:
                if moment.tzinfo is None:  # what staff type is the unit's time
                    moment = moment.replace(tzinfo=self.site.pages.zone)
                at = moment.astimezone(UTC)
                schedule_campaign(session, campaign=campaign, at=at, now=visit.now)
                details = {"at": at.isoformat()}
            self.site.record(
                session,
                visit,
                "campaign.scheduled",
                target_type="campaign",
                target_id=found,
                details=details,
            )

    def unschedule(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        try:
            with self.site.context.session() as session:
                campaign = get_campaign(session, campaign_id=found)
                unschedule_campaign(session, campaign=campaign)
                self.site.record(
                    session, visit, "campaign.unscheduled", target_type="campaign", target_id=found
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except CampaignStateError as error:
            return self.state_problem(visit, error)
        return self.site.redirect(f"/admin/campaigns/{found}", done="unscheduled")

    # --- now ----------------------------------------------------------------------------

    def confirm_page(self, visit: Visit) -> Response:
        """Before sending: to whom, how many; the button that sends."""
        found = self.site.path_id(visit, "campaign_id")
        with self.site.context.session(write=False) as session:
            try:
                campaign = get_campaign(session, campaign_id=found)
            except CampaignNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
            names = {ml.name for ml in campaign.lists}
            lists = [summary for summary in summarise_lists(session) if summary.name in names]
            sendable = campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
            facts = {
                "id": campaign.id,
                "subject": campaign.subject,
                "status": campaign.status.value,
                "sendable": sendable,
            }
        return self.site.render(
            visit,
            "campaign-send.html",
            campaign=facts,
            lists=lists,
            confirmed=sum(summary.confirmed for summary in lists),
            checklist=self.campaigns.checklists.checklist(visit, found) if sendable else None,
        )

    def send_now(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        if visit.field("confirm") != "yes":
            return self.site.redirect(f"/admin/campaigns/{found}/send")
        try:
            rendering = None
            with self.site.context.session(write=False) as session:  # render without the lock
                campaign = get_campaign(session, campaign_id=found)
                if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
                    rendering = render_for_sending(self.site.context.composer, campaign)
            with self.site.context.session() as session:
                campaign = get_campaign(session, campaign_id=found)
                queued = queue_campaign(
                    session,
                    campaign=campaign,
                    composer=self.site.context.composer,
                    now=visit.now,
                    rendering=rendering,
                )
                self.site.record(
                    session,
                    visit,
                    "campaign.sent",
                    target_type="campaign",
                    target_id=found,
                    details={"recipients": queued},
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except CampaignStateError as error:
            return self.state_problem(visit, error)
        except ContentError as error:
            problem = ContentProblem.of(error)
            return self.campaigns.show(visit, status=400, errors={"send": problem.message})
        return self.site.redirect(f"/admin/campaigns/{found}/progress", done="queued")

    def state_problem(self, visit: Visit, error: CampaignStateError) -> Response:
        """The campaign has moved on (sent, cancelled, sending) since the page was shown."""
        status = words.CAMPAIGN_STATUSES.get(error.status, error.status)
        message = self.site.pages.say(
            visit, words.CAMPAIGN_STATE, status=self.site.pages.say(visit, status)
        )
        return self.campaigns.show(visit, status=409, errors={"state": message})


def _addresses(typed: str) -> list[str]:
    """The addresses typed for a test, each once; none when one of them is not valid."""
    try:
        return list(dict.fromkeys(normalise_address(a) for a in _SEPARATORS.split(typed) if a))
    except InvalidAddress:
        return []
