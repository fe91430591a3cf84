"""The campaign studio in headless Chromium against a real uvicorn server: an editor
writes a letter and watches the sandboxed preview change as they type, uses the toolbar,
sends a test that arrives at the test SMTP server; an admin schedules it, sends another
now after the confirmation and watches the progress reach the total while a worker sends
in this process. Content with <script>, onerror= and javascript: never runs in the
preview. A new campaign saves itself as staff type, once, then edits the draft it made,
even when Save is pressed while that first save is on its way. The editor works without
JavaScript too. Screenshots in test-artifacts/admin/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from sqlalchemy import Engine

from campaigns.models import Campaign, CampaignStatus
from coopmail.db import session_scope
from coopmail.delivery import make_worker
from coopmail.staff.roles import Role
from subscribers.base import utcnow
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import Admin, make_admin
from tests.coopmail.web.admin.test_browser_admin import DESKTOP, PHONE, checked, log_in, partners
from tests.smtp_server import RecordingSmtpServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Frame, Page, Request, Route

EDITOR = "edith@unit.example.org"
ADMIN = "adam@unit.example.org"
PEOPLE = {
    "lucia@andes-tejedoras.example.org": "Lucía Quispe",
    "kofi@cacao-union.example.org": "Kofi Mensah",
    "mei@harbour-coop.example.org": "Mei Lin",
}
HOSTILE = (
    "Before <script>alert('script')</script> after.\n\n"
    '<img src="https://www.example.org/x.png" alt="x" onerror="alert(\'onerror\')">\n\n'
    "[a harmless-looking link](javascript:alert('link'))\n"
)


@pytest.fixture
def live(
    engine: Engine, database_url: str, tmp_path: Path, smtp: RecordingSmtpServer
) -> Iterator[Admin]:
    """uvicorn on a port the OS chose, in a thread, on the real clock, with a relay."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    admin = make_admin(
        engine,
        database_url,
        tmp_path,
        Clock(),
        base_url=base_url,
        COOPMAIL_SMTP_URL=smtp.url,
        COOPMAIL_TIMEZONE="Europe/Madrid",
    )
    admin.context.clock = utcnow  # a real browser waits in real time
    server = uvicorn.Server(uvicorn.Config(admin.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start", pytrace=False)
        time.sleep(0.01)
    try:
        yield admin
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def preview(page: Page) -> Frame:
    frame = page.frame(name="preview-frame")
    assert frame is not None
    return frame


def write_letter(page: Page, live: Admin, subject: str) -> None:
    page.goto(f"{live.base_url}/admin/campaigns/new?kind=solidarity-letter")
    page.check("#list-partners")
    page.fill("#subject", subject)


def campaign_ids(live: Admin) -> list[int]:
    with session_scope(live.engine, write=False) as session:
        return [c.id for c in session.query(Campaign).order_by(Campaign.id)]


def body_of(live: Admin, campaign_id: int) -> str:
    with session_scope(live.engine, write=False) as session:
        return session.get(Campaign, campaign_id).body  # type: ignore[union-attr]


def test_an_editor_writes_previews_and_tests_then_an_admin_schedules_and_sends(
    browser: Browser, live: Admin, smtp: RecordingSmtpServer, request: pytest.FixtureRequest
) -> None:
    database = request.node.callspec.params["database_url"]
    live.create(EDITOR, Role.EDITOR, name="Edith")
    live.create(ADMIN, Role.ADMIN, name="Adam")
    partners(live, **PEOPLE)
    dialogs: list[str] = []
    context = browser.new_context(viewport=DESKTOP)
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        log_in(page, live, EDITOR)
        write_letter(page, live, "Standing with the weavers")
        page.click("#body")
        page.keyboard.type("Dear {{ subscriber.name }}, the looms kept turning.")
        preview(page).get_by_text("Dear Lucía Quispe, the looms kept turning.").wait_for()
        page.keyboard.type(" All winter long.")
        preview(page).get_by_text("the looms kept turning. All winter long.").wait_for()
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        page.click("[data-markdown=bold]")
        assert "**bold**" in page.input_value("#body")
        preview(page).locator("strong", has_text="bold").wait_for()
        page.keyboard.press("End")
        page.keyboard.type("\n\n{{ meta.nowhere }}")
        page.locator("#content-problem").get_by_text("nowhere").wait_for()
        assert page.get_attribute("#body", "aria-invalid") == "true"
        assert page.input_value("#body").count("\n") == 4
        page.locator("#content-problem", has_text="5:").wait_for()  # its line
        body = page.input_value("#body").replace("\n\n{{ meta.nowhere }}", "")
        page.fill("#body", body)
        page.locator("#content-problem").wait_for(state="hidden")
        page.check("#view-mobile")
        assert page.locator("#preview-frame").bounding_box()["width"] == 375  # type: ignore[index]
        checked(page, f"studio-editor-{database}")
        page.check("#view-desktop")
        page.locator("#save-status").get_by_text("Saved at").wait_for()  # the draft exists
        letter = campaign_ids(live)[-1]
        page.click("form#studio button[type=submit]:not([formaction])")
        page.wait_for_url(f"**/admin/campaigns/{letter}?done=saved")  # that draft, edited
        assert campaign_ids(live) == [letter]
        page.fill("#to", f"{EDITOR}, desk@unit.example.org")
        page.click(f"form[action='/admin/campaigns/{letter}/test'] button")
        page.wait_for_url("**done=test_sent")
        received = smtp.wait_for(2)
        assert all(b"Subject: [Test] Standing with the weavers" in m.data for m in received)
        assert page.locator(f"form[action='/admin/campaigns/{letter}/schedule']").count() == 0
        checked(page, f"studio-campaign-editor-{database}")

        write_letter(page, live, "Hostile content")
        page.fill("#body", HOSTILE)
        preview(page).get_by_text("after.").wait_for()
        from playwright.sync_api import expect  # where the browser fixture found it

        shown = preview(page)
        expect(shown.get_by_text("<script>alert('script')</script>")).to_have_count(1)  # text
        page.check("#format-html")  # now as markup, through the sanitiser
        expect(shown.get_by_text("alert('script')")).to_have_count(0)
        for hostile in ("script", "[onerror]", "a[href^='javascript:']"):
            assert shown.locator(hostile).count() == 0, hostile
        links = preview(page).locator("a", has_text="a harmless-looking link")
        if links.count():
            links.first.click()
        checked(page, f"studio-hostile-{database}")
    finally:
        context.close()
    assert dialogs == []

    context = browser.new_context(viewport=PHONE)
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        log_in(page, live, ADMIN)
        page.goto(f"{live.base_url}/admin/campaigns/{letter}")
        page.fill("#at", "2030-03-02T09:30")
        page.click(f"form[action='/admin/campaigns/{letter}/schedule'] button")
        page.wait_for_url("**done=scheduled")
        assert "Europe/Madrid" in page.inner_text("main")
        checked(page, f"studio-scheduled-375-{database}")
        with session_scope(live.engine, write=False) as session:
            assert session.get(Campaign, letter).status is CampaignStatus.SCHEDULED  # type: ignore[union-attr]

        write_letter(page, live, "News for every partner, now")
        page.fill("#body", "Three partners get this at once.")
        page.locator("#save-status").get_by_text("Saved at").wait_for()
        now = campaign_ids(live)[-1]
        page.click("form#studio button[type=submit]:not([formaction])")
        page.wait_for_url(f"**/admin/campaigns/{now}?done=saved")
        page.click(f"a[href='/admin/campaigns/{now}/send']")
        checked(page, f"studio-confirm-375-{database}")
        page.get_by_role("button", name="Send to 3 subscribers now").click()
        page.wait_for_url(f"**/admin/campaigns/{now}/progress?done=queued")
        assert page.inner_text("[data-value=queued]") == "3"
        worker = make_worker(
            engine=live.engine,
            settings=live.settings,
            concurrency=1,
            campaign_ids=(now,),
            until_done=True,
        )
        sending = threading.Thread(target=worker.run)
        sending.start()
        sending.join(30)
        page.locator("[data-value=sent]", has_text="3").wait_for()
        page.locator(".badge.sent").wait_for()
        assert page.inner_text("[data-value=total]") == "3"
        checked(page, f"studio-progress-375-{database}")
    finally:
        context.close()
    assert len(smtp.wait_for(5)) == 5


def test_a_new_campaign_saves_itself_once_then_edits_the_draft_it_made(
    browser: Browser, live: Admin, request: pytest.FixtureRequest
) -> None:
    database = request.node.callspec.params["database_url"]
    live.create(EDITOR, Role.EDITOR)
    partners(live, **PEOPLE)
    posts: list[str] = []
    context = browser.new_context(viewport=DESKTOP)
    try:
        context.set_default_timeout(20_000)
        page = context.new_page()
        log_in(page, live, EDITOR)
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(f"{live.base_url}/admin/campaigns/new?kind=solidarity-letter")
        status = page.locator("#save-status")
        assert status.is_hidden()  # nothing said before anything is typed
        page.click("#body")
        page.keyboard.type("Dear {{ subscriber.name }}, the looms kept turning.")
        status.get_by_text("Not saved: Choose at least one list.").wait_for()  # the server's words
        page.check("#list-partners")
        status.get_by_text("Not saved: Write a subject").wait_for()
        assert campaign_ids(live) == []
        page.click("#subject")
        page.keyboard.type("Standing with the weavers")
        status.get_by_text("Saved at").wait_for()
        (letter,) = campaign_ids(live)
        assert body_of(live, letter) == "Dear {{ subscriber.name }}, the looms kept turning."
        editor = f"/admin/campaigns/{letter}/edit"
        assert page.url == live.base_url + editor
        assert page.get_attribute("form#studio", "action") == editor
        checked(page, f"studio-new-autosaved-{database}")

        page.click("#body")
        page.keyboard.press("Control+End")
        with page.expect_response(lambda r: r.url.endswith(editor) and r.ok):  # the second save
            page.keyboard.type(" All winter long.")
        status.get_by_text("Saved at").wait_for()
        assert campaign_ids(live) == [letter]
        assert body_of(live, letter).endswith("kept turning. All winter long.")
        creating = [url for url in posts if url == f"{live.base_url}/admin/campaigns"]
        assert len(creating) == 3  # no list, no subject, then the draft; never again

        # Save pressed while the first save of another new campaign is on its way: it
        # waits for that save, then edits the draft it made.
        subject = "News from the looms"
        held: list[Route] = []

        def first_save(request: Request) -> bool:
            return (
                request.method == "POST"
                and request.url.endswith("/admin/campaigns")
                and request.headers.get("x-requested-with") == "fetch"
                and subject in (request.post_data or "")
            )

        page.route(
            "**/admin/campaigns",
            lambda route: held.append(route) if first_save(route.request) else route.fallback(),
        )
        page.goto(f"{live.base_url}/admin/campaigns/new?kind=solidarity-letter")
        page.fill("#body", "Written in one go.")
        page.check("#list-partners")
        with page.expect_request(first_save):
            page.fill("#subject", subject)  # now the form makes a draft
        page.click("form#studio button[type=submit]:not([formaction])")
        assert page.url.endswith("/admin/campaigns/new?kind=solidarity-letter")  # Save waits
        (creation,) = held
        creation.continue_()
        page.wait_for_url("**done=saved")
        other = campaign_ids(live)[-1]
        assert campaign_ids(live) == [letter, other]
        assert page.url == f"{live.base_url}/admin/campaigns/{other}?done=saved"
        assert body_of(live, other) == "Written in one go."
    finally:
        context.close()


def test_the_editor_works_without_javascript(browser: Browser, live: Admin) -> None:
    live.create(EDITOR, Role.EDITOR)
    partners(live, **PEOPLE)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        log_in(page, live, EDITOR)
        write_letter(page, live, "Written without a script")
        assert page.locator("[data-toolbar]").is_hidden()
        page.fill("#body", "Dear {{ subscriber.name }}, plain and simple.")
        page.click("[data-preview-button]")
        preview(page).get_by_text("Dear Lucía Quispe, plain and simple.").wait_for()
        page.check("#view-text")
        page.click("[data-preview-button]")
        preview(page).locator("pre", has_text="plain and simple.").wait_for()
        checked(page, "studio-editor-nojs-375")
        page.click("form#studio button[type=submit]:not([formaction])")
        page.wait_for_url("**done=campaign_created")
    finally:
        context.close()
