"""The public pages through FastAPI's TestClient, on both databases, with a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import read_content
from campaigns.drafts import compose_campaign, create_campaign
from campaigns.links import Links
from campaigns.models import Campaign
from coopmail.config import Settings, load_settings
from coopmail.db import make_engine
from coopmail.web import WebContext, create_app
from coopmail.web.i18n import accepted_languages, duration, negotiate
from coopmail.web.public import routes as public
from coopmail.web.public.subscribe import SUBSCRIBE_PER_IP
from coopmail.web.ratelimit import SlidingWindow
from coopmail.web.subscribe_mail import CONFIRM_PURPOSE
from subscribers.lists import create_list, update_list
from subscribers.models import (
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    MailingList,
    OptIn,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)
from subscribers.people import subscribe
from subscribers.suppressions import find_suppression, suppress
from subscribers.tokens import make_token
from templates import sample_path
from tests.smtp_server import RecordingSmtpServer

KEY = "public-pages-test-secret-key-0123456789"
BASE_URL = "http://testserver"
CSRF = re.compile(r'name="csrf_token" value="([0-9]+\.[0-9a-f]{64})"')


@dataclass
class Site:
    """The application, its database and its SMTP server, as a test sees them."""

    engine: Engine
    settings: Settings
    smtp: RecordingSmtpServer
    client: TestClient

    def visitor(self, **options: object) -> TestClient:
        """A new browser: no cookies."""
        return TestClient(self.client.app, base_url=BASE_URL, **options)  # type: ignore[arg-type]

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def subscriber(self, address: str) -> Subscriber | None:
        with self.session() as session:
            found = session.scalar(select(Subscriber).where(Subscriber.email == address))
            if found is not None:
                _ = found.subscriptions, found.consent_records
            return found

    def status(self, address: str, list_name: str) -> SubscriptionStatus | None:
        with self.session() as session:
            return session.scalar(
                select(Subscription.status)
                .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                .join(MailingList, MailingList.id == Subscription.list_id)
                .where(Subscriber.email == address, MailingList.name == list_name)
            )

    def list_id(self, name: str) -> int:
        with self.session() as session:
            found = session.scalar(select(MailingList.id).where(MailingList.name == name))
            assert found is not None
            return found

    def links(self) -> Links:
        return Links(base_url=BASE_URL, key=KEY.encode(), campaign_id=7)


def make_settings(database_url: str, tmp_path: Path, **extra: str) -> Settings:
    environ = {
        "COOPMAIL_DATABASE_URL": database_url,
        "COOPMAIL_SECRET_KEY": KEY,
        "COOPMAIL_BASE_URL": BASE_URL,
        "COOPMAIL_FROM": "Cooperatives Unit <coop@example.org>",
        **extra,
    }
    return load_settings(environ=environ, cwd=tmp_path)


def add_lists(engine: Engine) -> None:
    with Session(engine) as session:
        create_list(
            session,
            name="partners",
            title="Letters to partners",
            description="Letters of solidarity and interviews.",
            public=True,
        )
        create_list(
            session, name="digest", title="Monthly digest", opt_in=OptIn.SINGLE, public=True
        )
        create_list(session, name="staff", title="Staff notes", public=False)
        session.commit()


@pytest.fixture
def smtp() -> Iterator[RecordingSmtpServer]:
    with RecordingSmtpServer() as server:
        yield server


@pytest.fixture
def site(
    engine: Engine, database_url: str, tmp_path: Path, smtp: RecordingSmtpServer
) -> Iterator[Site]:
    add_lists(engine)
    settings = make_settings(database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url)
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    with TestClient(app, base_url=BASE_URL) as client:
        yield Site(engine=engine, settings=settings, smtp=smtp, client=client)


def csrf_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    match = CSRF.search(page.text)
    assert match, page.text
    return match.group(1)


def subscribe_form(client: TestClient, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/subscribe"),
        "email": "ana@coop-andina.example.org",
        "name": "Ana Quispe",
        "language": "es",
        "lists": ["partners"],
        "consent": "yes",
    }
    data.update(fields)
    return data


def text_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


def empty_links(raw: bytes) -> list[str]:
    """Links of the HTML part that lead nowhere (an unfilled URL slot)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    assert part is not None
    return re.findall(r"<a[^>]*href=[\"'](?:#?)[\"'][^>]*>", str(part.get_content()))


def subject(raw: bytes) -> str:
    """The decoded Subject of a mail (a non-English one is RFC 2047 encoded)."""
    return str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"])


def link_in(raw: bytes, path: str, *, base_url: str = BASE_URL) -> str:
    """The path of the first link to ``path`` in the text part of a mail."""
    text = text_part(raw)
    urls = [url for url in re.findall(r"https?://\S+", text) if url.startswith(base_url + path)]
    assert urls, text
    return urls[0].removeprefix(base_url)


def consent_records(site: Site, address: str) -> list[ConsentRecord]:
    subscriber = site.subscriber(address)
    assert subscriber is not None
    return sorted(subscriber.consent_records, key=lambda record: record.id)


# Subscribe


def test_the_subscribe_page_offers_public_lists_and_an_unticked_consent_box(site: Site) -> None:
    page = site.client.get("/subscribe")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Letters to partners" in page.text and "Monthly digest" in page.text
    assert "Staff notes" not in page.text
    consent = re.search(r"<input[^>]*id=\"consent\"[^>]*>", page.text)
    assert consent is not None and "checked" not in consent.group(0)
    assert re.search(r'<label for="email">', page.text)
    assert 'name="website"' in page.text  # the honeypot, hidden from people
    assert "<script" not in page.text
    ticked = site.client.get("/subscribe?list=digest").text
    assert re.search(r'<input[^>]*id="list-digest"[^>]*checked', ticked)
    assert not re.search(r'<input[^>]*id="list-partners"[^>]*checked', ticked)


def test_every_value_people_or_staff_wrote_is_escaped(site: Site) -> None:
    markup = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    with site.session() as session:
        create_list(session, name="odd", title=markup, description=markup, public=True)
        session.commit()
    form = subscribe_form(site.client, name=markup[:60], lists=["odd"], language="en")
    site.client.post("/subscribe", data=form)
    subscriber = site.subscriber("ana@coop-andina.example.org")
    assert subscriber is not None and subscriber.name == markup[:60]
    confirm = "/confirm/" + make_token(
        key=KEY.encode(),
        purpose=CONFIRM_PURPOSE,
        values=(subscriber.id, site.list_id("odd")),
        issued_at=int(time.time()),
    )
    pages = [
        site.client.get("/subscribe"),
        site.client.post("/subscribe", data=subscribe_form(site.client, email=markup)),
        site.client.get(confirm),
        site.client.get(preferences_path(site, subscriber.id)),
        site.client.get(unsubscribe_path(site, subscriber.id, "odd")),
    ]
    assert [page.status_code for page in pages] == [200, 422, 200, 200, 200]
    for page in pages:
        assert "<script>" not in page.text and "<img" not in page.text, page.url
        assert "&lt;script&gt;" in page.text, page.url


def test_double_opt_in_sends_only_the_confirmation_then_confirms_and_welcomes(
    site: Site,
) -> None:
    answer = site.client.post("/subscribe", data=subscribe_form(site.client))
    assert answer.status_code == 200
    assert "Please check your inbox" in answer.text
    address = "ana@coop-andina.example.org"
    assert site.status(address, "partners") is SubscriptionStatus.UNCONFIRMED
    (confirmation,) = site.smtp.wait_for(1)
    assert confirmation.recipients == (address,)
    assert subject(confirmation.data).startswith("Confirme su suscripción")  # Ana's language
    assert b"Auto-Submitted: auto-generated" in confirmation.data
    assert "Letters to partners" in text_part(confirmation.data)
    assert not empty_links(confirmation.data)
    assert "/u/" not in text_part(confirmation.data)  # nothing to unsubscribe from yet
    (record,) = consent_records(site, address)
    assert record.action is ConsentAction.SUBSCRIBE
    assert record.wording.startswith("I agree that the Cooperatives Unit may send me")
    assert record.ip_address is None  # record_ip is off by default
    subscriber = site.subscriber(address)
    assert subscriber is not None and subscriber.name == "Ana Quispe"
    assert subscriber.language == "es"

    link = link_in(confirmation.data, "/confirm/")
    page = site.client.get(link)
    assert page.status_code == 200
    assert "Letters to partners" in page.text and "<form" in page.text
    assert site.status(address, "partners") is SubscriptionStatus.UNCONFIRMED  # GET: no change

    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    done = site.client.post(link, data={"csrf_token": token})
    assert done.status_code == 200
    assert site.status(address, "partners") is SubscriptionStatus.CONFIRMED
    welcome = site.smtp.wait_for(2)[1]
    assert subject(welcome.data) == (
        "Le damos la bienvenida a las noticias del equipo Unidad de Cooperativas"
    )
    assert "/p/" in text_part(welcome.data)
    assert not empty_links(welcome.data)
    leave = site.client.get(link_in(welcome.data, "/u/"))
    assert leave.status_code == 200 and "Letters to partners" in leave.text
    actions = [record.action for record in consent_records(site, address)]
    assert actions == [ConsentAction.SUBSCRIBE, ConsentAction.CONFIRM]

    again = site.client.post(link, data={"csrf_token": token})  # used twice: harmless
    assert again.status_code == 200
    assert len(site.smtp.messages) == 2
    assert len(consent_records(site, address)) == 2


def test_single_opt_in_confirms_at_once_and_sends_the_welcome(site: Site) -> None:
    form = subscribe_form(site.client, lists=["digest"])
    assert site.client.post("/subscribe", data=form).status_code == 200
    address = "ana@coop-andina.example.org"
    assert site.status(address, "digest") is SubscriptionStatus.CONFIRMED
    (welcome,) = site.smtp.wait_for(1)
    assert subject(welcome.data).startswith("Le damos la bienvenida")
    assert "Monthly digest" in text_part(welcome.data)


def test_the_ip_address_is_kept_only_when_configured(
    engine: Engine, database_url: str, tmp_path: Path, smtp: RecordingSmtpServer
) -> None:
    add_lists(engine)
    settings = make_settings(
        database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url, COOPMAIL_RECORD_IP="true"
    )
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    client = TestClient(app, base_url=BASE_URL)
    client.post("/subscribe", data=subscribe_form(client))
    site = Site(engine=engine, settings=settings, smtp=smtp, client=client)
    (record,) = consent_records(site, "ana@coop-andina.example.org")
    assert record.ip_address == "testclient"


def test_only_a_proxy_on_this_machine_names_the_visitors_address(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    smtp: RecordingSmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What docs/deployment.md promises of `coopmail serve`: uvicorn, configured as it is there,
    believes X-Forwarded-For from 127.0.0.1 only; the rate limits and records count that."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    add_lists(engine)
    settings = make_settings(
        database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url, COOPMAIL_RECORD_IP="true"
    )
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    config = uvicorn.Config(app, lifespan="off")
    config.load()
    site = Site(engine=engine, settings=settings, smtp=smtp, client=TestClient(app))
    cases = [
        ("127.0.0.1", "192.0.2.1, 198.51.100.7", "198.51.100.7"),  # the proxy appends the peer
        ("203.0.113.5", "198.51.100.8", "203.0.113.5"),  # anyone else: the header is ignored
    ]
    for number, (peer, forwarded, expected) in enumerate(cases):
        client = TestClient(config.loaded_app, base_url=BASE_URL, client=(peer, 40000))
        address = f"visitor{number}@example.org"
        client.post(
            "/subscribe",
            data=subscribe_form(client, email=address),
            headers={"X-Forwarded-For": forwarded},
        )
        (record,) = consent_records(site, address)
        assert record.ip_address == expected


def test_the_honeypot_gets_the_same_answer_and_nothing_happens(site: Site) -> None:
    answer = site.client.post(
        "/subscribe", data=subscribe_form(site.client, website="http://spam.example")
    )
    assert answer.status_code == 200
    assert "Please check your inbox" in answer.text
    assert site.subscriber("ana@coop-andina.example.org") is None
    assert site.smtp.messages == []


def test_known_and_unknown_addresses_get_the_same_answer(site: Site) -> None:
    with site.session() as session:
        subscribe(
            session,
            email="known@example.org",
            mailing_list=session.scalars(select(MailingList).filter_by(name="digest")).one(),
            source=ConsentSource.STAFF,
            wording="on request",
            status=SubscriptionStatus.CONFIRMED,
        )
        session.commit()
    known = site.client.post(
        "/subscribe", data=subscribe_form(site.client, email="known@example.org", lists=["digest"])
    )
    unknown = site.client.post(
        "/subscribe", data=subscribe_form(site.client, email="other@example.org", lists=["digest"])
    )
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("known@example.org", "X") == unknown.text.replace(
        "other@example.org", "X"
    )
    assert known.headers == unknown.headers  # cookies and length included
    site.smtp.wait_for(1)
    assert [m.recipients for m in site.smtp.messages] == [("other@example.org",)]


def test_a_known_person_keeps_their_name_when_someone_else_fills_the_form(site: Site) -> None:
    site.client.post("/subscribe", data=subscribe_form(site.client, lists=["digest"]))
    site.client.post("/subscribe", data=subscribe_form(site.client, name="Impostor", language="fr"))
    subscriber = site.subscriber("ana@coop-andina.example.org")
    assert subscriber is not None
    assert (subscriber.name, subscriber.language) == ("Ana Quispe", "es")


def test_a_suppressed_address_gets_the_same_answer_and_no_mail(site: Site) -> None:
    with site.session() as session:
        suppress(session, email="gone@example.org", reason=SuppressionReason.BOUNCED)
        session.commit()
    answer = site.client.post(
        "/subscribe", data=subscribe_form(site.client, email="gone@example.org")
    )
    assert answer.status_code == 200
    assert "Please check your inbox" in answer.text
    assert site.subscriber("gone@example.org") is None
    assert site.smtp.messages == []


def test_a_resubmitted_form_sends_the_confirmation_again_within_the_limit(site: Site) -> None:
    for _ in range(4):
        answer = site.client.post("/subscribe", data=subscribe_form(site.client))
        assert answer.status_code == 200
        assert "Please check your inbox" in answer.text
    messages = site.smtp.wait_for(3)
    assert len(messages) == 3  # the fourth is over the per-address limit: nothing sent
    assert all(subject(message.data).startswith("Confirme") for message in messages)
    assert len(consent_records(site, "ana@coop-andina.example.org")) == 1


def test_too_many_posts_from_one_connection_are_refused(site: Site) -> None:
    for number in range(SUBSCRIBE_PER_IP):
        form = subscribe_form(site.client, email=f"p{number}@example.org", lists=["digest"])
        assert site.client.post("/subscribe", data=form).status_code == 200
    refused = site.client.post(
        "/subscribe", data=subscribe_form(site.client, email="late@example.org")
    )
    assert refused.status_code == 429
    assert "Too many requests" in refused.text
    assert refused.headers["Retry-After"].isdigit()
    assert site.subscriber("late@example.org") is None


def test_an_ipv6_visitor_is_counted_by_their_network(site: Site) -> None:
    """One connection holds a whole /64: a new address for each post must not escape."""

    def post(host: str, number: int) -> int:
        visitor = TestClient(site.client.app, base_url=BASE_URL, client=(host, 40000))
        form = subscribe_form(visitor, email=f"v{number}@example.org", lists=["digest"])
        return visitor.post("/subscribe", data=form).status_code

    for number in range(SUBSCRIBE_PER_IP):
        assert post(f"2001:db8:1:2::{number + 1:x}", number) == 200
    assert post("2001:db8:1:2:ffff:ffff:ffff:ffff", 98) == 429
    assert post("2001:db8:1:3::1", 99) == 200  # the next network is someone else


def test_two_web_processes_count_one_visitor_together(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    other_engine = make_engine(database_url)  # a second `coopmail serve` on the same database
    other = create_app(
        context=WebContext(engine=other_engine, settings=site.settings, composer=Composer())
    )
    try:
        visitors = [
            TestClient(app, base_url=BASE_URL, client=("198.51.100.23", 40000))
            for app in (site.client.app, other)
        ]
        for number in range(SUBSCRIBE_PER_IP):
            visitor = visitors[number % 2]
            form = subscribe_form(visitor, email=f"w{number}@example.org", lists=["digest"])
            assert visitor.post("/subscribe", data=form).status_code == 200
        for visitor in visitors:
            form = subscribe_form(visitor, email="late@example.org", lists=["digest"])
            refused = visitor.post("/subscribe", data=form)
            assert refused.status_code == 429
            assert 0 < int(refused.headers["Retry-After"]) <= 10 * 60 + 10
    finally:
        other_engine.dispose()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not an address"}, "Enter a valid email address"),
        ({"lists": []}, "Choose at least one of the lists shown"),
        ({"lists": ["staff"]}, "Choose at least one of the lists shown"),
        ({"lists": ["partners", "nope"]}, "Choose at least one of the lists shown"),
        ({"consent": ""}, "Tick the consent box"),
        ({"language": "xx"}, "Choose one of the languages offered"),
        ({"name": "Ana\nBcc: x@example.org"}, "The name is too long"),
    ],
)
def test_bad_input_is_answered_with_a_clear_message(
    site: Site, fields: dict[str, object], message: str
) -> None:
    answer = site.client.post("/subscribe", data=subscribe_form(site.client, **fields))
    assert answer.status_code == 422
    assert message in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert site.subscriber("ana@coop-andina.example.org") is None


def test_a_form_that_cannot_be_read_is_a_400(site: Site) -> None:
    token = csrf_token(site.client, "/subscribe")
    with_file = site.client.post(
        "/subscribe", data={"csrf_token": token}, files={"email": ("a.txt", b"x")}
    )
    assert with_file.status_code == 400
    huge = site.client.post(
        "/subscribe",
        content=b"email=" + b"a" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 400
    assert "The form could not be read" in huge.text


# CSRF


def test_every_form_refuses_a_missing_or_wrong_csrf_token(site: Site) -> None:
    site.client.post("/subscribe", data=subscribe_form(site.client, lists=["digest"]))
    subscriber = site.subscriber("ana@coop-andina.example.org")
    assert subscriber is not None
    links = site.links()
    unsubscribe = links.unsubscribe(
        token=links.unsubscribe_token(subscriber_id=subscriber.id, list_id=site.list_id("digest"))
    ).removeprefix(BASE_URL)
    preferences = links.preferences(subscriber_id=subscriber.id).removeprefix(BASE_URL)
    confirm = "/confirm/" + make_token(
        key=KEY.encode(),
        purpose=CONFIRM_PURPOSE,
        values=(subscriber.id, site.list_id("partners")),
        issued_at=int(time.time()),
    )
    posts = [
        ("/subscribe", subscribe_form(site.client)),
        (confirm, {}),
        (unsubscribe, {"scope": "list"}),
        (unsubscribe + "/resubscribe", {}),
        (preferences, {"name": "X", "language": "en"}),
        (preferences + "/export", {}),
        (preferences + "/erase", {"erase": "yes"}),
    ]
    stranger = site.visitor()  # has no cookie: a cross-site form post looks like this
    for path, fields in posts:
        missing = {key: value for key, value in fields.items() if key != "csrf_token"}
        assert site.client.post(path, data=missing).status_code == 403, path
        wrong = {**missing, "csrf_token": "0" * 64}
        assert site.client.post(path, data=wrong).status_code == 403, path
        good = {**missing, "csrf_token": csrf_token(site.client, "/subscribe")}
        assert stranger.post(path, data=good).status_code == 403, path
    assert site.status("ana@coop-andina.example.org", "digest") is SubscriptionStatus.CONFIRMED
    assert site.subscriber("ana@coop-andina.example.org") is not None


# Confirm


def test_expired_tampered_and_unknown_confirmation_links_look_the_same(site: Site) -> None:
    site.client.post("/subscribe", data=subscribe_form(site.client))
    subscriber = site.subscriber("ana@coop-andina.example.org")
    assert subscriber is not None
    partners = site.list_id("partners")

    def link(subscriber_id: int, age: int) -> str:
        issued = int(time.time()) - age
        values = (subscriber_id, partners)
        return "/confirm/" + make_token(
            key=KEY.encode(), purpose=CONFIRM_PURPOSE, values=values, issued_at=issued
        )

    fresh = link(subscriber.id, 60)
    expired = link(subscriber.id, site.settings.confirm_max_age + 60)
    tampered = fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB")
    unknown = link(subscriber.id + 1000, 60)
    assert site.client.get(fresh).status_code == 200
    answers = [site.client.get(path) for path in (expired, tampered, unknown, "/confirm/x")]
    assert {answer.status_code for answer in answers} == {404}
    bodies = {CSRF.sub("", answer.text) for answer in answers}
    assert len(bodies) == 1
    assert "This link is not valid" in bodies.pop()
    token = csrf_token(site.client, fresh)
    assert site.client.post(expired, data={"csrf_token": token}).status_code == 404
    assert site.status("ana@coop-andina.example.org", "partners") is SubscriptionStatus.UNCONFIRMED


# Unsubscribe


def confirmed_subscriber(site: Site, address: str = "ana@coop-andina.example.org") -> int:
    site.client.post("/subscribe", data=subscribe_form(site.client, email=address))
    subscriber = site.subscriber(address)
    assert subscriber is not None
    with site.session() as session:
        for name in ("partners", "digest"):
            subscribe(
                session,
                email=address,
                mailing_list=session.scalars(select(MailingList).filter_by(name=name)).one(),
                source=ConsentSource.STAFF,
                wording="on request",
                status=SubscriptionStatus.CONFIRMED,
            )
        session.commit()
    return subscriber.id


def unsubscribe_path(site: Site, subscriber_id: int, list_name: str = "partners") -> str:
    links = site.links()
    token = links.unsubscribe_token(subscriber_id=subscriber_id, list_id=site.list_id(list_name))
    return links.unsubscribe(token=token).removeprefix(BASE_URL)


def test_opening_the_unsubscribe_link_changes_nothing_and_the_button_unsubscribes(
    site: Site,
) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = unsubscribe_path(site, subscriber_id)
    address = "ana@coop-andina.example.org"
    for _ in range(2):
        page = site.client.get(path)
        assert page.status_code == 200
        assert "¿Desea dejar" in page.text  # Ana chose Spanish
    assert site.status(address, "partners") is SubscriptionStatus.CONFIRMED

    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    done = site.client.post(path, data={"csrf_token": token, "scope": "list"})
    assert done.status_code == 200
    assert site.status(address, "partners") is SubscriptionStatus.UNSUBSCRIBED
    assert site.status(address, "digest") is SubscriptionStatus.CONFIRMED
    record = consent_records(site, address)[-1]
    assert record.action is ConsentAction.UNSUBSCRIBE
    assert f'action="{path}/resubscribe' in done.text

    token = CSRF.search(done.text).group(1)  # type: ignore[union-attr]
    back = site.client.post(f"{path}/resubscribe", data={"csrf_token": token})
    assert back.status_code == 200
    assert site.status(address, "partners") is SubscriptionStatus.CONFIRMED
    assert site.smtp.messages[1:] == []  # nothing but the first confirmation request


def test_unsubscribing_from_everything_suppresses_and_coming_back_lifts_it(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = unsubscribe_path(site, subscriber_id)
    address = "ana@coop-andina.example.org"
    done = site.client.post(
        path, data={"csrf_token": csrf_token(site.client, path), "scope": "all"}
    )
    assert done.status_code == 200
    assert site.status(address, "partners") is SubscriptionStatus.UNSUBSCRIBED
    assert site.status(address, "digest") is SubscriptionStatus.UNSUBSCRIBED
    with site.session() as session:
        suppression = find_suppression(session, email=address)
        assert suppression is not None and suppression.reason is SuppressionReason.UNSUBSCRIBED
    token = CSRF.search(done.text).group(1)  # type: ignore[union-attr]
    assert site.client.post(f"{path}/resubscribe", data={"csrf_token": token}).status_code == 200
    assert site.status(address, "partners") is SubscriptionStatus.CONFIRMED
    with site.session() as session:
        assert find_suppression(session, email=address) is None


def test_coming_back_never_lifts_a_bounce(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = unsubscribe_path(site, subscriber_id)
    site.client.post(path, data={"csrf_token": csrf_token(site.client, path), "scope": "list"})
    with site.session() as session:
        suppress(session, email="ana@coop-andina.example.org", reason=SuppressionReason.BOUNCED)
        session.commit()
    token = csrf_token(site.client, path)
    refused = site.client.post(f"{path}/resubscribe", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "cannot receive our letters" in refused.text
    assert site.status("ana@coop-andina.example.org", "partners") is SubscriptionStatus.UNSUBSCRIBED


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_unsubscribes_without_cookies_or_csrf_and_is_idempotent(
    site: Site, encoding: str
) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = unsubscribe_path(site, subscriber_id)
    body = {"List-Unsubscribe": "One-Click"}
    for _ in range(2):
        mail_program = site.visitor(follow_redirects=False)  # no cookies, no script
        if encoding == "multipart":
            answer = mail_program.post(
                path,
                content=(
                    b'--b0undary\r\nContent-Disposition: form-data; name="List-Unsubscribe"'
                    b"\r\n\r\nOne-Click\r\n--b0undary--\r\n"
                ),
                headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
            )
        else:
            answer = mail_program.post(path, data=body)
        assert answer.status_code == 200
        assert "location" not in answer.headers
        assert "cookie" not in answer.request.headers
    assert site.status("ana@coop-andina.example.org", "partners") is SubscriptionStatus.UNSUBSCRIBED
    assert site.status("ana@coop-andina.example.org", "digest") is SubscriptionStatus.CONFIRMED
    unsubscribes = [
        record
        for record in consent_records(site, "ana@coop-andina.example.org")
        if record.action is ConsentAction.UNSUBSCRIBE
    ]
    assert len(unsubscribes) == 1
    assert "One-Click" in unsubscribes[0].wording


def test_a_post_without_the_one_click_body_needs_csrf(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = unsubscribe_path(site, subscriber_id)
    for body in ({"List-Unsubscribe": "one-click"}, {"scope": "list"}, {}):
        assert site.visitor().post(path, data=body).status_code == 403
    assert site.status("ana@coop-andina.example.org", "partners") is SubscriptionStatus.CONFIRMED


def test_the_one_click_body_reaches_nothing_beyond_leaving_that_list(site: Site) -> None:
    """A cross-site form can send the one-click body too; it must not do more than it."""
    subscriber_id = confirmed_subscriber(site)
    path = unsubscribe_path(site, subscriber_id)
    preferences = preferences_path(site, subscriber_id)
    one_click = {"List-Unsubscribe": "One-Click"}
    stranger = site.visitor()
    for form in (f"{path}/resubscribe", preferences, f"{preferences}/erase"):
        assert stranger.post(form, data={**one_click, "erase": "yes"}).status_code == 403, form
    assert stranger.post(path, data={**one_click, "scope": "all"}).status_code == 200
    assert site.status("ana@coop-andina.example.org", "partners") is SubscriptionStatus.UNSUBSCRIBED
    assert site.status("ana@coop-andina.example.org", "digest") is SubscriptionStatus.CONFIRMED
    with site.session() as session:
        assert find_suppression(session, email="ana@coop-andina.example.org") is None


def test_invalid_and_unknown_unsubscribe_links_look_the_same(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    good = unsubscribe_path(site, subscriber_id)
    unknown = unsubscribe_path(site, subscriber_id + 1000)
    tampered = good[:-3] + ("xyz" if not good.endswith("xyz") else "abc")
    padded = good[:8] + "...." + good[8:]  # base64 decoders skip what is not base64
    paths = (unknown, tampered, padded, good + "====", "/u/nonsense", "/u/" + "A" * 500)
    answers = [site.visitor().get(path) for path in paths]
    assert {answer.status_code for answer in answers} == {404}
    assert len({CSRF.sub("", answer.text) for answer in answers}) == 1
    one_click = site.visitor().post(unknown, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 404


# Preferences


def preferences_path(site: Site, subscriber_id: int) -> str:
    return site.links().preferences(subscriber_id=subscriber_id).removeprefix(BASE_URL)


def test_preferences_change_lists_name_and_language(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = preferences_path(site, subscriber_id)
    page = site.client.get(path)
    assert page.status_code == 200
    assert '<html lang="es">' in page.text  # the person's own language
    assert "Staff notes" not in page.text
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    saved = site.client.post(
        path + "?lang=en",
        data={
            "csrf_token": token,
            "name": "Ana Q.",
            "language": "fr",
            "lists": [str(site.list_id("digest"))],
        },
    )
    assert saved.status_code == 200
    assert "Your preferences have been saved." in saved.text
    address = "ana@coop-andina.example.org"
    assert site.status(address, "partners") is SubscriptionStatus.UNSUBSCRIBED
    assert site.status(address, "digest") is SubscriptionStatus.CONFIRMED
    subscriber = site.subscriber(address)
    assert subscriber is not None and (subscriber.name, subscriber.language) == ("Ana Q.", "fr")
    assert consent_records(site, address)[-1].wording == "Save my preferences"

    token = CSRF.search(saved.text).group(1)  # type: ignore[union-attr]
    bad = site.client.post(
        path,
        data={"csrf_token": token, "name": "A", "language": "fr", "lists": ["999999", "x"]},
    )
    assert bad.status_code == 422
    assert site.status(address, "digest") is SubscriptionStatus.CONFIRMED


def test_a_language_we_do_not_write_in_stays_the_persons_choice(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    with site.session() as session:
        found = session.get(Subscriber, subscriber_id)
        assert found is not None
        found.language = "pt-BR"
        session.commit()
    page = site.client.get(preferences_path(site, subscriber_id)).text
    assert '<html lang="en">' in page  # we do not write in Portuguese
    assert '<option value="pt-BR" lang="pt-BR" selected>Português (Brasil)</option>' in page
    assert '<option value="fr" lang="fr">Français</option>' in page


def test_preferences_export_downloads_the_persons_data(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = preferences_path(site, subscriber_id)
    answer = site.client.post(path + "/export", data={"csrf_token": csrf_token(site.client, path)})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"].startswith("attachment;")
    data = json.loads(answer.content)
    assert data["email"] == "ana@coop-andina.example.org"
    assert {s["list"] for s in data["subscriptions"]} == {"partners", "digest"}
    assert data["consent_records"][0]["wording"].startswith("I agree")


def test_preferences_erase_needs_the_box_then_keeps_only_a_hashed_suppression(
    site: Site,
) -> None:
    subscriber_id = confirmed_subscriber(site)
    path = preferences_path(site, subscriber_id)
    unticked = site.client.post(path + "/erase", data={"csrf_token": csrf_token(site.client, path)})
    assert unticked.status_code == 422
    assert "Tick the box" in unticked.text  # a form answers in the page's language
    assert site.subscriber("ana@coop-andina.example.org") is not None
    erased = site.client.post(
        path + "/erase", data={"csrf_token": csrf_token(site.client, path), "erase": "yes"}
    )
    assert erased.status_code == 200
    assert site.subscriber("ana@coop-andina.example.org") is None
    with site.session() as session:
        suppression = find_suppression(session, email="ana@coop-andina.example.org")
        assert suppression is not None
        assert (suppression.reason, suppression.email) == (SuppressionReason.ERASED, None)
    gone = [site.client.get(path), site.client.get(unsubscribe_path(site, subscriber_id))]
    nonsense = site.client.get("/p/nonsense")
    for answer in gone:
        assert answer.status_code == nonsense.status_code == 404
        assert CSRF.sub("", answer.text) == CSRF.sub("", nonsense.text)

    # Ana's old links stay dead when someone new subscribes: her id is never handed out
    # again (SQLite would reuse the highest id of a deleted row without AUTOINCREMENT).
    newcomer = confirmed_subscriber(site, "bea@coop-andina.example.org")
    assert newcomer != subscriber_id
    for old_link in (path, unsubscribe_path(site, subscriber_id)):
        answer = site.client.get(old_link)
        assert answer.status_code == 404 and "bea@" not in answer.text


# View in browser


def test_view_in_browser_shows_the_letter_as_the_person_got_it(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    with site.session() as session:
        campaign = create_campaign(
            session,
            composer=Composer(),
            content=read_content(sample_path("solidarity-letter")),
            default_sender="Cooperatives Unit <coop@example.org>",
        )
        session.commit()
        campaign_id = campaign.id
    links = Links(base_url=BASE_URL, key=KEY.encode(), campaign_id=campaign_id)
    path = links.view(subscriber_id=subscriber_id).removeprefix(BASE_URL)
    page = site.visitor().get(path)
    assert page.status_code == 200
    assert "In solidarity with our partners" in page.text
    expected = links.unsubscribe(
        token=links.unsubscribe_token(subscriber_id=subscriber_id, list_id=site.list_id("partners"))
    )
    assert expected in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script" not in policy
    with site.session() as session:  # as a send freezes it: the page shows that rendering
        frozen = session.get(Campaign, campaign_id)
        assert frozen is not None
        rendering = compose_campaign(Composer(), frozen).as_json()
        rendering["html"]["literals"][0] = rendering["html"]["literals"][0].replace(
            "<body", "<body data-frozen", 1
        )
        frozen.rendered = rendering
        session.commit()
    sent = site.visitor().get(path)
    assert "data-frozen" in sent.text and expected in sent.text
    other = Links(base_url=BASE_URL, key=b"another key entirely", campaign_id=campaign_id)
    forged = other.view(subscriber_id=subscriber_id).removeprefix(BASE_URL)
    assert site.visitor().get(forged).status_code == 404


# Headers, redirects, languages


def test_strict_security_headers_on_every_response(site: Site) -> None:
    client = site.visitor(follow_redirects=False)
    for answer in (
        client.get("/subscribe"),
        client.get("/u/nonsense"),
        client.get("/assets/site.css"),
        client.get("/health"),
        client.get("/no-such-page"),
        client.post("/subscribe", data={}),
        client.get("/"),
    ):
        headers = answer.headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in headers["permissions-policy"]
        assert "strict-transport-security" not in headers  # http base URL
    cookie = client.get("/subscribe").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_other_addresses_and_methods_get_a_page_in_the_visitors_language(site: Site) -> None:
    subscriber_id = confirmed_subscriber(site)
    unknown = site.visitor().get("/no-such-page?lang=fr")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    assert (
        "Ce lien n\u2019est pas valide" in unknown.text
        and 'href="/subscribe?lang=fr"' in unknown.text
    )
    # The address a button posts to, opened as a page (a bookmark, a reload elsewhere).
    resubscribe = unsubscribe_path(site, subscriber_id) + "/resubscribe"
    for method in ("GET", "HEAD", "PUT"):
        answer = site.visitor().request(method, resubscribe, headers={"Accept-Language": "es"})
        assert answer.status_code == 405, method
        assert answer.headers["allow"] == "POST"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        if method != "HEAD":
            assert "Vuelva a abrir el enlace de nuestro correo" in answer.text
    assert site.visitor().put("/subscribe").headers["allow"] == "GET, HEAD, POST"
    slash = site.visitor(follow_redirects=False).get("/subscribe/?lang=es")
    assert (slash.status_code, slash.headers["location"]) == (308, "/subscribe?lang=es")
    for elsewhere in ("/u//evil.example/", "/assets/"):
        assert site.visitor(follow_redirects=False).get(elsewhere).status_code == 404, elsewhere
    assert site.status("ana@coop-andina.example.org", "partners") is SubscriptionStatus.CONFIRMED


def test_a_server_failure_still_carries_the_headers_and_tells_nothing(tmp_path: Path) -> None:
    """A database that cannot be opened makes every page fail: a real 500, not a mock."""
    database_url = f"sqlite:///{tmp_path / 'missing' / 'coopmail.db'}"
    settings = make_settings(database_url, tmp_path)
    engine = create_engine(database_url)
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    client = TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)
    answer = client.get("/subscribe")
    engine.dispose()
    assert answer.status_code == 500
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"].startswith("text/plain")
    assert "the error was logged" in answer.text and "sqlite" not in answer.text.lower()


def test_https_adds_hsts_and_a_host_only_secure_cookie(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    add_lists(engine)
    settings = make_settings(database_url, tmp_path, COOPMAIL_BASE_URL="https://news.example.org")
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    client = TestClient(app, base_url="https://news.example.org")
    page = client.get("/subscribe")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-coopmail-csrf=") and "Secure" in cookie


def test_no_redirect_goes_anywhere_a_visitor_chose(site: Site) -> None:
    client = site.visitor(follow_redirects=False)
    for path in ("/?next=https://evil.example", "/?url=//evil.example", "/?redirect=x"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/subscribe"


def test_languages_from_the_query_then_the_person_then_the_browser(site: Site) -> None:
    french = site.client.get("/subscribe?lang=fr")
    assert '<html lang="fr">' in french.text and "Abonnez-vous à nos nouvelles" in french.text
    spanish = site.visitor(headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}).get("/subscribe")
    assert '<html lang="es">' in spanish.text and "Suscríbase" in spanish.text
    fallback = site.visitor(headers={"Accept-Language": "de-DE,de;q=0.9"}).get("/subscribe")
    assert '<html lang="en">' in fallback.text
    subscriber_id = confirmed_subscriber(site)  # Ana prefers Spanish
    path = unsubscribe_path(site, subscriber_id)
    assert "¿Desea dejar de recibir" in site.visitor().get(path).text
    assert "Souhaitez-vous ne plus recevoir" in site.visitor().get(path + "?lang=fr").text
    answer = site.client.post(
        "/subscribe?lang=fr", data=subscribe_form(site.client, consent="", language="fr")
    )
    assert "Cochez la case de consentement" in answer.text


def test_the_confirmation_lifetime_is_a_setting(
    engine: Engine, database_url: str, tmp_path: Path, smtp: RecordingSmtpServer
) -> None:
    add_lists(engine)
    settings = make_settings(
        database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url, COOPMAIL_CONFIRM_MAX_AGE="7200"
    )
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    client = TestClient(app, base_url=BASE_URL)
    answer = client.post("/subscribe?lang=fr", data=subscribe_form(client, language="fr"))
    assert "dans un délai de 2\xa0heures" in answer.text
    (confirmation,) = smtp.wait_for(1)
    assert "Ce lien reste valable 2\xa0heures." in text_part(confirmation.data)
    site = Site(engine=engine, settings=settings, smtp=smtp, client=client)
    subscriber = site.subscriber("ana@coop-andina.example.org")
    assert subscriber is not None
    stale = "/confirm/" + make_token(
        key=KEY.encode(),
        purpose=CONFIRM_PURPOSE,
        values=(subscriber.id, site.list_id("partners")),
        issued_at=int(time.time()) - 7300,
    )
    assert client.get(stale).status_code == 404


def test_durations_read_naturally() -> None:
    assert duration(259_200, "en") == "3 days"
    assert duration(86_400, "fr") == "1\xa0jour"  # CLDR: a no-break space
    assert duration(7_200, "es") == "2 horas"
    assert duration(5_400, "en") == "90 minutes"
    assert duration(61, "fr") == "2 minutes"  # CLDR writes minutes with a plain space
    assert duration(129_600, "fr") == "36\xa0heures"  # exact, never rounded to 2 days
    assert duration(60, "es") == "1 minuto"


def test_negotiation_follows_quality_values() -> None:
    assert negotiate(requested=None, preferred=None, accept_language="en;q=0.4, fr;q=0.8") == "fr"
    assert negotiate(requested=None, preferred=None, accept_language="es, fr") == "es"
    assert negotiate(requested="pt", preferred="fr-CA", accept_language="es") == "fr"
    assert negotiate(requested=None, preferred=None, accept_language="fr;q=x, *") == "en"
    assert negotiate(requested=None, preferred=None, accept_language="de, fr-CH;q=0.5") == "fr"
    assert negotiate(requested="ES_419", preferred=None, accept_language=None) == "es"
    assert negotiate(requested=None, preferred="en-GB", accept_language="fr") == "en"
    assert negotiate(requested=None, preferred=None, accept_language="fr;q=0, es;q=0.1") == "es"


def test_accept_language_is_read_best_first() -> None:
    header = "de-CH, fr;q=0.8, en;q=0.9, es;q=0.8, it;q=0, ;q=1, pt;q=2"
    assert accepted_languages(header) == ["de-CH", "en", "fr", "es"]


# Sending


def test_without_smtp_the_page_answers_and_a_warning_is_logged(
    engine: Engine, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_lists(engine)
    settings = make_settings(database_url, tmp_path)
    with caplog.at_level(logging.WARNING, logger="coopmail.web.mail"):
        app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
        client = TestClient(app, base_url=BASE_URL)
        answer = client.post("/subscribe", data=subscribe_form(client))
    assert answer.status_code == 200
    assert "COOPMAIL_SMTP_URL" in caplog.text


def test_a_refusing_relay_is_logged_never_shown(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.smtp.fail(stage="rcpt", code=550, text="5.1.1 No such user", times=None)
    with caplog.at_level(logging.WARNING, logger="coopmail.web.mail"):
        answer = site.client.post("/subscribe", data=subscribe_form(site.client))
    assert answer.status_code == 200
    assert "5.1.1 No such user" in caplog.text
    assert site.smtp.messages == []


def test_a_relay_that_is_down_is_logged_never_shown(
    engine: Engine, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    add_lists(engine)
    with RecordingSmtpServer() as gone:
        url = gone.url
    settings = make_settings(database_url, tmp_path, COOPMAIL_SMTP_URL=url)
    app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
    client = TestClient(app, base_url=BASE_URL)
    with caplog.at_level(logging.WARNING, logger="coopmail.web.mail"):
        answer = client.post("/subscribe", data=subscribe_form(client))
    assert answer.status_code == 200
    assert "not accepted by the relay (None at connect)" in caplog.text


def test_the_sliding_window_forgets_old_events(engine: Engine) -> None:
    now = [datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)]
    window = SlidingWindow(engine=engine, name="test", limit=2, seconds=60, clock=lambda: now[0])
    assert window.allow("a") and window.allow("a")
    assert not window.allow("a")
    assert window.allow("b")
    now[0] += timedelta(seconds=59)
    assert not window.allow("a")
    now[0] += timedelta(seconds=2)
    assert window.allow("a")


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}]
)
def test_a_cross_site_post_is_refused_even_with_a_valid_token(
    site: Site, headers: dict[str, str]
) -> None:
    form = subscribe_form(site.client)
    answer = site.client.post("/subscribe", data=form, headers=headers)
    assert answer.status_code == 403
    assert site.smtp.messages == []
    token = csrf_token(site.client, "/subscribe")
    assert token.partition(".")[0].isdigit()


def test_a_preferences_link_lives_as_long_as_its_lifetime_and_every_mail_renews_it(
    site: Site,
) -> None:
    """Before: a /p/ link, forwarded or leaked, opened the person's data for ever."""
    site.client.post("/subscribe", data=subscribe_form(site.client, lists=["digest"]))
    (welcome,) = site.smtp.wait_for(1)
    fresh = link_in(welcome.data, "/p/")
    assert site.client.get(fresh).status_code == 200  # the link in the latest mail works
    subscriber = site.subscriber("ana@coop-andina.example.org")
    assert subscriber is not None
    lifetime = site.settings.preferences_max_age
    assert lifetime == 180 * 24 * 3600
    links = site.links()
    now = time.time()
    nearly = links.preferences(subscriber_id=subscriber.id, issued_at=now - lifetime + 60)
    expired = links.preferences(subscriber_id=subscriber.id, issued_at=now - lifetime - 60)
    timeless = "/p/" + make_token(key=KEY.encode(), purpose="preferences", values=(subscriber.id,))
    assert site.client.get(nearly.removeprefix(BASE_URL)).status_code == 200
    for old in (expired.removeprefix(BASE_URL), timeless):
        answer = site.client.get(old)
        assert answer.status_code == 404  # the same page as any link that leads nowhere
        form = {"csrf_token": csrf_token(site.client, "/subscribe"), "erase": "yes"}
        assert site.client.post(old + "/erase", data=form).status_code == 404
    assert site.subscriber("ana@coop-andina.example.org") is not None


def test_every_subscribe_answer_is_padded_to_the_same_floor(site: Site, paced: list[float]) -> None:
    """Before: a known address answered in 5.9 ms, an unknown one in 7.7 (86 % told apart)."""
    site.client.post("/subscribe", data=subscribe_form(site.client, lists=["digest"]))
    paced.clear()
    for form in (
        subscribe_form(site.client, lists=["digest"]),  # known, confirmed
        subscribe_form(site.client, email="new@coop-andina.example.org"),  # unknown
        subscribe_form(site.client, email="not an address"),  # a mistake
        subscribe_form(site.client, website="http://spam.example"),  # a robot
    ):
        site.client.post("/subscribe", data=form)
    assert len(paced) == 4
    assert all(0 < pause <= public.SUBSCRIBE_ANSWER_SECONDS for pause in paced)


def test_the_pace_waits_for_what_is_left_of_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = iter([10.25])
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(public, "_clock", lambda: next(readings))
    monkeypatch.setattr(public, "_sleep", record)
    asyncio.run(public.pace(10.0, 0.3))
    assert asked == [pytest.approx(0.05)]
    readings = iter([11.0])
    asyncio.run(public.pace(10.0, 0.3))  # past the floor already: no wait
    assert asked == [pytest.approx(0.05)]


def test_lists_show_their_title_and_description_in_the_page_language(site: Site) -> None:
    with site.session() as session:
        update_list(
            session,
            name="partners",
            title="Lettres aux partenaires",
            description="Lettres de solidarité et entretiens.",
            in_language="fr",
        )
        update_list(session, name="partners", title="Cartas a los socios", in_language="es")
        session.commit()
    french = site.visitor().get("/subscribe?lang=fr").text
    assert "Lettres aux partenaires" in french and "Lettres de solidarité" in french
    assert "Letters to partners" not in french and "Letters of solidarity" not in french
    spanish = site.visitor(headers={"Accept-Language": "es-ES,es;q=0.9"}).get("/subscribe").text
    assert "Cartas a los socios" in spanish and "Letters to partners" not in spanish
    # No Spanish description yet: the list's own stands in rather than nothing.
    assert "Letters of solidarity and interviews." in spanish
    english = site.visitor().get("/subscribe?lang=en").text
    assert "Letters to partners" in english and "Lettres aux partenaires" not in english
