# ruff: noqa: RUF001 - French is written with its apostrophes
"""The studio's revisions, checklist, autosave and language versions through a TestClient:
a draft's revisions are listed, compared (escaped) with the current content and restored;
the checklist shows on the campaign's page and before sending; the editor's script saves
as staff type and is told what happened; a translation is added, edited in its own tab,
read beside the default, flagged when older, removed, and never lost to a save of the
default version."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from campaigns.drafts import get_campaign
from campaigns.revisions import list_revisions
from campaigns.versions import campaign_versions
from coopmail.db import session_scope
from coopmail.staff.models import AuditEntry
from coopmail.staff.roles import Role
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import Admin, csrf_of, make_admin

EDITOR = "edith@unit.example.org"
ADMIN = "adam@unit.example.org"
VIEWER = "vera@unit.example.org"
LETTER = {
    "kind": "solidarity-letter",
    "lists": "partners",
    "subject": "Standing with the weavers of the Andes",
    "preheader": "A word of thanks after a hard season",
    "language": "en",
    "format": "markdown",
    "meta_place": "Geneva",
    "body": "Dear {{ subscriber.name }},\n\nThe looms kept turning all winter.\n",
}
FRENCH = {
    "version": "fr",
    "subject": "Aux côtés des tisserandes des Andes",
    "preheader": "Un mot de remerciement",
    "meta_place": "Genève",
    "body": "Chère {{ subscriber.name }},\n\nLes métiers ont tourné tout l’hiver.\n",
}


@pytest.fixture
def studio(engine: Engine, database_url: str, tmp_path: Path, clock: Clock) -> Admin:
    admin = make_admin(engine, database_url, tmp_path, clock, COOPMAIL_TIMEZONE="Europe/Zurich")
    admin.create(EDITOR, Role.EDITOR)
    admin.create(ADMIN, Role.ADMIN)
    admin.create(VIEWER, Role.VIEWER)
    with session_scope(engine) as session:
        letters = create_list(session, name="partners", title="Letters to partners")
        subscribe(
            session,
            email="lucia@andes-tejedoras.example.org",
            mailing_list=letters,
            source=ConsentSource.FORM,
            wording="ticked the box",
            status=SubscriptionStatus.CONFIRMED,
            name="Lucía",
        )
    return admin


def form(admin: Admin, **changes: str) -> dict[str, str]:
    return {**LETTER, "sender": admin.settings.from_address, **changes}


def created(admin: Admin, browser: TestClient) -> int:
    answer = admin.post(browser, "/admin/campaigns/new", "/admin/campaigns", form(admin))
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].split("/")[3].split("?")[0])


def save(admin: Admin, browser: TestClient, campaign_id: int, **changes: str) -> Any:
    page = f"/admin/campaigns/{campaign_id}/edit"
    return admin.post(browser, page, page, form(admin, **changes))


def autosave(admin: Admin, browser: TestClient, campaign_id: int, **changes: str) -> Any:
    page = f"/admin/campaigns/{campaign_id}/edit"
    token = csrf_of(browser.get(page).text)
    return browser.post(
        page,
        data={**form(admin, **changes), "csrf_token": token},
        headers={"X-Requested-With": "fetch", "X-CSRF-Token": token},
    )


def actions(admin: Admin) -> list[str]:
    with admin.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_draft_lists_its_revisions_compares_one_escaped_and_restores_it(studio: Admin) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = f"/admin/campaigns/{campaign_id}"
    changed = "Dear {{ subscriber.name }},\n\nThe looms <b>stopped</b> in June.\n"
    assert save(studio, editor, campaign_id, body=changed).status_code == 303
    shown = editor.get(page).text
    assert "Revisions" in shown and EDITOR in shown
    assert f'href="{page}/compare?revision=1"' in shown
    assert f'action="{page}/restore"' in shown
    compared = editor.get(f"{page}/compare", params={"revision": "1"})
    assert compared.status_code == 200
    assert "From revision 1 to the current content (revision 2)" in compared.text
    assert "The looms &lt;b&gt;stopped&lt;/b&gt; in June." in compared.text  # escaped
    assert "<b>stopped</b>" not in compared.text
    assert re.search(r'class="removed">.*The looms kept turning all winter\.', compared.text)
    assert re.search(r'class="added">.*stopped', compared.text)
    assert editor.get(f"{page}/compare", params={"revision": "9"}).status_code == 404
    viewer = studio.signed_in(VIEWER)
    assert f"{page}/restore" not in viewer.get(page).text
    assert studio.post(viewer, page, f"{page}/restore", {"revision": "1"}).status_code == 403
    restored = studio.post(editor, page, f"{page}/restore", {"revision": "1"})
    assert restored.headers["location"] == f"{page}?done=restored"
    with studio.session() as session:
        assert "kept turning" in get_campaign(session, campaign_id=campaign_id).body
        newest = list_revisions(session, campaign_id=campaign_id)[-1]
        assert (newest.number, newest.restored_from, newest.author) == (3, 1, EDITOR)
    assert actions(studio)[-1] == "campaign.restored"
    assert "revision 1 restored" in editor.get(page).text
    missing = studio.post(editor, page, f"{page}/restore", {"revision": "42"})
    assert missing.status_code == 404 and "no such revision" in missing.text


def test_a_sent_campaign_is_not_restored(studio: Admin) -> None:
    admin = studio.signed_in(ADMIN)
    campaign_id = created(studio, admin)
    page = f"/admin/campaigns/{campaign_id}"
    save(studio, admin, campaign_id, subject="A second subject")
    studio.post(admin, f"{page}/send", f"{page}/send", {"confirm": "yes"})
    assert f"{page}/restore" not in admin.get(page).text
    refused = studio.post(admin, page, f"{page}/restore", {"revision": "1"})
    assert refused.status_code == 409 and "has gone out" in refused.text
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).subject == "A second subject"


def test_the_checklist_shows_on_the_campaign_page_and_before_sending(studio: Admin) -> None:
    admin = studio.signed_in(ADMIN)
    campaign_id = created(studio, admin)
    page = f"/admin/campaigns/{campaign_id}"
    for shown in (admin.get(page).text, admin.get(f"{page}/send").text):
        assert "Before sending" in shown
        assert "Passed:</span> <strong>Subject and preheader</strong>" in shown
        assert "Passed:</span> <strong>Recipients</strong>. 1 recipients" in shown
        # No DKIM key in the tests' settings: a failure, with what to do.
        assert "Failed:</span> <strong>DKIM signature</strong>" in shown
        assert "What to do: Ask the person who runs coopmail" in shown
        assert "<strong>Spam score</strong>" in shown
    save(studio, admin, campaign_id, preheader="")
    assert "What to do: Write a preheader" in admin.get(page).text
    studio.create("francoise@unit.example.org", Role.ADMIN, language="fr")
    french = studio.signed_in("francoise@unit.example.org").get(f"{page}/send").text
    assert "Avant l’envoi" in french and "Que faire\u00a0:" in french


def test_the_autosave_answers_json_and_stores_a_revision_only_for_a_change(
    studio: Admin,
) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    edit = editor.get(f"/admin/campaigns/{campaign_id}/edit").text
    assert "data-autosave" in edit and 'id="save-status"' in edit and 'aria-live="polite"' in edit
    studio.clock.advance(minutes=5)
    saved = autosave(studio, editor, campaign_id, body="Dear {{ subscriber.name }}, hello.\n")
    assert saved.status_code == 200
    answer = saved.json()
    assert answer["saved"] is True and re.fullmatch(r"Saved at \d{1,2}:\d\d.*", answer["message"])
    again = autosave(studio, editor, campaign_id, body="Dear {{ subscriber.name }}, hello.\n")
    assert again.json() == answer  # nothing changed: the same save, no new revision
    with studio.session() as session:
        assert len(list_revisions(session, campaign_id=campaign_id)) == 2
    assert actions(studio).count("campaign.edited") == 1
    broken = autosave(studio, editor, campaign_id, body="One.\n\nThree {{ meta.nowhere }}.\n")
    assert broken.status_code == 400
    problem = broken.json()
    assert problem["saved"] is False
    assert problem["message"].startswith("Not saved: Line 3 of the body:")
    assert problem["problem"]["line"] == 3
    empty = autosave(studio, editor, campaign_id, subject="")
    assert empty.status_code == 400 and "Write a subject" in empty.json()["message"]
    with studio.session() as session:
        assert get_campaign(session, campaign_id=campaign_id).body.endswith("hello.\n")


def test_a_french_version_is_added_edited_in_its_tab_and_never_lost(studio: Admin) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)
    page = f"/admin/campaigns/{campaign_id}"
    edit = editor.get(f"{page}/edit").text
    assert f'action="{page}/versions"' in edit and '<option value="fr">' in edit
    added = studio.post(editor, f"{page}/edit", f"{page}/versions", {"language": "fr"})
    assert added.headers["location"] == f"{page}/edit?language=fr&done=version_added"
    assert studio.post(editor, page, f"{page}/versions", {"language": "fr"}).status_code == 409
    assert studio.post(editor, page, f"{page}/versions", {"language": "de"}).status_code == 400
    tab = editor.get(f"{page}/edit?language=fr").text
    assert 'aria-current="page">fr<' in tab
    assert 'name="version" value="fr"' in tab and "Save the fr version" in tab
    assert 'value="Standing with the weavers of the Andes"' in tab  # a copy to translate
    studio.clock.advance(minutes=1)
    saved = studio.post(editor, f"{page}/edit?language=fr", f"{page}/edit", form(studio, **FRENCH))
    assert saved.headers["location"] == f"{page}/edit?language=fr&done=saved"
    assert actions(studio)[-1] == "campaign.version_edited"
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        versions = {v.language: v for v in campaign_versions(session, campaign=campaign)}
        assert campaign.subject == LETTER["subject"]  # the default is as it was
        assert versions["fr"].subject == FRENCH["subject"]
        assert versions["fr"].content.meta["place"] == "Genève"
    side = editor.get(f"{page}/versions", params={"language": "fr"}).text
    assert 'lang="fr"' in side and FRENCH["subject"] in side and LETTER["subject"] in side
    assert "Les métiers ont tourné" in side and "last changed before" not in side
    # A save of the default version keeps the translation, which is now older.
    studio.clock.advance(minutes=1)
    save(studio, editor, campaign_id, body="Dear {{ subscriber.name }},\n\nA new paragraph.\n")
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        versions = {v.language: v for v in campaign_versions(session, campaign=campaign)}
        assert versions["fr"].subject == FRENCH["subject"]
        assert "Les métiers ont tourné" in versions["fr"].content.body
    warning = "The fr version was last changed before the default version"
    assert warning in editor.get(f"{page}/edit?language=fr").text
    assert warning in editor.get(page).text
    assert warning in editor.get(f"{page}/versions").text
    # The default cannot take the translation's language; a tab cannot change the lists.
    taken = save(studio, editor, campaign_id, language="fr")
    assert taken.status_code == 400 and "fr already has its own version" in taken.text
    studio.post(
        editor, f"{page}/edit?language=fr", f"{page}/edit", form(studio, **FRENCH, lists="other")
    )
    with studio.session() as session:
        assert [ml.name for ml in get_campaign(session, campaign_id=campaign_id).lists] == [
            "partners"
        ]
    removed = studio.post(editor, page, f"{page}/versions/remove", {"language": "fr"})
    assert removed.headers["location"] == f"{page}/edit?done=version_removed"
    assert (
        studio.post(editor, page, f"{page}/versions/remove", {"language": "fr"}).status_code == 404
    )
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        assert [v.language for v in campaign_versions(session, campaign=campaign)] == ["en"]
    assert actions(studio)[-1] == "campaign.version_removed"
    assert editor.get(f"{page}/edit?language=fr").status_code == 404


def test_a_translations_revisions_are_shown_compared_and_restored_in_its_history(
    studio: Admin,
) -> None:
    editor = studio.signed_in(EDITOR)
    campaign_id = created(studio, editor)  # revision 1
    page = f"/admin/campaigns/{campaign_id}"
    studio.post(editor, f"{page}/edit", f"{page}/versions", {"language": "fr"})  # 2: the copy
    studio.clock.advance(minutes=1)
    studio.post(editor, f"{page}/edit?language=fr", f"{page}/edit", form(studio, **FRENCH))  # 3
    tab = editor.get(f"{page}/edit?language=fr").text
    assert f'href="{page}?language=fr#revisions"' in tab
    default = editor.get(page).text
    assert f'href="{page}/compare?revision=2' not in default  # the default's history only
    history = editor.get(page, params={"language": "fr"}).text
    assert "Revisions of the fr version" in history
    assert f'href="{page}/compare?revision=2&amp;language=fr"' in history
    assert f'href="{page}/compare?revision=1' not in history
    assert 'aria-current="page">fr<' in history
    assert editor.get(page, params={"language": "de"}).status_code == 404

    compared = editor.get(f"{page}/compare", params={"revision": "2", "language": "fr"})
    assert compared.status_code == 200
    assert "From revision 2 to the current content (revision 3)" in compared.text
    assert re.search(r'class="added">.*Aux côtés des tisserandes', compared.text)
    assert 'name="language" value="fr"' in compared.text
    # Revision 1 is not of this version: not offered, and not compared.
    other = editor.get(f"{page}/compare", params={"revision": "1", "language": "fr"})
    assert other.status_code == 404

    restored = studio.post(editor, page, f"{page}/restore", {"revision": "2"})
    assert restored.headers["location"] == f"{page}?language=fr&done=restored"
    with studio.session() as session:
        campaign = get_campaign(session, campaign_id=campaign_id)
        versions = {v.language: v for v in campaign_versions(session, campaign=campaign)}
        assert versions["fr"].subject == LETTER["subject"]  # the copy again
        newest = list_revisions(session, campaign_id=campaign_id, language="fr")[-1]
        assert (newest.number, newest.restored_from, newest.author) == (4, 2, EDITOR)
        assert [r.number for r in list_revisions(session, campaign_id=campaign_id)] == [1]
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.action == "campaign.restored"
        assert entry.details == {"revision": 2, "language": "fr"}
    assert "revision 2 restored" in editor.get(page, params={"language": "fr"}).text

    studio.post(editor, page, f"{page}/versions/remove", {"language": "fr"})
    gone = studio.post(editor, page, f"{page}/restore", {"revision": "3"})
    assert gone.status_code == 409 and "no longer has" in gone.text
    kept = editor.get(page, params={"language": "fr"}).text  # its revisions stay
    assert f'href="{page}/compare?revision=3&amp;language=fr"' in kept
