"""A send as it goes: sent, failed, skipped, queued, the rate, the time left and the
latest problems, with pause, resume and cancel.

Everything is read from the database, the outbox being the truth of a send, so the page
follows workers on any machine. The page works alone (it reloads itself every few seconds
without script); with the admin's script it listens to ``/events``, a stream of
server-sent events, one snapshot each second until the send ends.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response, StreamingResponse

from campaigns.drafts import get_campaign
from campaigns.errors import CampaignNotFound, CampaignStateError
from campaigns.models import CampaignStatus
from campaigns.outbox import cancel_campaign, pause_campaign, resume_campaign
from campaigns.report import progress_snapshot
from coopmail.web.admin.access import Visit
from coopmail.web.admin.send_pages import SendPages
from coopmail.web.admin.site import AdminSite

TICK_SECONDS = 1.0
STREAM_SECONDS = 300  # then the browser's EventSource reconnects by itself
PAUSED_BY_STAFF = "paused by staff"
_LIVE = (CampaignStatus.SENDING, CampaignStatus.PAUSED)


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Where a send stands, as the page and its stream show it."""

    status: str
    reason: str
    sent: int
    failed: int
    skipped: int
    queued: int  # waiting or in a worker's hands
    total: int
    done: int
    per_minute: int
    minutes_left: int | None
    problems: list[dict[str, Any]]
    # Sent at an hour in each partner's time zone: that hour, and the zones still waiting
    # for it, each with its time in the unit's zone and how many people are in it.
    local_send_time: str | None = None
    zones_pending: list[dict[str, Any]] = field(default_factory=list)
    zone_fallbacks: int = 0

    @property
    def live(self) -> bool:
        return self.status in {status.value for status in _LIVE}


def snapshot(session: Session, *, campaign_id: int, now: datetime, zone: tzinfo) -> Snapshot:
    """The send as ``campaigns.report.progress_snapshot`` reads it, in the page's units
    (times in the unit's ``zone``)."""
    found = progress_snapshot(session, campaign_id=campaign_id, now=now)
    left = None
    if found.seconds_left is not None and found.status == CampaignStatus.SENDING.value:
        left = max(1, math.ceil(found.seconds_left / 60))
    return Snapshot(
        status=found.status,
        reason=found.status_reason,
        sent=found.sent,
        failed=found.failed,
        skipped=found.skipped,
        queued=found.queued + found.sending,
        total=found.total,
        done=found.done,
        per_minute=round(found.rate_per_second * 60),
        minutes_left=left,
        problems=found.problems,
        local_send_time=found.local_send_time.replace("T", " ") if found.local_send_time else None,
        zones_pending=[
            {
                "zone": pending.zone,
                "release": f"{pending.release_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
                "recipients": pending.recipients,
            }
            for pending in found.zones_pending
        ],
        zone_fallbacks=found.zone_fallbacks,
    )


class ProgressPage:
    def __init__(self, site: AdminSite, sending: SendPages) -> None:
        self.site = site
        self.sending = sending

    def progress_page(self, visit: Visit) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        with self.site.context.session(write=False) as session:
            try:
                now = visit.now
                progress = snapshot(session, campaign_id=found, now=now, zone=self.site.pages.zone)
                subject = get_campaign(session, campaign_id=found).subject
            except CampaignNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
        return self.site.render(
            visit,
            "campaign-progress.html",
            campaign={"id": found, "subject": subject},
            progress=progress,
        )

    def events(self, visit: Visit) -> Response:
        """The snapshots as server-sent events, each second while the send goes on."""
        found = self.site.path_id(visit, "campaign_id")
        with self.site.context.session(write=False) as session:
            try:
                get_campaign(session, campaign_id=found)
            except CampaignNotFound:
                return self.site.pages.problem(visit, status=404, problem="not_found")
        return StreamingResponse(
            self._stream(found),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def _stream(self, found: int) -> Iterator[str]:
        pause = threading.Event()  # never set: its wait is the tick between snapshots
        for _ in range(int(STREAM_SECONDS / TICK_SECONDS)):
            with self.site.context.session(write=False) as session:
                progress = snapshot(
                    session,
                    campaign_id=found,
                    now=self.site.context.clock(),
                    zone=self.site.pages.zone,
                )
            yield f"event: progress\ndata: {json.dumps(asdict(progress))}\n\n"
            if not progress.live:
                yield "event: end\ndata: {}\n\n"
                return
            pause.wait(TICK_SECONDS)

    def pause(self, visit: Visit) -> Response:
        return self._change(visit, "paused")

    def resume(self, visit: Visit) -> Response:
        return self._change(visit, "resumed")

    def cancel(self, visit: Visit) -> Response:
        return self._change(visit, "cancelled")

    def _change(self, visit: Visit, done: str) -> Response:
        found = self.site.path_id(visit, "campaign_id")
        details: dict[str, Any] = {}
        try:
            with self.site.context.session() as session:
                campaign = get_campaign(session, campaign_id=found)
                if done == "paused":
                    pause_campaign(session, campaign=campaign, reason=PAUSED_BY_STAFF)
                elif done == "resumed":
                    resume_campaign(session, campaign=campaign)
                else:
                    details["skipped"] = cancel_campaign(session, campaign=campaign, now=visit.now)
                self.site.record(
                    session,
                    visit,
                    f"campaign.{done}",
                    target_type="campaign",
                    target_id=found,
                    details=details or None,
                )
        except CampaignNotFound:
            return self.site.pages.problem(visit, status=404, problem="not_found")
        except CampaignStateError as error:
            return self.sending.state_problem(visit, error)
        return self.site.redirect(f"/admin/campaigns/{found}/progress", done=done)
