"""A campaign sent "at this hour in each partner's time zone": whose zone, and when.

How the zones are released: when the send starts, `campaigns.outbox.queue_campaign` writes
in each delivery row its zone and, as its first ``next_attempt_at``, that hour in that zone.
The claim already takes only rows whose ``next_attempt_at`` has come, walking
``ix_deliveries_claim`` (campaign_id, state, next_attempt_at): the zones are released in
turn by the same index range scan that releases retries. So there is no new state, no job
per zone and no second writer: `campaigns/outbox.py` stays the one place a delivery changes,
and a paused, resumed or cancelled campaign behaves as any other. The scheduler starts the
campaign at the earliest zone's hour.

Whose zone: the subscriber's ``timezone`` attribute (an IANA name), else the zone of the
list the delivery is for, else the unit's. An attribute that names no zone (``CET+1``)
counts as none, and the campaign counts how many did.

An hour already passed: a campaign is scheduled only if that hour lies ahead in every zone
among its recipients at that moment; otherwise it is refused, naming the zones (a later date
works). A zone that appears only afterwards (a new subscriber's) and whose hour has passed
when the send starts gets it at once: late, never early, never skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session

from campaigns.errors import InvalidSendTime
from campaigns.models import Campaign, Delivery, DeliveryState
from campaigns.recipients import recipients
from subscribers.models import Subscriber
from subscribers.timezones import TIME_ZONE_ATTRIBUTE, read_time_zone


def wall_clock_in(moment: datetime, *, zone: str) -> datetime:
    """The wall-clock time ``moment`` (no offset) in ``zone``, as a UTC time. A time that
    a clock change skips or repeats is taken as the clock reads before it (``fold=0``)."""
    try:
        return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except OverflowError:
        raise InvalidSendTime(text=moment.isoformat(), reason="out of range") from None


def parse_local_time(text: str) -> datetime:
    """``2027-01-15T09:00``: a date and an hour with no offset, read in each zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidSendTime(text=text, reason="not a time") from None
    if moment.tzinfo is not None:
        raise InvalidSendTime(text=text, reason="has an offset")
    wall_clock_in(moment, zone="UTC")  # out of range anywhere: say so now
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True, kw_only=True)
class LocalTime:
    """The hour a campaign is sent at in each zone, and the zone of whoever has none."""

    wall: datetime  # no offset
    unit_zone: str

    @classmethod
    def of(cls, campaign: Campaign, *, unit_zone: str) -> LocalTime | None:
        if campaign.local_send_time is None:
            return None
        return cls(wall=datetime.fromisoformat(campaign.local_send_time), unit_zone=unit_zone)

    @property
    def text(self) -> str:
        """As stored in campaigns.local_send_time."""
        return self.wall.isoformat(timespec="minutes")

    def release(self, zone: str) -> datetime:
        return wall_clock_in(self.wall, zone=zone)


@dataclass(frozen=True, kw_only=True)
class ZoneCount:
    zone: str
    release_at: datetime  # UTC
    recipients: int

    def as_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "release_at": self.release_at.isoformat(),
            "recipients": self.recipients,
        }


@dataclass(frozen=True, kw_only=True)
class ZoneCensus:
    """The recipients' zones as they stand: what a schedule is checked against and what
    the send writes in the outbox."""

    zones: list[ZoneCount]  # earliest hour first
    fallbacks: int  # recipients whose `timezone` attribute names no zone
    attribute_zones: Mapping[str, str]  # each attribute value seen that names a zone
    list_zones: Mapping[int, str]  # the campaign's lists that have a zone of their own
    unit_zone: str


def zone_census(session: Session, *, campaign: Campaign, local: LocalTime) -> ZoneCensus:
    """Count the campaign's recipients by zone: one grouped query over its recipients."""
    list_zones = {
        mailing_list.id: zone
        for mailing_list in campaign.lists
        if (zone := read_time_zone(mailing_list.time_zone)) is not None
    }
    people = recipients([mailing_list.id for mailing_list in campaign.lists]).subquery()
    raw = Subscriber.attributes[TIME_ZONE_ATTRIBUTE].as_string()
    rows = (
        select(raw.label("raw"), people.c.list_id)
        .join(Subscriber, Subscriber.id == people.c.subscriber_id)
        .subquery()
    )
    counts: dict[str, int] = {}
    attribute_zones: dict[str, str] = {}
    fallbacks = 0
    for value, list_id, count in session.execute(
        select(rows.c.raw, rows.c.list_id, func.count()).group_by(rows.c.raw, rows.c.list_id)
    ):
        zone = read_time_zone(value)
        if zone is not None:
            attribute_zones[value] = zone
        else:
            fallbacks += count if isinstance(value, str) and value.strip() else 0
            zone = list_zones.get(list_id, local.unit_zone)
        counts[zone] = counts.get(zone, 0) + count
    zones = [
        ZoneCount(zone=zone, release_at=local.release(zone), recipients=count)
        for zone, count in counts.items()
    ]
    return ZoneCensus(
        zones=sorted(zones, key=lambda z: (z.release_at, z.zone)),
        fallbacks=fallbacks,
        attribute_zones=attribute_zones,
        list_zones=list_zones,
        unit_zone=local.unit_zone,
    )


def zoned_recipients(
    census: ZoneCensus, *, local: LocalTime, list_ids: list[int], now: datetime
) -> Select[Any]:
    """The recipients as (subscriber_id, list_id, time_zone, next_attempt_at): each one's
    zone chosen in SQL by the census's rules, and the hour there, or ``now`` if it passed.

    The choice is two CASE expressions over the few values the census saw, so a million
    recipients are still queued by one INSERT … SELECT. A value that appeared since the
    census (in the same transaction, on PostgreSQL) is read as no zone."""
    people = recipients(list_ids).subquery()
    raw = Subscriber.attributes[TIME_ZONE_ATTRIBUTE].as_string()
    by_list: ColumnElement[Any] = literal(census.unit_zone)
    if census.list_zones:
        by_list = case(census.list_zones, value=people.c.list_id, else_=census.unit_zone)
    zone: ColumnElement[Any] = by_list
    if census.attribute_zones:
        zone = func.coalesce(case(dict(census.attribute_zones), value=raw, else_=None), by_list)
    chosen = (
        select(people.c.subscriber_id, people.c.list_id, zone.label("time_zone"))
        .join(Subscriber, Subscriber.id == people.c.subscriber_id)
        .subquery()
    )
    moment = Delivery.next_attempt_at.type
    zones = {census.unit_zone, *census.list_zones.values(), *census.attribute_zones.values()}
    releases = {name: literal(max(local.release(name), now), moment) for name in zones}
    return select(
        chosen.c.subscriber_id,
        chosen.c.list_id,
        chosen.c.time_zone,
        case(releases, value=chosen.c.time_zone, else_=literal(now, moment)),
    )


def pending_zones(session: Session, *, campaign_id: int, now: datetime) -> list[ZoneCount]:
    """The zones whose hour has not come yet, with how many wait for it: queued rows never
    tried whose first time lies ahead (a range on ix_deliveries_claim)."""
    rows = session.execute(
        select(Delivery.time_zone, func.min(Delivery.next_attempt_at), func.count())
        .where(Delivery.campaign_id == campaign_id)
        .where(Delivery.state == DeliveryState.QUEUED)
        .where(Delivery.next_attempt_at > now)
        .where(Delivery.attempts == 0)
        .where(Delivery.time_zone.is_not(None))
        .group_by(Delivery.time_zone)
    ).all()
    zones = [
        ZoneCount(zone=zone, release_at=release, recipients=count)
        for zone, release, count in rows
        if zone is not None
    ]
    return sorted(zones, key=lambda z: (z.release_at, z.zone))
