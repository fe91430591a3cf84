"""The public archive in headless Chromium: a visitor reads the list and opens a
campaign whose content tries <script>, onerror= and javascript:; nothing runs (no
dialog, no error), the page is accessible and has no one's data; screenshots in
test-artifacts/archive/."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from coopmail.db import session_scope
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from tests.coopmail.web.admin.conftest import Admin
from tests.coopmail.web.admin.test_browser_admin import (
    DESKTOP,
    PHONE,
    ROOT,
    live,  # noqa: F401 - the fixture, used by name
)
from tests.coopmail.web.public.test_archive_pages import publish
from tests.coopmail.web.public.test_archive_versions import publish as publish_versions
from tests.coopmail.web.public.test_browser_public import accessibility_problems

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ARTIFACTS = ROOT / "test-artifacts" / "archive"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_visitor_reads_the_archive_and_nothing_in_it_runs(
    browser: Browser,
    live: Admin,  # noqa: F811 - the fixture imported above
    viewport: str,
    request: pytest.FixtureRequest,
) -> None:
    tag = f"{viewport}-{request.node.callspec.params['database_url']}"
    with session_scope(live.engine) as session:
        partners = create_list(session, name="partners", title="Partners", public=True)
        subscribe(
            session,
            email="amara@coop.example.org",
            mailing_list=partners,
            source=ConsentSource.STAFF,
            wording="asked",
            status=SubscriptionStatus.CONFIRMED,
            name="Amara Diallo",
        )
    publish(live, "Harvest news", day=1)
    publish(live, "Assembly news", day=20)
    context = browser.new_context(viewport=PHONE if viewport == "phone" else DESKTOP)
    dialogs: list[str] = []
    errors: list[str] = []
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()

        def dialog(opened) -> None:  # type: ignore[no-untyped-def]
            dialogs.append(opened.message)
            opened.dismiss()

        page.on("dialog", dialog)
        # Console errors, but for the 404 of the browser's own favicon request, seen below.
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live.base_url}/archive")
        assert page.get_attribute("html", "lang") == "en"
        assert accessibility_problems(page) == []
        titles = page.locator("ol.archive a").all_inner_texts()
        assert titles == ["Assembly news", "Harvest news"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"archive-{tag}.png", full_page=True)

        page.click("text=Harvest news")
        page.wait_for_url("**/archive/*-harvest-news")
        text = page.inner_text("body")
        assert "Dear colleague" in text
        assert '<script>alert("script")</script>' in text  # shown as words, not run
        assert "Amara" not in page.content()
        leave = page.get_attribute("a:text('Leave')", "href")
        assert leave == f"{live.base_url}/subscribe"
        for link in page.locator("a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith("javascript:"), href
        page.screenshot(path=ARTIFACTS / f"campaign-{tag}.png", full_page=True)
        page.goto(f"{live.base_url}/archive/feed.xml")
        assert dialogs == []
        assert errors == []
    finally:
        context.close()


def test_a_visitor_moves_between_the_language_versions(
    browser: Browser,
    live: Admin,  # noqa: F811 - the fixture imported above
) -> None:
    with session_scope(live.engine) as session:
        create_list(session, name="partners", title="Partners", public=True)
    campaign_id = publish_versions(live.engine)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        # The index, in French from the browser's language, offers the French version first.
        page.goto(f"{live.base_url}/archive")
        assert page.get_attribute("html", "lang") == "fr"
        assert page.locator("ol.archive li > a").all_inner_texts() == ["Nouvelles de la récolte"]
        assert accessibility_problems(page) == []
        page.click("ol.archive a[hreflang='es']")
        page.wait_for_url(f"**/archive/{campaign_id}-harvest-news/es")
        assert "Nuestra cosecha fue buena." in page.inner_text("body")
        hreflangs = page.eval_on_selector_all(
            "head link[rel='alternate']", "links => links.map(l => l.hreflang).sort()"
        )
        assert hreflangs == ["en", "es", "fr"]
        nav = page.locator("nav a")
        assert sorted(nav.all_inner_texts()) == ["English", "Français"]
        page.click("nav a[hreflang='en']")
        page.wait_for_url(f"**/archive/{campaign_id}-harvest-news")
        assert "Our harvest was good." in page.inner_text("body")
        assert page.locator("nav [aria-current='page']").inner_text() == "English"
        page.click("nav a[hreflang='fr']")
        page.wait_for_url(f"**/archive/{campaign_id}-harvest-news/fr")
        assert "Notre récolte a été bonne." in page.inner_text("body")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "version-fr.png", full_page=True)
    finally:
        context.close()
