"""A campaign sent at a local hour in each partner's time zone: released zone by zone, in
order, none early, each exactly once (real databases, the recording SMTP server, a clock
the test moves)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.drafts import create_campaign
from campaigns.errors import InvalidSendTime, ZonesPassed
from campaigns.models import Campaign, CampaignStatus, Delivery
from campaigns.outbox import queue_campaign
from campaigns.report import progress_snapshot
from campaigns.schedule import schedule_at_local_time, start_scheduled, unschedule_campaign
from campaigns.worker import DeliveryWorker, SendingIdentity, WorkerSettings
from campaigns.zones import parse_local_time
from coopmail.db import for_writing
from mailer.smtp import SmtpSettings
from subscribers.errors import InvalidTimeZone
from subscribers.lists import create_list, get_list, update_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from templates import sample_path
from tests.conftest import Clock
from tests.smtp_server import RecordingSmtpServer

UNIT_ZONE = "Europe/Paris"
WALL = datetime(2027, 1, 15, 9, 0)  # noqa: DTZ001 - 09:00 on 15 January, in no zone
TOKYO = datetime(2027, 1, 15, 0, 0, tzinfo=UTC)  # UTC+9
PARIS = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)  # UTC+1 in winter
BOGOTA = datetime(2027, 1, 15, 14, 0, tzinfo=UTC)  # UTC-5
WAIT = 60.0  # seconds: generous, for a loaded machine; never a fixed sleep


def subscribe_all(
    session: Session, list_name: str, addresses: list[str], *, zone: str | None = None
) -> None:
    mailing_list = get_list(session, name=list_name)
    for address in addresses:
        subscribe(
            session,
            email=address,
            mailing_list=mailing_list,
            source=ConsentSource.STAFF,
            wording="test",
            status=SubscriptionStatus.CONFIRMED,
            attributes={"timezone": zone} if zone is not None else None,
        )


@pytest.fixture
def three_zones(session: Session, tmp_path: Path) -> dict[str, list[str]]:
    """Bogota by its list's zone (one with an unreadable zone of its own), Tokyo by the
    partners' own attribute, Paris, the unit's zone, for a list with none."""
    create_list(session, name="americas", time_zone="america/bogota")
    create_list(session, name="members")
    zones = {
        "America/Bogota": [f"andes{i}@coop.example.org" for i in range(3)],
        "Asia/Tokyo": [f"kanto{i}@coop.example.org" for i in range(2)],
        "Europe/Paris": [f"rhone{i}@coop.example.org" for i in range(4)],
    }
    subscribe_all(session, "americas", zones["America/Bogota"][:2])
    subscribe_all(session, "americas", zones["America/Bogota"][2:], zone="Mars/Olympus Mons")
    subscribe_all(session, "americas", zones["Asia/Tokyo"], zone="Asia/Tokyo")
    subscribe_all(session, "members", zones["Europe/Paris"])
    session.commit()
    return zones


def letter(session: Session, tmp_path: Path) -> Campaign:
    source = tmp_path / "letter.md"
    source.write_text(sample_path("solidarity-letter").read_text())
    campaign = create_campaign(
        session,
        composer=Composer(),
        content=read_content(source),
        default_sender="Cooperatives Unit <coop@example.org>",
        list_names=["americas", "members"],
    )
    session.commit()
    return campaign


def wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


def test_each_zone_gets_its_hour_in_order_none_early_each_once(
    engine: Engine,
    session: Session,
    tmp_path: Path,
    clock: Clock,
    smtp_server: RecordingSmtpServer,
    three_zones: dict[str, list[str]],
) -> None:
    campaign = letter(session, tmp_path)
    census = schedule_at_local_time(
        session, campaign=campaign, wall=WALL, unit_zone=UNIT_ZONE, now=clock()
    )
    session.commit()
    assert [(z.zone, z.release_at, z.recipients) for z in census.zones] == [
        ("Asia/Tokyo", TOKYO, 2),
        ("Europe/Paris", PARIS, 4),
        ("America/Bogota", BOGOTA, 3),
    ]
    assert census.fallbacks == 1
    assert campaign.scheduled_at == TOKYO  # the scheduler starts it at the first zone's hour

    clock.now = TOKYO
    queued = start_scheduled(
        session,
        campaign_id=campaign.id,
        scheduled_for=TOKYO,
        composer=Composer(),
        now=clock(),
        unit_zone=UNIT_ZONE,
    )
    session.commit()
    assert queued == 9
    snapshot = progress_snapshot(session, campaign_id=campaign.id, now=clock())
    assert [(z.zone, z.release_at, z.recipients) for z in snapshot.zones_pending] == [
        ("Europe/Paris", PARIS, 4),
        ("America/Bogota", BOGOTA, 3),
    ]
    assert snapshot.zone_fallbacks == 1 and snapshot.local_send_time == "2027-01-15T09:00"
    assert snapshot.as_json()["zones_pending"][0] == {
        "zone": "Europe/Paris",
        "release_at": PARIS.isoformat(),
        "recipients": 4,
    }

    worker = DeliveryWorker(
        engine=for_writing(engine),
        smtp=SmtpSettings.from_url(smtp_server.url),
        settings=WorkerSettings(concurrency=2, poll_interval=0.02, until_done=True, clock=clock),
        identity=SendingIdentity(base_url="https://news.example.org", key=b"k" * 32),
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:

        def received() -> set[str]:
            return set(smtp_server.recipients())

        def two_rounds() -> None:
            """Two ledger rounds, the second begun after this call: one read the clock."""
            for _ in range(2):
                mark = time.monotonic()
                wait_for("a worker round", lambda m=mark: (worker.health().last_round or 0) > m)  # type: ignore[misc]

        expected = set(three_zones["Asia/Tokyo"])  # due when the send starts
        wait_for("the partners in Tokyo", lambda: received() == expected)
        for zone, release in (("Europe/Paris", PARIS), ("America/Bogota", BOGOTA)):
            clock.now = release - timedelta(minutes=1)
            two_rounds()
            assert received() == expected, f"{zone} released early"
            clock.now = release
            expected |= set(three_zones[zone])
            wait_for(f"the partners in {zone}", lambda e=expected: received() == e)  # type: ignore[misc]
    finally:
        thread.join(WAIT)
    assert not thread.is_alive()
    assert smtp_server.recipients() == dict.fromkeys(
        [address for addresses in three_zones.values() for address in addresses], 1
    )
    session.rollback()  # a fresh read of what the worker wrote
    assert session.get(Campaign, campaign.id).status is CampaignStatus.SENT  # type: ignore[union-attr]
    zones = dict(session.execute(select(Delivery.subscriber_id, Delivery.time_zone)).all())
    assert sorted(zones.values()) == sorted(
        ["America/Bogota"] * 3 + ["Asia/Tokyo"] * 2 + ["Europe/Paris"] * 4
    )
    assert progress_snapshot(session, campaign_id=campaign.id, now=clock()).zones_pending == []


def test_an_hour_passed_in_some_zone_is_refused_naming_it(
    session: Session, tmp_path: Path, clock: Clock, three_zones: dict[str, list[str]]
) -> None:
    campaign = letter(session, tmp_path)
    clock.now = TOKYO + timedelta(minutes=1)  # 09:01 in Tokyo, 01:01 in Paris
    with pytest.raises(ZonesPassed, match=r"2027-01-15 09:00 has already passed in Asia/Tokyo;"):
        schedule_at_local_time(
            session, campaign=campaign, wall=WALL, unit_zone=UNIT_ZONE, now=clock()
        )
    assert campaign.status is CampaignStatus.DRAFT and campaign.local_send_time is None
    # A day later is far enough ahead everywhere.
    schedule_at_local_time(
        session,
        campaign=campaign,
        wall=WALL + timedelta(days=1),
        unit_zone=UNIT_ZONE,
        now=clock(),
    )
    assert campaign.scheduled_at == TOKYO + timedelta(days=1)
    unschedule_campaign(session, campaign=campaign)
    assert campaign.local_send_time is None


def test_a_zone_that_appears_after_scheduling_is_sent_at_once_never_early(
    session: Session, tmp_path: Path, clock: Clock, three_zones: dict[str, list[str]]
) -> None:
    campaign = letter(session, tmp_path)
    schedule_at_local_time(session, campaign=campaign, wall=WALL, unit_zone=UNIT_ZONE, now=clock())
    subscribe_all(session, "members", ["kiritimati@coop.example.org"], zone="Pacific/Kiritimati")
    session.commit()
    clock.now = TOKYO  # 09:00 in Tokyo is 14:00 in UTC+14: that hour passed there
    start_scheduled(
        session,
        campaign_id=campaign.id,
        scheduled_for=TOKYO,
        composer=Composer(),
        now=clock(),
        unit_zone=UNIT_ZONE,
    )
    session.commit()
    due = dict(session.execute(select(Delivery.time_zone, Delivery.next_attempt_at)).all())
    assert due["Pacific/Kiritimati"] == TOKYO and due["Asia/Tokyo"] == TOKYO
    assert due["Europe/Paris"] == PARIS and due["America/Bogota"] == BOGOTA


def test_sending_now_sends_everyone_now(
    session: Session, tmp_path: Path, clock: Clock, three_zones: dict[str, list[str]]
) -> None:
    campaign = letter(session, tmp_path)
    schedule_at_local_time(session, campaign=campaign, wall=WALL, unit_zone=UNIT_ZONE, now=clock())
    queue_campaign(session, campaign=campaign, composer=Composer(), now=clock())
    session.commit()
    assert campaign.local_send_time is None
    rows = session.execute(select(Delivery.time_zone, Delivery.next_attempt_at)).all()
    assert rows and all(zone is None and due == clock() for zone, due in rows)


def test_bad_zone_names_and_hours_are_refused(session: Session) -> None:
    with pytest.raises(InvalidTimeZone, match="'Europe/Pariss' is not a zone name"):
        create_list(session, name="partners", time_zone="Europe/Pariss")
    create_list(session, name="partners", time_zone="")
    with pytest.raises(InvalidTimeZone, match=r"'CET\+1' is not a zone name"):
        update_list(session, name="partners", time_zone="CET+1")
    assert update_list(session, name="partners", time_zone="utc").time_zone == "UTC"
    assert update_list(session, name="partners", time_zone="").time_zone is None
    with pytest.raises(InvalidSendTime, match="has an offset"):
        parse_local_time("2027-01-15T09:00+01:00")
    with pytest.raises(InvalidSendTime, match="is not a time"):
        parse_local_time("tomorrow at nine")
    assert parse_local_time(" 2027-01-15T09:00 ") == WALL
