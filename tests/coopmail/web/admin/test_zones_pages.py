"""The admin's side of a send at an hour in each partner's time zone: a list's zone, the
schedule form's choice, the zones pending on the progress page, bad names refused."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from campaigns.compose import Composer
from campaigns.drafts import get_campaign
from campaigns.models import CampaignStatus
from campaigns.schedule import start_scheduled
from coopmail.staff.models import AuditEntry
from subscribers.lists import get_list
from subscribers.models import Subscriber
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import Admin
from tests.coopmail.web.admin.test_campaign_pages import ADMIN, created, studio

__all__ = ["studio"]  # the fixture, shared with the studio's own tests

TOKYO = datetime(2030, 1, 15, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo, UTC+9
LIMA = datetime(2030, 1, 15, 14, 0, tzinfo=UTC)  # 09:00 in Lima, UTC-5


def test_a_list_takes_a_time_zone_and_refuses_a_wrong_name(studio: Admin) -> None:
    admin = studio.signed_in(ADMIN)
    bad = studio.post(
        admin,
        "/admin/lists",
        "/admin/lists",
        {"name": "andes", "opt_in": "double", "timezone": "Andes/Cusco"},
    )
    assert bad.status_code == 400 and "“Andes/Cusco” is not a time zone name" in bad.text
    made = studio.post(
        admin,
        "/admin/lists",
        "/admin/lists",
        {"name": "andes", "opt_in": "double", "timezone": "america/la_paz"},
    )
    assert made.status_code == 303
    assert 'value="America/La_Paz"' in admin.get("/admin/lists/andes").text
    wrong = studio.post(
        admin, "/admin/lists/andes", "/admin/lists/andes", {"opt_in": "double", "timezone": "X"}
    )
    assert wrong.status_code == 400 and "“X” is not a time zone name" in wrong.text
    studio.post(admin, "/admin/lists/andes", "/admin/lists/andes", {"opt_in": "double"})
    with studio.session() as session:
        assert get_list(session, name="andes").time_zone is None


def test_an_admin_schedules_at_an_hour_in_each_zone_and_follows_the_zones(
    studio: Admin, clock: Clock
) -> None:
    with studio.session() as session:  # one partner in Tokyo; the others have the unit's
        mei = session.scalar(select(Subscriber).where(Subscriber.email.like("mei@%")))
        assert mei is not None
        mei.attributes = {"timezone": "Asia/Tokyo"}
        session.commit()
    admin = studio.signed_in(ADMIN)
    campaign_id = created(studio, admin)
    page = f"/admin/campaigns/{campaign_id}"
    form = admin.get(page).text
    assert 'value="unit" checked' in form and "America/Lima" in form
    past = studio.post(admin, page, f"{page}/schedule", {"at": "2001-01-15T09:00", "when": "each"})
    assert past.status_code == 400
    assert "That hour has already passed in America/Lima, Asia/Tokyo." in past.text
    assert 'value="each" checked' in past.text  # the choice is kept
    answer = studio.post(
        admin, page, f"{page}/schedule", {"at": "2030-01-15T09:00", "when": "each"}
    )
    assert answer.status_code == 303
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        assert campaign.status is CampaignStatus.SCHEDULED
        assert campaign.scheduled_at == TOKYO and campaign.local_send_time == "2030-01-15T09:00"
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.action == "campaign.scheduled"
    shown = admin.get(page).text
    assert 'value="each" checked' in shown and 'value="2030-01-15T09:00"' in shown
    assert "at 2030-01-15 09:00 in each partner" in shown

    clock.now = TOKYO  # the scheduler starts it at the first zone's hour
    with studio.session() as session:
        start_scheduled(
            session,
            campaign_id=campaign_id,
            scheduled_for=TOKYO,
            composer=Composer(),
            now=clock(),
            unit_zone="America/Lima",
        )
        session.commit()
    admin = studio.signed_in(ADMIN)  # years later: a fresh session
    progress = admin.get(f"{page}/progress").text
    assert "Zones pending" in progress and 'data-zones="1"' in progress
    assert "<td>America/Lima</td><td>2030-01-15 09:00 -05</td><td>2</td>" in progress
    clock.now = LIMA
    admin = studio.signed_in(ADMIN)
    done = admin.get(f"{page}/progress").text
    assert "No zone is waiting for its hour." in done and 'data-zones="0"' in done
