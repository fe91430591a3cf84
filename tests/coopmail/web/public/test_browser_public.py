"""A partner's journey in headless Chromium against a real uvicorn server and SMTP server.

Subscribe → the confirmation mail arrives → open its link → confirm → the welcome mail
arrives → unsubscribe from the page; with JavaScript off, at 375 px, nothing fetched from
elsewhere, screenshots kept in test-artifacts/web/. And a mail program's one-click POST,
without cookies, over the wire.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.links import Links
from coopmail.web import WebContext, create_app
from subscribers.models import ConsentSource, MailingList, SubscriptionStatus
from subscribers.people import subscribe
from tests.coopmail.web.public.test_public import (
    KEY,
    Site,
    add_lists,
    link_in,
    make_settings,
)
from tests.smtp_server import RecordingSmtpServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request

ROOT = Path(__file__).resolve().parents[4]
ARTIFACTS = ROOT / "test-artifacts" / "web"
PHONE = {"width": 375, "height": 740}
ADDRESS = "lucia@andes-tejedoras.example.org"


@dataclass
class LiveSite:
    base_url: str
    site: Site


@pytest.fixture
def live(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[LiveSite]:
    with serving_live(engine, database_url, tmp_path) as site:
        yield site


@contextmanager
def serving_live(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[LiveSite]:
    """uvicorn on 127.0.0.1, on a port the OS chose, in a thread; the base URL of the links
    in mail is that address, so the confirmation link can be followed as it is."""
    add_lists(engine)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with RecordingSmtpServer() as smtp:
        settings = make_settings(
            database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url, COOPMAIL_BASE_URL=base_url
        )
        app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("the web server did not start", pytrace=False)
            time.sleep(0.01)
        site = Site(engine=engine, settings=settings, smtp=smtp, client=TestClient(app))
        try:
            yield LiveSite(base_url=base_url, site=site)
        finally:
            server.should_exit = True
            thread.join(10)
            listener.close()


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


# What a page must get right for everyone: text at WCAG AA contrast, every control labelled,
# no horizontal scrolling.
PROBE = """() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    const [r, g, b, a] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r, g, b, a: a === undefined ? 1 : a};
  };
  const luminance = ({r, g, b}) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const problems = [];
  for (const element of document.body.querySelectorAll('*')) {
    const text = [...element.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join('').trim();
    if (!text || !element.checkVisibility({opacityProperty: true, visibilityProperty: true})) {
      continue;
    }
    const style = getComputedStyle(element);
    const [hi, lo] = [luminance(parse(style.color)), luminance(background(element))]
      .sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}: ${text}`);
  }
  for (const control of document.querySelectorAll('input:not([type=hidden]), select')) {
    if (!control.labels || control.labels.length === 0) problems.push(`no label: ${control.id}`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth) problems.push('scrolls sideways');
  return problems;
}"""


def accessibility_problems(page: Page) -> list[str]:
    problems: list[str] = page.evaluate(PROBE)
    return problems


def focus_is_visible(page: Page) -> bool:
    """Tab to the first control: the focused element draws an outline."""
    page.keyboard.press("Tab")
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    return bool(style[0] != "none" and style[1] != "0px")


def test_subscribe_confirm_welcome_and_unsubscribe_in_a_browser(
    browser: Browser, live: LiveSite, request: pytest.FixtureRequest
) -> None:
    database = request.node.callspec.params["database_url"]
    requested: list[str] = []
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()

        def note(sent: Request) -> None:
            requested.append(sent.url)

        page.on("request", note)

        page.goto(f"{live.base_url}/subscribe")
        assert page.get_attribute("html", "lang") == "en"
        assert accessibility_problems(page) == []
        assert focus_is_visible(page)
        shoot(page, f"subscribe-375-{database}")
        page.get_by_label("Email address").fill(ADDRESS)
        page.get_by_label("Name (optional)").fill("Lucía Quispe")
        page.get_by_label("Letters to partners").check()
        page.get_by_label("I agree that").check()
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Please check your inbox").wait_for()
        assert accessibility_problems(page) == []
        shoot(page, f"check-inbox-375-{database}")
        assert live.site.status(ADDRESS, "partners") is SubscriptionStatus.UNCONFIRMED

        (confirmation,) = live.site.smtp.wait_for(1)
        assert confirmation.recipients == (ADDRESS,)
        page.goto(live.base_url + link_in(confirmation.data, "/confirm/", base_url=live.base_url))
        page.get_by_role("heading", name="Confirm your subscription").wait_for()
        assert accessibility_problems(page) == []
        shoot(page, f"confirm-375-{database}")
        assert live.site.status(ADDRESS, "partners") is SubscriptionStatus.UNCONFIRMED
        page.get_by_role("button", name="Confirm my subscription").click()
        page.get_by_role("heading", name="Your subscription is confirmed").wait_for()
        shoot(page, f"confirmed-375-{database}")
        assert live.site.status(ADDRESS, "partners") is SubscriptionStatus.CONFIRMED

        welcome = live.site.smtp.wait_for(2)[1]
        assert welcome.recipients == (ADDRESS,)
        assert b"Subject: Welcome to the news" in welcome.data

        subscriber = live.site.subscriber(ADDRESS)
        assert subscriber is not None
        links = Links(base_url=live.base_url, key=KEY.encode(), campaign_id=1)
        token = links.unsubscribe_token(
            subscriber_id=subscriber.id, list_id=live.site.list_id("partners")
        )
        page.goto(links.unsubscribe(token=token))
        page.get_by_role("heading", name="Unsubscribe").wait_for()
        assert live.site.status(ADDRESS, "partners") is SubscriptionStatus.CONFIRMED
        shoot(page, f"unsubscribe-375-{database}")
        page.get_by_role("button", name="Unsubscribe from this list").click()
        page.get_by_role("heading", name="You have been unsubscribed").wait_for()
        assert accessibility_problems(page) == []
        shoot(page, f"unsubscribed-375-{database}")
        assert live.site.status(ADDRESS, "partners") is SubscriptionStatus.UNSUBSCRIBED

        page.goto(links.preferences(subscriber_id=subscriber.id) + "?lang=fr")
        page.get_by_role("heading", name="Vos préférences").wait_for()
        assert accessibility_problems(page) == []
        shoot(page, f"preferences-fr-375-{database}")
        page.set_viewport_size({"width": 1024, "height": 800})
        page.goto(f"{live.base_url}/subscribe?lang=es")
        shoot(page, f"subscribe-es-1024-{database}")
    finally:
        context.close()
    assert requested
    assert all(url.startswith(live.base_url + "/") for url in requested), requested
    assert len(live.site.smtp.messages) == 2  # the confirmation and the welcome, no more


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_one_click_post_without_cookies_unsubscribes_over_the_wire(
    playwright: Playwright, live: LiveSite, encoding: str
) -> None:
    with Session(live.site.engine) as session:
        partners = session.scalars(select(MailingList).filter_by(name="partners")).one()
        subscribed = subscribe(
            session,
            email=ADDRESS,
            mailing_list=partners,
            source=ConsentSource.STAFF,
            wording="on request",
            status=SubscriptionStatus.CONFIRMED,
        )
        session.commit()
        subscriber_id, list_id = subscribed.subscriber.id, partners.id
    links = Links(base_url=live.base_url, key=KEY.encode(), campaign_id=3)
    url = links.unsubscribe(
        token=links.unsubscribe_token(subscriber_id=subscriber_id, list_id=list_id)
    )
    for _ in range(2):  # idempotent: the second POST answers the same
        mail_program = playwright.request.new_context()  # no cookies, no script
        try:
            if encoding == "multipart":
                answer = mail_program.post(
                    url, multipart={"List-Unsubscribe": "One-Click"}, max_redirects=0
                )
            else:
                answer = mail_program.post(
                    url, form={"List-Unsubscribe": "One-Click"}, max_redirects=0
                )
            assert answer.status == 200
            assert "location" not in answer.headers
            assert "You have been unsubscribed" in answer.text()
        finally:
            mail_program.dispose()
    assert live.site.status(ADDRESS, "partners") is SubscriptionStatus.UNSUBSCRIBED
