"""A form sent while another process holds the database (a backup, a long import) gets a
503 page in the visitor's language with Retry-After, and uses up none of their allowance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from campaigns.compose import Composer
from coopmail.web import WebContext, create_app
from tests.coopmail.web.public.test_browser_public import (
    PHONE,
    accessibility_problems,
    serving_live,
    shoot,
)
from tests.coopmail.web.public.test_public import BASE_URL, add_lists, make_settings, subscribe_form
from tests.dblocks import impatient_engine, locked
from tests.smtp_server import RecordingSmtpServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture
def impatient(database_url: str) -> Iterator[Engine]:
    engine = impatient_engine(database_url)
    yield engine
    engine.dispose()


def test_a_form_during_a_long_lock_is_a_localised_503_that_costs_no_allowance(
    impatient: Engine, database_url: str, tmp_path: Path
) -> None:
    add_lists(impatient)
    with RecordingSmtpServer() as smtp:
        settings = make_settings(database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url)
        app = create_app(
            context=WebContext(engine=impatient, settings=settings, composer=Composer())
        )
        with TestClient(app, base_url=BASE_URL) as client:
            form = subscribe_form(client)  # double opt-in: a confirmation request each time
            with locked(database_url, table="subscribers"):
                answer = client.post("/subscribe?lang=fr", data=form)
            assert answer.status_code == 503
            assert answer.headers["retry-after"] == "60"
            assert "le service est momentanément occupé" in answer.text
            assert "Rien n’a été modifié" in answer.text  # noqa: RUF001 - French apostrophe
            assert smtp.messages == []

            # The address's three mails an hour are all still there.
            for _ in range(3):
                assert client.post("/subscribe", data=form).status_code == 200
            assert len(smtp.wait_for(3)) == 3


def test_the_busy_page_in_a_browser(
    browser: Browser, impatient: Engine, database_url: str, tmp_path: Path
) -> None:
    with serving_live(impatient, database_url, tmp_path) as live:
        context = browser.new_context(viewport=PHONE, java_script_enabled=False)
        try:
            page = context.new_page()
            page.goto(f"{live.base_url}/subscribe?lang=es")
            page.get_by_label("Dirección de correo electrónico").fill("lucia@andes.example.org")
            page.get_by_label("Monthly digest").check()
            page.get_by_label("Acepto que").check()
            with (
                locked(database_url, table="subscribers"),
                page.expect_response(lambda r: r.request.method == "POST") as posted,
            ):
                page.get_by_role("button", name="Suscribirse").click()
            assert posted.value.status == 503
            assert posted.value.headers["retry-after"] == "60"
            page.get_by_text("el servicio está ocupado por unos instantes").wait_for()
            assert page.get_attribute("html", "lang") == "es"
            assert accessibility_problems(page) == []
            shoot(page, "busy-es-375")
        finally:
            context.close()
