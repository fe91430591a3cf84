"""The studio's revisions, autosave and language versions in headless Chromium against a
real uvicorn server: the save status changes as an editor types (and says why when the
content is wrong, with its line), a revision is compared with the current one and
restored, a French version is added in its own tab and flagged once the default version
changes after it, and read beside the default. Screenshots in test-artifacts/admin/."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from campaigns.drafts import get_campaign
from campaigns.versions import campaign_versions
from coopmail.db import session_scope
from coopmail.staff.roles import Role
from tests.coopmail.web.admin.conftest import Admin
from tests.coopmail.web.admin.test_browser_admin import (
    DESKTOP,
    checked,
    live,  # noqa: F401 - the fixture, used by name
    log_in,
    partners,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

EDITOR = "edith@unit.example.org"
FIRST_BODY = "Dear {{ subscriber.name }}, the looms kept turning."


def new_letter(page: Page, live: Admin, subject: str) -> int:  # noqa: F811
    """A letter written and saved in the studio; its id."""
    page.goto(f"{live.base_url}/admin/campaigns/new?kind=solidarity-letter")
    page.check("#list-partners")
    page.fill("#subject", subject)
    page.fill("#body", FIRST_BODY)
    page.click("form#studio button[type=submit]:not([formaction])")
    page.wait_for_url(re.compile(r"done=(campaign_created|saved)"))  # or the autosave made it
    return int(page.url.split("/admin/campaigns/")[1].split("?")[0])


def body_of(live: Admin, campaign_id: int) -> str:  # noqa: F811
    with session_scope(live.engine, write=False) as session:
        return get_campaign(session, campaign_id=campaign_id).body


def test_the_draft_saves_itself_and_a_revision_is_compared_and_restored(
    browser: Browser,
    live: Admin,  # noqa: F811 - the fixture imported above
    request: pytest.FixtureRequest,
) -> None:
    database = request.node.callspec.params["database_url"]
    live.create(EDITOR, Role.EDITOR, name="Edith")
    partners(live, **{"lucia@andes-tejedoras.example.org": "Lucía Quispe"})
    dialogs: list[str] = []
    context = browser.new_context(viewport=DESKTOP)
    try:
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        log_in(page, live, EDITOR)
        letter = new_letter(page, live, "Standing with the weavers")
        page.goto(f"{live.base_url}/admin/campaigns/{letter}/edit")
        status = page.locator("#save-status")
        assert status.is_hidden()  # nothing said before anything happens
        page.click("#body")
        page.keyboard.press("Control+End")
        page.keyboard.type(" All winter long.")
        status.get_by_text("Saved at").wait_for()
        assert status.get_attribute("aria-live") == "polite"
        assert body_of(live, letter).endswith("All winter long.")
        page.keyboard.type("\n\n{{ meta.nowhere }}")
        status.get_by_text("Not saved: Line 3 of the body").wait_for()
        page.locator("#content-problem").get_by_text("nowhere").wait_for()
        assert "nowhere" not in body_of(live, letter)  # nothing half-written
        checked(page, f"versions-autosave-problem-{database}")
        page.fill("#body", FIRST_BODY + " All winter, and into spring.")
        status.get_by_text("Saved at").wait_for()
        page.locator("#content-problem").wait_for(state="hidden")
        assert body_of(live, letter).endswith("into spring.")

        page.goto(f"{live.base_url}/admin/campaigns/{letter}")
        page.click(f"a[href='/admin/campaigns/{letter}/compare?revision=1']")
        page.wait_for_url("**/compare?revision=1")
        page.locator(".diff .added", has_text="into spring.").wait_for()
        page.locator(".diff .removed", has_text="kept turning.").first.wait_for()
        checked(page, f"versions-compare-{database}")
        page.get_by_role("button", name="Restore revision 1").click()
        page.wait_for_url("**done=restored")
        assert body_of(live, letter).strip() == FIRST_BODY
        assert "revision 1 restored" in page.inner_text("main")
    finally:
        context.close()
    assert dialogs and "Bring back revision 1?" in dialogs[0]


def test_a_french_version_is_added_and_flagged_once_the_default_changes(
    browser: Browser,
    live: Admin,  # noqa: F811 - the fixture imported above
    request: pytest.FixtureRequest,
) -> None:
    database = request.node.callspec.params["database_url"]
    live.create(EDITOR, Role.EDITOR, name="Edith")
    partners(live, **{"lucia@andes-tejedoras.example.org": "Lucía Quispe"})
    context = browser.new_context(viewport=DESKTOP)
    try:
        context.set_default_timeout(20_000)
        page = context.new_page()
        log_in(page, live, EDITOR)
        letter = new_letter(page, live, "Standing with the weavers")
        page.goto(f"{live.base_url}/admin/campaigns/{letter}/edit")
        page.select_option("#new-version", "fr")
        page.get_by_role("button", name="Add the version").click()
        page.wait_for_url("**/edit?language=fr&done=version_added")
        current = page.get_attribute(".tabs a[aria-current=page]", "href") or ""
        assert current.endswith("/edit?language=fr")
        page.fill("#subject", "Aux côtés des tisserandes")
        page.fill("#body", "Chère {{ subscriber.name }}, les métiers ont tourné.")
        page.locator("#save-status").get_by_text("Saved at").wait_for()
        preview = page.frame(name="preview-frame")
        assert preview is not None
        preview.get_by_text("Chère Lucía Quispe, les métiers ont tourné.").wait_for()
        assert page.locator(".notice.warning").count() == 0

        page.get_by_role("link", name="en (default)").click()
        page.wait_for_url(f"**/admin/campaigns/{letter}/edit")
        assert page.input_value("#subject") == "Standing with the weavers"  # not the French
        page.fill("#body", FIRST_BODY + " And a word about the spring fair.")
        page.locator("#save-status").get_by_text("Saved at").wait_for()
        page.goto(f"{live.base_url}/admin/campaigns/{letter}/edit?language=fr")
        warning = "The fr version was last changed before the default version"
        page.locator(".notice.warning", has_text=warning).wait_for()
        page.locator(".tabs", has_text="older than the default").wait_for()
        assert page.input_value("#subject") == "Aux côtés des tisserandes"  # kept
        checked(page, f"versions-french-tab-{database}")
        page.get_by_role("link", name="See the default and a translation side by side").click()
        page.wait_for_url("**/versions?language=fr")
        page.locator("section[lang=fr]", has_text="les métiers ont tourné").wait_for()
        page.locator("section[lang=en]", has_text="spring fair").wait_for()
        page.locator(".notice.warning", has_text=warning).wait_for()
        checked(page, f"versions-side-by-side-{database}")
    finally:
        context.close()
    with session_scope(live.engine, write=False) as session:
        campaign = get_campaign(session, campaign_id=letter)
        versions = {v.language: v for v in campaign_versions(session, campaign=campaign)}
        assert versions["en"].subject == "Standing with the weavers"
        assert versions["fr"].subject == "Aux côtés des tisserandes"
        assert "spring fair" in versions["en"].content.body
