"""The campaign studio's pages through a TestClient: write a campaign in the form, preview
it unsaved (and its content errors with their line), test it to staff addresses at the
test SMTP server, schedule it in the unit's time zone, send one now after the
confirmation, follow its progress (page and server-sent events), pause, resume, cancel;
an editor can do the first three and never send."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from campaigns.drafts import get_campaign
from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media, describe
from campaigns.models import Campaign, CampaignStatus
from campaigns.outbox import delivery_counts
from coopmail.db import session_scope
from coopmail.delivery import make_worker
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Role
from coopmail.web.security import PREVIEW_POLICY
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from tests.campaigns.media.images import png
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import Admin, csrf_of, make_admin
from tests.smtp_server import RecordingSmtpServer

EDITOR = "edith@unit.example.org"
ADMIN = "adam@unit.example.org"
PARTNERS = {
    "lucia@andes-tejedoras.example.org": "Lucía",
    "kofi@cacao-union.example.org": "Kofi",
    "mei@harbour-coop.example.org": "Mei",
}
LETTER = {
    "kind": "solidarity-letter",
    "lists": "partners",
    "subject": "Standing with the weavers of the Andes",
    "preheader": "A word of thanks after a hard season",
    "language": "en",
    "format": "markdown",
    "meta_place": "Geneva",
    "meta_date": "1 December 2026",
    "meta_salutation": "Dear friends,",
    "meta_signoff": "With warm regards,",
    "meta_signature": "Cooperatives Unit\nEnterprises Department",
    "body": "Dear {{ subscriber.name }},\n\nThe looms kept **turning** all winter.\n",
}


@pytest.fixture
def studio(
    engine: Engine, database_url: str, tmp_path: Path, clock: Clock, smtp: RecordingSmtpServer
) -> Admin:
    admin = make_admin(
        engine,
        database_url,
        tmp_path,
        clock,
        COOPMAIL_SMTP_URL=smtp.url,
        COOPMAIL_TIMEZONE="America/Lima",
    )
    admin.create(EDITOR, Role.EDITOR)
    admin.create(ADMIN, Role.ADMIN)
    with session_scope(engine) as session:
        letters = create_list(session, name="partners", title="Letters to partners")
        for address, name in PARTNERS.items():
            subscribe(
                session,
                email=address,
                mailing_list=letters,
                source=ConsentSource.FORM,
                wording="ticked the box",
                status=SubscriptionStatus.CONFIRMED,
                name=name,
            )
    return admin


def sender(admin: Admin) -> str:
    return admin.settings.from_address


def write(admin: Admin, browser: TestClient, **changes: str) -> Any:
    form = {**LETTER, "sender": sender(admin), **changes}
    return admin.post(browser, "/admin/campaigns/new", "/admin/campaigns", form)


def created(admin: Admin, browser: TestClient, **changes: str) -> int:
    answer = write(admin, browser, **changes)
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(
        r"/admin/campaigns/(\d+)\?done=campaign_created", answer.headers["location"]
    )
    assert found is not None
    return int(found.group(1))


def actions(admin: Admin) -> list[str]:
    with admin.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_editor_writes_a_campaign_in_the_form_and_it_is_saved_as_a_draft(
    studio: Admin,
) -> None:
    editor = studio.signed_in(EDITOR)
    page = editor.get("/admin/campaigns/new?kind=solidarity-letter")
    assert page.status_code == 200
    assert 'name="meta_place"' in page.text and 'name="meta_signature"' in page.text
    assert "data-toolbar" in page.text and '<textarea id="body"' in page.text
    campaign_id = created(studio, editor)
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        assert campaign.status is CampaignStatus.DRAFT
        assert campaign.meta["signature"] == ["Cooperatives Unit", "Enterprises Department"]
        assert campaign.meta["place"] == "Geneva"
        assert [ml.name for ml in campaign.lists] == ["partners"]
    shown = editor.get(f"/admin/campaigns/{campaign_id}?done=campaign_created")
    assert "Standing with the weavers of the Andes" in shown.text
    assert "The campaign is saved as a draft." in shown.text
    listing = editor.get("/admin/campaigns")
    assert f'href="/admin/campaigns/{campaign_id}"' in listing.text
    assert actions(studio)[-1] == "campaign.created"


def test_a_content_error_is_shown_beside_the_body_with_its_line(studio: Admin) -> None:
    editor = studio.signed_in(EDITOR)
    body = "First line.\n\nThird line with {{ meta.missing_field }}.\n"
    answer = write(studio, editor, body=body)
    assert answer.status_code == 400
    assert "Line 3 of the body:" in answer.text
    assert "missing_field" in answer.text
    assert body.replace("\n", "") in answer.text.replace("\n", "")  # kept as typed
    missing = write(studio, editor, subject="", lists="")
    assert missing.status_code == 400
    assert "Write a subject" in missing.text and "Choose at least one list." in missing.text


def autosave_new(admin: Admin, browser: TestClient, **changes: str) -> Any:
    """The new-campaign form as the studio's script posts it while staff type."""
    token = csrf_of(browser.get("/admin/campaigns/new").text)
    return browser.post(
        "/admin/campaigns",
        data={**LETTER, "sender": sender(admin), **changes, "csrf_token": token},
        headers={"X-Requested-With": "fetch", "X-CSRF-Token": token},
        follow_redirects=False,
    )


def campaign_count(admin: Admin) -> int:
    with admin.session() as session:
        return len(session.scalars(select(Campaign.id)).all())


def test_the_autosave_of_a_new_campaign_creates_one_draft_and_says_where_it_lives(
    studio: Admin,
) -> None:
    editor = studio.signed_in(EDITOR)
    page = editor.get("/admin/campaigns/new").text
    assert "data-autosave" in page and 'id="save-status"' in page and 'aria-live="polite"' in page
    no_list = autosave_new(studio, editor, lists="")
    assert no_list.status_code == 400
    assert no_list.json()["saved"] is False and no_list.json()["problem"] == {"field": "lists"}
    assert no_list.json()["message"] == "Not saved: Choose at least one list."
    no_subject = autosave_new(studio, editor, subject="")
    assert no_subject.status_code == 400
    assert no_subject.json()["message"].startswith("Not saved: Write a subject")
    broken = autosave_new(studio, editor, body="One.\n\nThree {{ meta.nowhere }}.\n")
    assert broken.status_code == 400
    assert broken.json()["message"].startswith("Not saved: Line 3 of the body:")
    assert broken.json()["problem"]["line"] == 3
    assert campaign_count(studio) == 0 and "campaign.created" not in actions(studio)

    answer = autosave_new(studio, editor)
    assert answer.status_code == 200, answer.text
    saved = answer.json()
    campaign_id = saved["campaign_id"]
    editor_page = f"/admin/campaigns/{campaign_id}/edit"
    assert saved["edit_url"] == editor_page and saved["action"] == editor_page
    assert saved["saved"] is True and re.fullmatch(r"Saved at \d{1,2}:\d\d.*", saved["message"])
    assert campaign_count(studio) == 1
    assert actions(studio).count("campaign.created") == 1  # as the Save button records it
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        assert campaign.status is CampaignStatus.DRAFT and campaign.subject == LETTER["subject"]
        assert [ml.name for ml in campaign.lists] == ["partners"]
    assert f'action="{editor_page}"' in editor.get(editor_page).text  # the next saves go here


def test_the_unsaved_preview_is_the_composed_mail_under_a_policy_without_script(
    studio: Admin,
) -> None:
    editor = studio.signed_in(EDITOR)
    token = csrf_of(editor.get("/admin/campaigns/new").text)
    form = {**LETTER, "sender": sender(studio), "csrf_token": token}
    framed = editor.post("/admin/campaigns/preview", data={**form, "view": "desktop"})
    assert framed.status_code == 200
    assert framed.headers["content-security-policy"] == PREVIEW_POLICY
    assert "script-src" not in PREVIEW_POLICY and PREVIEW_POLICY.endswith("sandbox")
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Dear Lucía," in framed.text  # the first confirmed subscriber of the lists
    assert "<strong>turning</strong>" in framed.text
    chosen = editor.post(
        "/admin/campaigns/preview",
        data={**form, "preview_to": "mei@harbour-coop.example.org"},
    )
    assert "Dear Mei," in chosen.text
    text = editor.post("/admin/campaigns/preview", data={**form, "view": "text"})
    assert "<pre" in text.text and "Dear Lucía," in text.text and "<strong>" not in text.text
    dark = editor.post("/admin/campaigns/preview", data={**form, "view": "dark"})
    assert "@media (prefers-color-scheme: dark)" in framed.text
    assert "@media (prefers-color-scheme: dark)" not in dark.text
    script = {"X-Requested-With": "fetch", "X-CSRF-Token": token}
    fine = editor.post("/admin/campaigns/preview", data=form, headers=script)
    assert fine.json() == {"problem": None}
    broken = editor.post(
        "/admin/campaigns/preview",
        data={**form, "body": "One.\n{% if %}\n"},
        headers=script,
    )
    problem = broken.json()["problem"]
    assert problem["line"] == 2 and problem["in_body"] is True
    in_frame = editor.post("/admin/campaigns/preview", data={**form, "body": "{{ nope.x }}"})
    assert "Line 1 of the body:" in in_frame.text
    assert in_frame.headers["content-security-policy"] == PREVIEW_POLICY


def test_the_campaign_page_frames_its_preview_in_a_sandbox_without_permissions(
    studio: Admin,
) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = editor.get(f"/admin/campaigns/{campaign_id}")
    frames = re.findall(r"<iframe[^>]*>", page.text)
    assert frames and all('sandbox=""' in frame for frame in frames)
    assert "allow-" not in " ".join(frames)
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]
    saved = editor.get(f"/admin/campaigns/{campaign_id}/preview?view=mobile")
    assert saved.headers["content-security-policy"] == PREVIEW_POLICY
    assert "Dear Lucía," in saved.text


def test_an_editor_sends_a_test_to_several_staff_addresses_marked_test(
    studio: Admin, smtp: RecordingSmtpServer
) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = f"/admin/campaigns/{campaign_id}"
    to = "edith@unit.example.org, desk@unit.example.org"
    answer = studio.post(editor, page, f"{page}/test", {"to": to})
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=test_sent")
    received = smtp.wait_for(2)
    assert sorted(r for m in received for r in m.recipients) == [
        "desk@unit.example.org",
        "edith@unit.example.org",
    ]
    message = email.message_from_bytes(received[0].data, policy=email.policy.default)
    assert message["Subject"] == "[Test] Standing with the weavers of the Andes"
    assert actions(studio)[-1] == "campaign.tested"
    wrong = studio.post(editor, page, f"{page}/test", {"to": "not an address"})
    assert wrong.status_code == 400 and "valid addresses" in wrong.text
    with studio.session() as session:  # a test is no send
        assert sum(delivery_counts(session, campaign_id=campaign_id).values()) == 0


def test_an_editor_cannot_schedule_or_send_and_nothing_changes(studio: Admin) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = f"/admin/campaigns/{campaign_id}"
    shown = editor.get(page).text
    assert f"{page}/schedule" not in shown and f"{page}/send" not in shown
    assert editor.get(f"{page}/send").status_code == 403
    for action, data in [
        ("send", {"confirm": "yes"}),
        ("schedule", {"at": "2030-01-01T09:00"}),
        ("pause", {}),
        ("cancel", {}),
    ]:
        assert studio.post(editor, page, f"{page}/{action}", data).status_code == 403
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).status is CampaignStatus.DRAFT
        assert sum(delivery_counts(session, campaign_id=campaign_id).values()) == 0


def test_an_admin_schedules_in_the_unit_time_zone_changes_and_cancels_it(
    studio: Admin,
) -> None:
    admin = studio.signed_in(ADMIN)
    campaign_id = created(studio, admin)
    page = f"/admin/campaigns/{campaign_id}"
    answer = studio.post(admin, page, f"{page}/schedule", {"at": "2030-03-02T09:30"})
    assert answer.status_code == 303
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        assert campaign.status is CampaignStatus.SCHEDULED
        assert campaign.scheduled_at == datetime(2030, 3, 2, 14, 30, tzinfo=UTC)  # Lima: UTC-5
    shown = admin.get(page).text
    assert 'value="2030-03-02T09:30"' in shown and "America/Lima" in shown
    assert "9:30" in admin.get("/admin/campaigns").text
    past = studio.post(admin, page, f"{page}/schedule", {"at": "2001-01-01T09:00"})
    assert past.status_code == 400 and "That time has passed" in past.text
    studio.post(admin, page, f"{page}/unschedule", {})
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).status is CampaignStatus.DRAFT
    assert actions(studio)[-2:] == ["campaign.scheduled", "campaign.unscheduled"]


def test_an_admin_confirms_the_count_sends_now_and_follows_the_progress(
    studio: Admin, smtp: RecordingSmtpServer
) -> None:
    admin = studio.signed_in(ADMIN)
    campaign_id = created(studio, admin)
    page = f"/admin/campaigns/{campaign_id}"
    confirm = admin.get(f"{page}/send")
    assert "Send to 3 subscribers now" in confirm.text
    unconfirmed = studio.post(admin, f"{page}/send", f"{page}/send", {})
    assert unconfirmed.headers["location"] == f"{page}/send"
    sent = studio.post(admin, f"{page}/send", f"{page}/send", {"confirm": "yes"})
    assert sent.headers["location"] == f"{page}/progress?done=queued"
    progress = admin.get(f"{page}/progress")
    assert 'data-progress="' in progress.text and 'http-equiv="refresh"' in progress.text
    assert 'data-value="queued">3<' in progress.text
    paused = studio.post(admin, f"{page}/progress", f"{page}/pause", {})
    assert paused.headers["location"].endswith("done=paused")
    studio.post(admin, f"{page}/progress", f"{page}/resume", {})
    make_worker(
        engine=studio.engine,
        settings=studio.settings,
        concurrency=1,
        campaign_ids=(campaign_id,),
        until_done=True,
    ).run()
    assert len(smtp.wait_for(3)) == 3
    done = admin.get(f"{page}/progress")
    assert 'data-value="sent">3<' in done.text and 'data-progress="' not in done.text
    with admin.stream("GET", f"{page}/events") as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        stream = "".join(events.iter_text())
    assert stream.startswith("event: progress\n") and '"sent": 3' in stream
    assert stream.endswith("event: end\ndata: {}\n\n")
    assert actions(studio)[-3:] == ["campaign.sent", "campaign.paused", "campaign.resumed"]
    report = admin.get(f"{page}/report")
    assert report.status_code == 200
    assert "cacao-union.example.org" in report.text and "harbour-coop.example.org" in report.text
    found = admin.get(f"{page}/report", params={"address": "kofi@"})
    assert "kofi@cacao-union.example.org" in found.text
    assert "mei@harbour-coop.example.org" not in found.text
    again = studio.post(admin, page, f"{page}/send", {"confirm": "yes"})
    assert again.status_code == 409 and "cannot be done any more" in again.text


def test_a_send_is_cancelled_from_its_progress_page(studio: Admin) -> None:
    admin = studio.signed_in(ADMIN)
    campaign_id = created(studio, admin)
    page = f"/admin/campaigns/{campaign_id}"
    studio.post(admin, f"{page}/send", f"{page}/send", {"confirm": "yes"})
    cancelled = studio.post(admin, f"{page}/progress", f"{page}/cancel", {})
    assert cancelled.headers["location"].endswith("done=cancelled")
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).status is CampaignStatus.CANCELLED
        assert delivery_counts(session, campaign_id=campaign_id)["skipped"] == 3
    assert 'data-value="skipped">3<' in admin.get(f"{page}/progress").text


def test_a_letter_with_only_a_subject_and_a_body_takes_the_kind_defaults(studio: Admin) -> None:
    editor = studio.signed_in(EDITOR)
    page = editor.get("/admin/campaigns/new?kind=solidarity-letter")
    assert 'placeholder="In solidarity,"' in page.text  # the default, shown in the field
    empty = {key: "" for key in LETTER if key.startswith("meta_")}
    campaign_id = created(studio, editor, **empty)
    preview = editor.get(f"/admin/campaigns/{campaign_id}/preview")
    assert "In solidarity," in preview.text


def test_the_editor_offers_the_library_images_and_refuses_an_http_image(studio: Admin) -> None:
    with session_scope(studio.engine) as session:
        image = prepare_image(png(), name="looms.png", limits=ImageLimits())
        item = add_media(
            session,
            store=studio.context.media(),
            image=image,
            filename="looms.png",
            alt_text="Looms in a workshop",
            now=studio.clock(),
        ).item
        url = describe(item, base_url=studio.base_url)["url"]
    editor = studio.signed_in(EDITOR)
    page = editor.get("/admin/campaigns/new?kind=solidarity-letter")
    snippet = f"![Looms in a workshop]({url})"
    assert f"<code>{snippet}</code>" in page.text
    campaign_id = created(studio, editor, body=f"The workshop:\n\n{snippet}\n")
    preview = editor.get(f"/admin/campaigns/{campaign_id}/preview")
    assert f'src="{url}"' in preview.text and 'alt="Looms in a workshop"' in preview.text
    refused = write(studio, editor, body="One.\n\n![A loom](http://example.org/loom.png)\n")
    assert refused.status_code == 400 and "Line 3 of the body:" in refused.text


def test_an_admin_marks_a_campaign_for_the_archive_and_an_editor_cannot(studio: Admin) -> None:
    admin = studio.signed_in(ADMIN)
    campaign_id = created(studio, admin)
    page = f"/admin/campaigns/{campaign_id}"
    editor = studio.signed_in(EDITOR)
    assert f"{page}/archive" not in editor.get(page).text
    assert studio.post(editor, page, f"{page}/archive", {"archived": "yes"}).status_code == 403
    marked = studio.post(admin, page, f"{page}/archive", {"archived": "yes"})
    assert marked.headers["location"].endswith("done=archived")
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).archived
    assert "it shows there once sent" in admin.get(page).text
    studio.post(admin, page, f"{page}/archive", {"archived": "no"})
    with studio.session() as session:
        assert not get_campaign(session, campaign_id=campaign_id).archived
    assert actions(studio)[-2:] == ["campaign.archived", "campaign.unarchived"]


def test_an_editor_changes_a_draft_and_a_sent_campaign_cannot_be_changed(studio: Admin) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = f"/admin/campaigns/{campaign_id}"
    shown = editor.get(f"{page}/edit")
    assert 'value="Standing with the weavers of the Andes"' in shown.text
    form = {**LETTER, "sender": sender(studio), "subject": "Still standing with the weavers"}
    saved = studio.post(editor, f"{page}/edit", f"{page}/edit", form)
    assert saved.headers["location"] == f"{page}?done=saved"
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).subject == form["subject"]
    assert actions(studio)[-1] == "campaign.edited"
    admin = studio.signed_in(ADMIN)
    studio.post(admin, f"{page}/send", f"{page}/send", {"confirm": "yes"})
    refused = studio.post(editor, f"{page}/edit", f"{page}/edit", {**form, "subject": "Too late"})
    assert refused.status_code == 409 and "has gone out" in refused.text
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).subject == form["subject"]
