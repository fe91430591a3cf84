"""Schedule a campaign for later, and what happens when its time comes or is missed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.models import Campaign, CampaignStatus
from campaigns.outbox import CampaignStateError, queue_campaign

_SAME_TIME = timedelta(seconds=1)


def schedule_campaign(session: Session, *, campaign: Campaign, at: datetime, now: datetime) -> None:
    """Set (or move) the start time of a draft or scheduled campaign."""
    if at.tzinfo is None:
        raise ValueError("a schedule needs a time zone")
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise CampaignStateError(
            f"campaign {campaign.id} is {campaign.status.value}; only a draft or scheduled "
            "campaign can be scheduled"
        )
    if at <= now:
        raise CampaignStateError(
            "that time has passed; give a time in the future, or send now with "
            f"`coopmail campaigns send {campaign.id}`"
        )
    campaign.scheduled_at = at
    campaign.status = CampaignStatus.SCHEDULED
    campaign.status_reason = ""
    session.flush()


def unschedule_campaign(session: Session, *, campaign: Campaign) -> None:
    if campaign.status is not CampaignStatus.SCHEDULED:
        raise CampaignStateError(
            f"campaign {campaign.id} is {campaign.status.value}, not scheduled"
        )
    campaign.scheduled_at = None
    campaign.status = CampaignStatus.DRAFT
    session.flush()


def scheduled_campaigns(session: Session) -> dict[int, datetime]:
    """Every campaign waiting for its time: what the scheduler mirrors into its jobs."""
    rows = session.execute(
        select(Campaign.id, Campaign.scheduled_at).where(
            Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at.is_not(None)
        )
    ).all()
    return {campaign_id: at for campaign_id, at in rows if at is not None}


def start_scheduled(
    session: Session,
    *,
    campaign_id: int,
    scheduled_for: datetime,
    composer: Composer,
    now: datetime,
) -> int | None:
    """Queue a campaign whose time has come; None if it was moved or unscheduled meanwhile."""
    campaign = session.get(Campaign, campaign_id)
    if not _still_due(campaign, scheduled_for):
        return None
    assert campaign is not None
    return queue_campaign(session, campaign=campaign, composer=composer, now=now)


def mark_missed(
    session: Session,
    *,
    campaign_id: int,
    scheduled_for: datetime,
    now: datetime,
    local: str,
) -> bool:
    """A campaign whose time passed beyond the grace period while nothing could send it:
    it goes back to draft, saying so, and waits for a person to send or re-schedule it."""
    campaign = session.get(Campaign, campaign_id)
    if not _still_due(campaign, scheduled_for):
        return False
    assert campaign is not None
    late = now - scheduled_for
    campaign.status = CampaignStatus.DRAFT
    campaign.scheduled_at = None
    campaign.status_reason = (
        f"missed: it was scheduled for {local} and the scheduler was not running until "
        f"{_hours(late)} later; send it now with `coopmail campaigns send {campaign_id}` or "
        f"give it a new time with `coopmail campaigns schedule {campaign_id} --at ...`"
    )
    session.flush()
    return True


def _still_due(campaign: Campaign | None, scheduled_for: datetime) -> bool:
    return (
        campaign is not None
        and campaign.status is CampaignStatus.SCHEDULED
        and campaign.scheduled_at is not None
        and abs(campaign.scheduled_at - scheduled_for) < _SAME_TIME
    )


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
