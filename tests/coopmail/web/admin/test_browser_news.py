# ruff: noqa: RUF001 - the French words are written with their typographic apostrophe
"""News and the digest in headless Chromium against a real uvicorn server: staff add an
item, import the seed listing (whose items have no link), see them flagged, give one its
link, and set up the monthly digest; in English and in French, kept as screenshots in
test-artifacts/admin/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from campaigns.models import Digest
from campaigns.news import NewsItem
from coopmail.db import session_scope
from coopmail.staff.roles import Role
from subscribers.lists import create_list
from tests.campaigns.test_news import SEED
from tests.coopmail.web.admin.conftest import Admin
from tests.coopmail.web.admin.test_browser_admin import DESKTOP, PHONE, checked, live, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["live"]  # the server fixture, shared with the other browser tests

ADDED = {"en": "The news item is added.", "fr": "L’actualité est ajoutée."}
IMPORTED = {"en": "10 added, 0 updated", "fr": "10 ajoutées, 0 mises à jour"}
SAVED = {"en": "The digest is set up.", "fr": "La lettre mensuelle est configurée."}


@pytest.mark.parametrize(("language", "viewport"), [("en", "desktop"), ("fr", "phone")])
def test_staff_add_and_import_news_see_missing_links_and_set_up_the_digest(
    browser: Browser,
    live: Admin,
    seeds: Path,
    request: pytest.FixtureRequest,
    language: str,
    viewport: str,
) -> None:
    tag = f"{language}-{viewport}-{request.node.callspec.params['database_url']}"
    live.create("ana@unit.example.org", Role.ADMIN, language=language, name="Ana")
    with session_scope(live.engine) as session:
        create_list(session, name="partners", title="Letters to partners")
    context = browser.new_context(viewport=PHONE if viewport == "phone" else DESKTOP)
    try:
        context.set_default_timeout(20_000)
        page = context.new_page()
        log_in(page, live, "ana@unit.example.org")
        page.click("nav a[href='/admin/news']")
        page.wait_for_url("**/admin/news")
        checked(page, f"news-empty-{tag}")

        page.fill("#title", "Solar villages light up")
        page.fill("#date", "2022-04-20")
        page.fill("#link", "https://coop.example.org/news/solar")
        page.fill("#summary", "Five cooperatives now serve forty villages.")
        page.click("form[method=post][action='/admin/news'] button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/news/\d+\?done=news_added$"))
        assert ADDED[language] in page.inner_text("main")

        page.click("a[href^='/admin/news?month=']")
        page.set_input_files("#file", str(seeds / SEED))  # the listing is the default kind
        page.click("form[action='/admin/news/import'] button[type=submit]")
        page.wait_for_load_state()
        assert IMPORTED[language] in page.inner_text("[role=status]")
        flags = page.locator("td .badge.failed")
        assert flags.count() == 10  # the listing's items: no link, no "read more"
        assert page.locator("#without-link").is_visible()
        checked(page, f"news-imported-{tag}")

        # Give the first flagged item its link: its flag goes.
        page.locator("tr:has(td .badge.failed) th a").first.click()
        page.wait_for_url(re.compile(r"/admin/news/\d+$"))
        assert page.locator("#without-link").is_visible()
        checked(page, f"news-item-{tag}")
        page.fill("#link", "https://coop.example.org/news/first")
        page.click("form[action^='/admin/news/'] button[type=submit]:not(.danger)")
        page.wait_for_url(re.compile(r"/admin/news/\d+\?done=news_saved$"))
        assert page.locator("#without-link").count() == 0
        page.goto(f"{live.base_url}/admin/news")
        assert page.locator("td .badge.failed").count() == 9

        page.click("a[href='/admin/news/digest']")
        page.wait_for_url("**/admin/news/digest")
        page.select_option("#list", "partners")
        page.fill("#cron", "0 9 1 * *")
        page.check("#mode-draft")
        page.click("form[action='/admin/news/digest'] button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/news/digest\?done=digest_saved$"))
        assert SAVED[language] in page.inner_text("main")
        assert "0 9 1 * *" in page.inner_text("main")
        page.fill("#month", "2022-11")
        page.click("form[method=get][action^='/admin/news/digest'] button")
        page.wait_for_url(re.compile(r"/admin/news/digest\?month=2022-11"))
        assert page.locator("#month-error").is_visible()  # no news that month: which have some
        assert "2022" in page.inner_text("#month-error")
        checked(page, f"digest-{tag}")
    finally:
        context.close()
    with session_scope(live.engine, write=False) as session:
        digest = session.scalars(select(Digest)).one()
        assert (digest.cron, digest.auto_send) == ("0 9 1 * *", False)
        linked = session.scalars(select(NewsItem).where(NewsItem.link.is_not(None))).all()
        assert len(linked) == 2
