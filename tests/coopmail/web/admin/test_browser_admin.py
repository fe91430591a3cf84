"""A staff member's first hour in headless Chromium (Debian's), against a real uvicorn
server: log in, create a list, find a partner, open their page, unsubscribe them, erase
another; in English, French and Spanish, on a desktop and a 375 px phone; every page at
WCAG AA contrast, labelled, without sideways scrolling; screenshots in
test-artifacts/admin/. The same with JavaScript off, and a subscriber whose name is a
script that never runs."""

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

from coopmail.db import session_scope
from coopmail.staff.roles import Role
from subscribers.base import utcnow
from subscribers.lists import create_list, get_list
from subscribers.models import ConsentSource, Subscriber, SubscriptionStatus
from subscribers.people import find_subscriber, subscribe
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import PASSWORD, Admin, make_admin
from tests.coopmail.web.public.test_browser_public import accessibility_problems, focus_is_visible

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[4]
ARTIFACTS = ROOT / "test-artifacts" / "admin"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
LUCIA = "lucia@andes-tejedoras.example.org"
PEDRO = "pedro@cooperativa-sur.example.org"


@pytest.fixture
def live(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Admin]:
    """uvicorn on 127.0.0.1 on a port the OS chose, in a thread, on the real clock."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    admin = make_admin(engine, database_url, tmp_path, Clock(), base_url=base_url)
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


def partners(admin: Admin, **names: str) -> None:
    with session_scope(admin.engine) as session:
        letters = create_list(session, name="partners", title="Letters to partners")
        for email, name in names.items():
            subscribe(
                session,
                email=email,
                mailing_list=letters,
                source=ConsentSource.FORM,
                wording="ticked the box",
                status=SubscriptionStatus.CONFIRMED,
                name=name,
                attributes={"country": "Peru"},
            )


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def checked(page: Page, name: str) -> None:
    """The page is accessible as every page must be, and kept as a screenshot."""
    assert page.get_attribute("html", "lang")
    problems = accessibility_problems(page)
    assert problems == [], name
    shoot(page, name)


def log_in(page: Page, admin: Admin, email: str) -> None:
    page.goto(f"{admin.base_url}/admin/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/admin/login'] button[type=submit]")
    page.wait_for_url(f"{admin.base_url}/admin/")


WORDS = {
    "en": {"dashboard": "Dashboard", "created": "The list is created.", "erased": "is erased"},
    "fr": {
        "dashboard": "Tableau de bord",
        "created": "La liste est créée.",
        "erased": "est effacé",
    },
    "es": {"dashboard": "Panel", "created": "La lista está creada.", "erased": "Se ha borrado"},
}


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("en", "desktop"), ("fr", "phone"), ("es", "desktop")],
)
def test_a_staff_member_finds_a_partner_unsubscribes_them_and_erases_another(
    browser: Browser,
    live: Admin,
    request: pytest.FixtureRequest,
    language: str,
    viewport: str,
) -> None:
    database = request.node.callspec.params["database_url"]
    tag = f"{language}-{viewport}-{database}"
    words = WORDS[language]
    live.create("ana@unit.example.org", Role.ADMIN, language=language, name="Ana")
    partners(live, **{LUCIA: "Lucía Quispe", PEDRO: "Pedro Ruiz"})
    requested: list[str] = []
    context = browser.new_context(viewport=PHONE if viewport == "phone" else DESKTOP)
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("request", lambda sent: requested.append(sent.url))
        page.goto(f"{live.base_url}/admin/lists")
        assert page.url.startswith(f"{live.base_url}/admin/login?next=/admin/lists")
        checked(page, f"login-{tag}")
        assert focus_is_visible(page)
        log_in(page, live, "ana@unit.example.org")
        page.get_by_role("heading", name=words["dashboard"], exact=True).wait_for()
        assert page.get_attribute("html", "lang") == language
        checked(page, f"dashboard-{tag}")

        page.goto(f"{live.base_url}/admin/lists")
        page.fill("#name", "partners-fr")
        page.fill("#title", "Lettres aux partenaires")
        page.check("#opt-in-double")
        page.check("#public")
        page.click("form[action='/admin/lists'] button[type=submit]")
        page.get_by_text(words["created"]).wait_for()
        checked(page, f"list-created-{tag}")

        page.goto(f"{live.base_url}/admin/subscribers")
        page.fill("#q", "quispe")
        page.click("form[role=search] button[type=submit]")
        page.get_by_role("link", name=LUCIA).click()
        page.get_by_role("heading", name="Lucía Quispe").wait_for()
        checked(page, f"person-{tag}")
        page.click("form[action$='/unsubscribe'] input[value=partners] ~ button")
        page.wait_for_url("**done=unsubscribed")
        checked(page, f"unsubscribed-{tag}")
        with session_scope(live.engine, write=False) as session:
            lucia = find_subscriber(session, email=LUCIA)
            assert lucia is not None
            assert [s.status for s in lucia.subscriptions] == [SubscriptionStatus.UNSUBSCRIBED]

        page.goto(f"{live.base_url}/admin/subscribers?q=pedro")
        page.get_by_role("link", name=PEDRO).click()
        page.click("a[href$='/erase']")
        checked(page, f"erase-{tag}")
        page.fill("#confirm", PEDRO)
        page.click("form[action$='/erase'] button[type=submit]")
        page.wait_for_url("**/admin/subscribers?done=erased")
        assert words["erased"] in page.inner_text("main")
        checked(page, f"erased-{tag}")
        with session_scope(live.engine, write=False) as session:
            assert find_subscriber(session, email=PEDRO) is None
            assert get_list(session, name="partners-fr").is_public
    finally:
        context.close()
    assert all(url.startswith(live.base_url + "/") for url in requested), requested


def test_every_basic_action_works_without_javascript(browser: Browser, live: Admin) -> None:
    live.create("olga@unit.example.org", Role.OWNER)
    partners(live, **{LUCIA: "Lucía Quispe"})
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        log_in(page, live, "olga@unit.example.org")
        page.goto(f"{live.base_url}/admin/subscribers?q=lucia")
        page.get_by_role("link", name=LUCIA).click()
        # Without the script, "unsubscribe from every list" asks no question: it just works.
        page.click("form[action$='/unsubscribe']:not(:has(input[name=list])) button")
        page.wait_for_url("**done=unsubscribed")
        page.goto(f"{live.base_url}/admin/apikeys")
        page.fill("#name", "website-form")
        page.click("form[action='/admin/apikeys'] button[type=submit]")
        assert page.inner_text("#new-token").startswith("cm_")
        checked(page, "apikey-created-nojs-375")
        page.goto(f"{live.base_url}/admin/staff")
        checked(page, "staff-nojs-375")
        page.goto(f"{live.base_url}/admin/audit")
        checked(page, "audit-nojs-375")
        page.goto(f"{live.base_url}/admin/settings")
        checked(page, "settings-nojs-375")
        page.goto(f"{live.base_url}/admin/account")
        page.click("form[action='/admin/account/second-factor/start'] button")
        assert page.locator("svg.qr").count() == 1
        checked(page, "second-factor-nojs-375")
        page.goto(f"{live.base_url}/admin/logout")
        page.click("main form[action='/admin/logout'] button")
        page.wait_for_url("**/admin/login?done=logged_out")
    finally:
        context.close()
    with session_scope(live.engine, write=False) as session:
        lucia = find_subscriber(session, email=LUCIA)
        assert lucia is not None
        assert [s.status for s in lucia.subscriptions] == [SubscriptionStatus.UNSUBSCRIBED]


def test_a_subscriber_named_like_a_script_never_runs_in_the_admin(
    browser: Browser, live: Admin
) -> None:
    live.create("olga@unit.example.org", Role.OWNER)
    name = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
    partners(live, **{LUCIA: name})
    with session_scope(live.engine) as session:
        lucia = find_subscriber(session, email=LUCIA)
        assert isinstance(lucia, Subscriber)
        lucia.attributes = {"<b>org</b>": name}
    context = browser.new_context(viewport=DESKTOP)
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        log_in(page, live, "olga@unit.example.org")
        for path in ["/admin/", "/admin/subscribers", "/admin/subscribers?q=lucia"]:
            page.goto(live.base_url + path)
            assert page.evaluate("window.__xss === undefined")
        page.get_by_role("link", name=LUCIA).first.click()
        assert page.evaluate("window.__xss === undefined")
        assert page.locator("h1").inner_text() == name  # shown as the text it is
        assert name in page.inner_text("dl.facts")
        page.click("a[href$='/erase']")
        assert page.evaluate("window.__xss === undefined")
        shoot(page, "xss-erase-page")
    finally:
        context.close()
    assert dialogs == []
