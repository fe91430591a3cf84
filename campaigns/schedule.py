"""Schedule a campaign for later, and what happens when its time comes or is missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.errors import CampaignStateError, InvalidSendTime, ScheduleInPast, ZonesPassed
from campaigns.models import Campaign, CampaignStatus
from campaigns.outbox import Rendering, queue_campaign, render_for_sending
from campaigns.zones import LocalTime, ZoneCensus, wall_clock_in, zone_census

_SAME_TIME = timedelta(seconds=1)


def send_time(moment: datetime, *, zone: str) -> datetime:
    """``moment`` in UTC; a time without an offset is read in the unit's time zone
    ``zone``, as staff mean it: the one rule of the command line, the API and the admin.

    A local time that a clock change skips or repeats is taken as the clock reads before
    the change (``fold=0``)."""
    if moment.tzinfo is None:
        return wall_clock_in(moment, zone=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidSendTime(text=moment.isoformat(), reason="out of range") from None


def parse_send_time(text: str, *, zone: str) -> datetime:
    """ISO 8601 text (``2026-12-01T09:00``, with or without an offset) as a UTC time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidSendTime(text=text, reason="not a time") from None
    return send_time(moment, zone=zone)


def schedule_campaign(session: Session, *, campaign: Campaign, at: datetime, now: datetime) -> None:
    """Set (or move) the start time of a draft or scheduled campaign: everyone at ``at``."""
    if at.tzinfo is None:
        raise ValueError("a schedule needs a time zone")
    _check_schedulable(campaign)
    if at <= now:
        raise ScheduleInPast(campaign_id=campaign.id, status=campaign.status.value)
    _schedule(session, campaign=campaign, at=at, local_send_time=None)


def schedule_at_local_time(
    session: Session, *, campaign: Campaign, wall: datetime, unit_zone: str, now: datetime
) -> ZoneCensus:
    """Send at the wall-clock time ``wall`` (no offset; to the minute) in each recipient's zone: the
    campaign starts at the earliest zone's hour, and each zone's rows wait for theirs.

    Refused (ZonesPassed, naming them) when that hour has already passed in any zone of
    the recipients as they stand (see campaigns.zones). Returns the zones counted."""
    if wall.tzinfo is not None:  # 09:00+01:00 is one instant, not an hour on every clock
        raise InvalidSendTime(text=wall.isoformat(), reason="has an offset")
    _check_schedulable(campaign)
    local = LocalTime(wall=wall.replace(second=0, microsecond=0), unit_zone=unit_zone)
    census = zone_census(session, campaign=campaign, local=local)
    releases = [zone.release_at for zone in census.zones] or [local.release(unit_zone)]
    passed = sorted(zone.zone for zone in census.zones if zone.release_at <= now)
    if passed or min(releases) <= now:
        raise ZonesPassed(
            campaign_id=campaign.id,
            status=campaign.status.value,
            local=f"{wall:%Y-%m-%d %H:%M}",
            zones=passed or [unit_zone],
        )
    _schedule(session, campaign=campaign, at=min(releases), local_send_time=local.text)
    return census


def _check_schedulable(campaign: Campaign) -> None:
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        raise CampaignStateError(
            f"campaign {campaign.id} is {campaign.status.value}; only a draft or scheduled "
            "campaign can be scheduled",
            campaign_id=campaign.id,
            status=campaign.status.value,
        )


def _schedule(
    session: Session, *, campaign: Campaign, at: datetime, local_send_time: str | None
) -> None:
    campaign.scheduled_at = at
    campaign.local_send_time = local_send_time
    campaign.status = CampaignStatus.SCHEDULED
    campaign.status_reason = ""
    session.flush()


def unschedule_campaign(session: Session, *, campaign: Campaign) -> None:
    if campaign.status is not CampaignStatus.SCHEDULED:
        raise CampaignStateError(
            f"campaign {campaign.id} is {campaign.status.value}, not scheduled",
            campaign_id=campaign.id,
            status=campaign.status.value,
        )
    campaign.scheduled_at = None
    campaign.local_send_time = None
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
    unit_zone: str,
    rendering: Rendering | None = None,
) -> int | None:
    """Queue a campaign whose time has come; None if it was moved or unscheduled meanwhile.
    ``rendering``: the campaign rendered before this transaction (see render_due);
    ``unit_zone``: the zone of recipients who have none, for a send at a local hour."""
    campaign = session.get(Campaign, campaign_id)
    if not _still_due(campaign, scheduled_for):
        return None
    assert campaign is not None
    return queue_campaign(
        session,
        campaign=campaign,
        composer=composer,
        now=now,
        rendering=rendering,
        local_time=LocalTime.of(campaign, unit_zone=unit_zone),
    )


def render_due(
    session: Session, *, campaign_id: int, scheduled_for: datetime, composer: Composer
) -> Rendering | None:
    """The rendering of a campaign about to start, made in a read-only session."""
    campaign = session.get(Campaign, campaign_id)
    if not _still_due(campaign, scheduled_for):
        return None
    assert campaign is not None
    return render_for_sending(composer, campaign)


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
        f"{_hours(late)} later"
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
