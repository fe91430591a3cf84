"""Imports and bulk actions in headless Chromium against a real uvicorn server with the
jobs runner of `coopmail serve` beside it: a file with bad rows uploaded, mapped and
imported while the bar moves, its rejects downloaded and read; a search, a selection
unsubscribed in bulk; in English and in Spanish or French, kept as screenshots in
test-artifacts/admin/."""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from coopmail.db import session_scope
from coopmail.jobs.runner import JobRunner
from coopmail.jobs.work import WORK
from coopmail.staff.roles import Role
from subscribers.lists import create_list
from subscribers.models import SubscriptionStatus
from subscribers.people import find_subscriber
from tests.coopmail.web.admin.conftest import Admin
from tests.coopmail.web.admin.test_browser_admin import (
    DESKTOP,
    LUCIA,
    PEDRO,
    PHONE,
    checked,
    live,
    log_in,
    partners,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["live"]  # the server fixture, shared with the other browser tests

FINISHED = {"en": "Finished", "fr": "Terminé", "es": "Terminado"}
PEOPLE = {"en": "2 people", "fr": "2 personnes", "es": "2 personas"}
ROWS = [
    "Correo,Nombre,Idioma,País",
    "amara@lagos-weavers.example.org,Amara Obi,en,Nigeria",
    "not-an-address,Somebody,es,Peru",
    "kofi@accra-cocoa.example.org,Kofi Mensah,en,Ghana",
    "rosa@@cusco.example.org,Rosa Mamani,es,Peru",
] + [f"partner{n}@coop{n % 7}.example.org,Partner {n},fr,Senegal" for n in range(3000)]


@pytest.fixture
def jobs(live: Admin) -> Iterator[JobRunner]:
    """The jobs runner, as `coopmail serve` starts it, on the live server's database."""
    runner = JobRunner(engine=live.engine, work=WORK, stop=threading.Event(), poll=0.2)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop.set()
        runner.join(timeout=30)


@pytest.mark.parametrize(("language", "viewport"), [("en", "desktop"), ("es", "phone")])
def test_a_staff_member_imports_a_file_and_downloads_its_rejects(
    browser: Browser,
    live: Admin,
    jobs: JobRunner,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    language: str,
    viewport: str,
) -> None:
    tag = f"{language}-{viewport}-{request.node.callspec.params['database_url']}"
    live.create("ana@unit.example.org", Role.ADMIN, language=language, name="Ana")
    with session_scope(live.engine) as session:
        create_list(session, name="partners", title="Letters to partners")
    upload = tmp_path / "socios.csv"
    upload.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    context = browser.new_context(
        viewport=PHONE if viewport == "phone" else DESKTOP, accept_downloads=True
    )
    try:
        context.set_default_timeout(20_000)
        page = context.new_page()
        log_in(page, live, "ana@unit.example.org")
        page.goto(f"{live.base_url}/admin/imports")
        checked(page, f"imports-{tag}")
        page.set_input_files("#file", str(upload))
        page.click("form[action='/admin/imports'] button[type=submit]")
        page.wait_for_url("**/admin/imports/*")
        assert page.input_value("#column-0") == "email"  # guessed from "Correo"
        assert page.input_value("#column-3") == "attribute"
        assert "Amara Obi" in page.inner_text("main")
        page.select_option("#list", "partners")
        page.fill("#consent", "Signed up on paper at the weavers' assembly")
        checked(page, f"import-map-{tag}")
        page.click("form[action^='/admin/imports/'] button[type=submit]")
        page.wait_for_url("**/admin/jobs/*")
        page.locator(".badge.done").wait_for()  # the page reloads itself at the end
        assert FINISHED[language] in page.inner_text("main")
        assert page.get_attribute("#job-progress", "value") == "100"
        checked(page, f"import-done-{tag}")
        with page.expect_download() as downloading:
            page.click("a[href$='/rejects']")
        saved = tmp_path / "rejects.csv"
        downloading.value.save_as(saved)
    finally:
        context.close()
    with saved.open(encoding="utf-8", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert rejects[0] == ["line", "reason", "Correo", "Nombre", "Idioma", "País"]
    assert [(row[0], row[2]) for row in rejects[1:]] == [
        ("3", "not-an-address"),
        ("5", "rosa@@cusco.example.org"),
    ]
    with session_scope(live.engine, write=False) as session:
        kofi = find_subscriber(session, email="kofi@accra-cocoa.example.org")
        assert kofi is not None and kofi.attributes == {"País": "Ghana"}
        assert find_subscriber(session, email="partner2999@coop3.example.org") is not None


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_staff_member_searches_and_unsubscribes_a_selection(
    browser: Browser,
    live: Admin,
    jobs: JobRunner,
    request: pytest.FixtureRequest,
    language: str,
) -> None:
    tag = f"{language}-{request.node.callspec.params['database_url']}"
    live.create("ana@unit.example.org", Role.ADMIN, language=language, name="Ana")
    partners(
        live, **{LUCIA: "Lucía Quispe", PEDRO: "Pedro Ruiz", "amara@lagos.example.org": "Amara"}
    )
    context = browser.new_context(viewport=DESKTOP)
    try:
        context.set_default_timeout(20_000)
        page = context.new_page()
        log_in(page, live, "ana@unit.example.org")
        page.goto(f"{live.base_url}/admin/subscribers")
        page.fill("#q", "quispe")
        page.click("form[role=search] button[type=submit]")
        page.get_by_role("link", name=LUCIA).wait_for()
        assert PEDRO not in page.inner_text("main")
        page.goto(f"{live.base_url}/admin/subscribers?list=partners")
        checked(page, f"subscribers-bulk-{tag}")
        for email in (LUCIA, PEDRO):
            page.locator("tr", has=page.get_by_role("link", name=email)).locator(
                "input[type=checkbox]"
            ).check()
        page.select_option("#bulk-action", "unsubscribe")
        page.select_option("#bulk-scope", "selected")
        page.click("#bulk button[type=submit]")
        page.wait_for_url("**/admin/subscribers/bulk")
        assert PEOPLE[language] in page.inner_text("main")
        checked(page, f"bulk-confirm-{tag}")
        page.click("form[action='/admin/subscribers/bulk/start'] button[type=submit]")
        page.wait_for_url("**/admin/jobs/*")
        page.locator(".badge.done").wait_for()
        checked(page, f"bulk-done-{tag}")
    finally:
        context.close()
    with session_scope(live.engine, write=False) as session:
        for email, status in (
            (LUCIA, SubscriptionStatus.UNSUBSCRIBED),
            (PEDRO, SubscriptionStatus.UNSUBSCRIBED),
            ("amara@lagos.example.org", SubscriptionStatus.CONFIRMED),
        ):
            person = find_subscriber(session, email=email)
            assert person is not None
            assert [s.status for s in person.subscriptions] == [status]
