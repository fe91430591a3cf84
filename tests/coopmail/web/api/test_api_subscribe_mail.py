"""The JSON API keeps double opt-in: it sends the public form's mails, through a real SMTP
server, on both databases."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from subscribers.models import ConsentAction, ConsentRecord, ConsentSource
from tests.coopmail.web.api.test_api import Api, assert_error, make_api
from tests.coopmail.web.public.test_public import CSRF, link_in, subject, text_part
from tests.smtp_server import RecordingSmtpServer

BASE_URL = "http://testserver"  # the TestClient's own, so the mailed links lead back to it
ADDRESS = "amara.diallo@coop-sahel.example.org"


@dataclass
class MailingApi(Api):
    smtp: RecordingSmtpServer

    def status(self, list_name: str, address: str = ADDRESS) -> str:
        person = self.ok("GET", f"/api/v1/subscribers/{address}")
        return {s["list"]: s["status"] for s in person["subscriptions"]}[list_name]


@pytest.fixture
def api(
    engine: Engine, database_url: str, tmp_path: Path, session: Session
) -> Iterator[MailingApi]:
    with RecordingSmtpServer() as smtp:
        app, token = make_api(
            engine=engine,
            database_url=database_url,
            workdir=tmp_path,
            COOPMAIL_SMTP_URL=smtp.url,
            COOPMAIL_BASE_URL=BASE_URL,
            COOPMAIL_FROM="Cooperatives Unit <coop@example.org>",
        )
        with TestClient(app, base_url=BASE_URL) as client:
            api = MailingApi(client=client, token=token, session=session, smtp=smtp)
            api.ok("POST", "/api/v1/lists", 201, json={"name": "partners", "title": "Partners"})
            digest = {"name": "digest", "title": "Monthly digest", "opt_in": "single"}
            api.ok("POST", "/api/v1/lists", 201, json=digest)
            yield api


def person(**fields: object) -> dict[str, object]:
    return {"email": ADDRESS, "name": "Amara Diallo", "language": "fr", **fields}


def test_a_double_opt_in_list_waits_for_the_link_in_the_confirmation_mail(api: MailingApi) -> None:
    api.ok("POST", "/api/v1/subscribers", 201, json=person(lists=["partners"]))
    assert api.status("partners") == "unconfirmed"
    (confirmation,) = api.smtp.wait_for(1)
    assert confirmation.recipients == (ADDRESS,)
    assert subject(confirmation.data).startswith("Veuillez confirmer")  # the person's language
    assert "Partners" in text_part(confirmation.data)
    assert "/u/" not in text_part(confirmation.data)  # nothing to leave yet
    assert len(api.smtp.messages) == 1

    link = link_in(confirmation.data, "/confirm/")
    page = api.client.get(link)
    assert page.status_code == 200 and "Partners" in page.text
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    assert api.client.post(link, data={"csrf_token": token}).status_code == 200
    assert api.status("partners") == "confirmed"
    welcome = api.smtp.wait_for(2)[1]
    assert subject(welcome.data).startswith("Bienvenue")
    assert "/u/" in text_part(welcome.data) and "/p/" in text_part(welcome.data)
    records = api.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [(r.action, r.source) for r in records] == [
        (ConsentAction.SUBSCRIBE, ConsentSource.API),
        (ConsentAction.CONFIRM, ConsentSource.FORM),
    ]


def test_a_single_opt_in_list_is_confirmed_with_the_welcome(api: MailingApi) -> None:
    api.ok("POST", "/api/v1/subscribers", 201, json=person(lists=["digest"], language="es"))
    assert api.status("digest") == "confirmed"
    (welcome,) = api.smtp.wait_for(1)
    assert subject(welcome.data).startswith("Le damos la bienvenida")
    assert "Monthly digest" in text_part(welcome.data)
    assert len(api.smtp.messages) == 1


def test_both_kinds_of_list_at_once_get_one_mail_each(api: MailingApi) -> None:
    api.ok("POST", "/api/v1/subscribers", 201, json=person(lists=["partners", "digest"]))
    assert (api.status("partners"), api.status("digest")) == ("unconfirmed", "confirmed")
    mails = sorted(subject(m.data) for m in api.smtp.wait_for(2))
    assert [s.split()[0] for s in mails] == ["Bienvenue", "Veuillez"]
    assert len(api.smtp.messages) == 2


def test_confirmed_given_is_the_callers_word_and_sends_nothing(api: MailingApi) -> None:
    body = person(lists=["partners", "digest"], status="confirmed")
    api.ok("POST", "/api/v1/subscribers", 201, json=body)
    assert (api.status("partners"), api.status("digest")) == ("confirmed", "confirmed")
    path = f"/api/v1/subscribers/{ADDRESS}/subscriptions"
    api.ok("POST", "/api/v1/lists", 201, json={"name": "news"})
    api.ok("POST", path, json={"list": "news", "status": "confirmed"})
    api.ok("POST", path, json={"list": "partners"})  # confirmed already: nothing to ask
    assert api.status("news") == "confirmed"
    assert api.smtp.messages == []


def test_unconfirmed_given_asks_for_confirmation_even_on_a_single_opt_in_list(
    api: MailingApi,
) -> None:
    api.ok("POST", "/api/v1/subscribers", 201, json=person(lists=["partners"], status="confirmed"))
    path = f"/api/v1/subscribers/{ADDRESS}/subscriptions"
    joined = api.ok("POST", path, json={"list": "digest", "status": "unconfirmed"})
    assert {s["list"]: s["status"] for s in joined["subscriptions"]}["digest"] == "unconfirmed"
    (confirmation,) = api.smtp.wait_for(1)
    assert subject(confirmation.data).startswith("Veuillez confirmer")
    assert "Monthly digest" in text_part(confirmation.data)
    assert "Partners" not in text_part(confirmation.data)
    assert len(api.smtp.messages) == 1


def test_a_list_the_person_left_asks_again_whatever_its_opt_in(api: MailingApi) -> None:
    api.ok("POST", "/api/v1/subscribers", 201, json=person(lists=["digest"], status="confirmed"))
    api.ok("DELETE", f"/api/v1/subscribers/{ADDRESS}/subscriptions/digest")
    api.ok("POST", f"/api/v1/subscribers/{ADDRESS}/subscriptions", json={"list": "digest"})
    assert api.status("digest") == "unconfirmed"
    (confirmation,) = api.smtp.wait_for(1)
    assert subject(confirmation.data).startswith("Veuillez confirmer")


def test_a_suppressed_address_is_still_a_409_and_gets_no_mail(api: MailingApi) -> None:
    api.ok("DELETE", f"/api/v1/subscribers/{ADDRESS}")
    response = api("POST", "/api/v1/subscribers", json=person(lists=["digest", "partners"]))
    assert_error(response, 409, "suppressed")
    assert api.smtp.messages == []


@pytest.mark.parametrize("fault", ["refused", "dropped"])
def test_a_mail_the_relay_does_not_take_is_logged_not_a_500(
    api: MailingApi, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    if fault == "refused":
        api.smtp.fail(stage="rcpt", code=550)
    else:
        api.smtp.drop(stage="connect")
    with caplog.at_level(logging.WARNING, logger="coopmail.web.mail"):
        api.ok("POST", "/api/v1/subscribers", 201, json=person(lists=["partners"]))
    assert api.status("partners") == "unconfirmed"
    assert api.smtp.messages == []
    assert "confirm-subscription mail" in caplog.text, caplog.text
