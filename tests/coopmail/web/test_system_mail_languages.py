# ruff: noqa: RUF001 - French is written with the typographic apostrophe, on purpose
"""The confirmation and welcome mails go out in the person's language, through real SMTP."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.bounces import BouncePolicy, record_report
from campaigns.compose import Composer
from campaigns.envelope import EnvelopeSender
from coopmail.web import WebContext, create_app
from mailer.bounces import parse_bounce
from subscribers.models import ConsentSource, MailingList, Subscription, SubscriptionStatus
from subscribers.people import subscribe
from tests.coopmail.web.public.test_public import (
    BASE_URL,
    CSRF,
    KEY,
    Site,
    add_lists,
    link_in,
    make_settings,
    subject,
    subscribe_form,
    text_part,
)
from tests.smtp_server import RecordingSmtpServer


@contextmanager
def public_site(engine: Engine, database_url: str, tmp_path: Path, **extra: str) -> Iterator[Site]:
    """The public pages with a real relay and the default settings but for ``extra``."""
    add_lists(engine)
    with RecordingSmtpServer() as smtp:
        settings = make_settings(database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url, **extra)
        app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
        with TestClient(app, base_url=BASE_URL) as client:
            yield Site(engine=engine, settings=settings, smtp=smtp, client=client)


@pytest.fixture
def site(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Site]:
    """The public pages with the default settings (links valid 3 days) and a real relay."""
    with public_site(engine, database_url, tmp_path) as made:
        yield made


def html_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


def lang_of(raw: bytes) -> str:
    return str(lxml_html.document_fromstring(html_part(raw).encode()).get("lang"))


def test_a_french_subscriber_gets_a_french_confirmation(site: Site) -> None:
    # The page is in English; the person chose French on it, and that is what counts.
    form = subscribe_form(site.client, email="awa@coop-thies.example.org", language="fr")
    assert "Please check your inbox" in site.client.post("/subscribe", data=form).text
    (confirmation,) = site.smtp.wait_for(1)
    assert subject(confirmation.data) == (
        "Veuillez confirmer votre abonnement aux nouvelles de l’équipe Unité des coopératives"
    )
    assert lang_of(confirmation.data) == "fr"
    html = html_part(confirmation.data)
    assert "Confirmer mon abonnement" in html and "probablement vous-même" in html  # footer
    # The English mail's styles, which the translation inherits, are inlined here too.
    assert '<p class="small" style="margin:0 0 16px; font-size:15px;' in html
    text = text_part(confirmation.data)
    assert "Veuillez confirmer votre abonnement\r\n===" in text
    assert "  * Letters to partners" in text
    assert "Ce lien reste valable 3\xa0jours." in text  # the duration in French too
    assert "Please" not in text and "Unsubscribe" not in text


def test_the_welcome_follows_the_person_not_the_confirmation_page(site: Site) -> None:
    form = subscribe_form(site.client, email="awa@coop-thies.example.org", language="fr")
    site.client.post("/subscribe", data=form)
    (confirmation,) = site.smtp.wait_for(1)
    link = link_in(confirmation.data, "/confirm/") + "?lang=es"
    page = site.client.get(link)
    assert '<html lang="es">' in page.text
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    assert site.client.post(link, data={"csrf_token": token}).status_code == 200
    welcome = site.smtp.wait_for(2)[1]
    assert subject(welcome.data).startswith("Bienvenue : vous recevrez désormais")
    assert lang_of(welcome.data) == "fr"
    assert "?lang=fr" in link_in(welcome.data, "/p/")  # the preferences page opens in French


def test_a_spanish_subscriber_gets_a_spanish_welcome(site: Site) -> None:
    form = subscribe_form(site.client, lists=["digest"], language="es")  # single opt-in
    assert site.client.post("/subscribe?lang=en", data=form).status_code == 200
    (welcome,) = site.smtp.wait_for(1)
    assert subject(welcome.data) == (
        "Le damos la bienvenida a las noticias del equipo Unidad de Cooperativas"
    )
    assert lang_of(welcome.data) == "es"
    text = text_part(welcome.data)
    assert "Hola, Ana Quispe:" in text
    assert "Su suscripción está confirmada. A partir de ahora recibirá:" in text
    assert "  * Monthly digest" in text
    assert "Darse de baja:" in text and "Unsubscribe" not in text
    assert "?lang=es" in link_in(welcome.data, "/p/")


def test_french_and_spanish_mails_of_the_same_lists_are_not_mixed_up(site: Site) -> None:
    """The composed mails are cached per template, language and lists."""
    for address, language in (("awa@coop-thies.example.org", "fr"), ("ana@example.org", "es")):
        form = subscribe_form(site.client, email=address, language=language)
        site.client.post("/subscribe", data=form)
    sent = {message.recipients[0]: message for message in site.smtp.wait_for(2)}
    french, spanish = sent["awa@coop-thies.example.org"], sent["ana@example.org"]
    assert lang_of(french.data) == "fr" and lang_of(spanish.data) == "es"
    assert subject(spanish.data).startswith("Confirme su suscripción a las noticias")
    assert "Este enlace es válido durante 3 días." in text_part(spanish.data)


def test_a_language_we_do_not_write_in_gets_english(site: Site) -> None:
    address = "joao@coop-recife.example.org"
    with site.session() as session:  # known already, from a staff import, as pt-BR
        subscribe(
            session,
            email=address,
            mailing_list=session.scalars(select(MailingList).filter_by(name="staff")).one(),
            source=ConsentSource.STAFF,
            wording="on request",
            status=SubscriptionStatus.CONFIRMED,
            language="pt-BR",
        )
        session.commit()
    form = subscribe_form(site.client, email=address, language="fr")
    site.client.post("/subscribe?lang=fr", data=form)
    (confirmation,) = site.smtp.wait_for(1)
    subscriber = site.subscriber(address)
    assert subscriber is not None and subscriber.language == "pt-BR"  # the form changed nothing
    assert subject(confirmation.data) == (
        "Please confirm your subscription to the news of the Cooperatives Unit"
    )
    assert lang_of(confirmation.data) == "en"
    text = text_part(confirmation.data)
    assert "This link expires in 3 days." in text and "Someone, hopefully you" in text


def welcome_addresses(site: Site) -> list[str]:
    """The addresses in the List-Unsubscribe of the welcome a single opt-in sends."""
    form = subscribe_form(site.client, lists=["digest"], language="es")  # single opt-in
    assert site.client.post("/subscribe?lang=en", data=form).status_code == 200
    (welcome,) = site.smtp.wait_for(1)
    message = email.message_from_bytes(welcome.data, policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return re.findall(r"<([^<>]+)>", str(message["List-Unsubscribe"]))


def statuses(site: Site) -> set[SubscriptionStatus]:
    with Session(site.engine) as session:
        return set(session.scalars(select(Subscription.status)))


def test_the_welcome_has_a_one_click_list_unsubscribe(site: Site) -> None:
    """Before: no List-Unsubscribe, so mail programs offered no way to leave."""
    url, _ = welcome_addresses(site)
    assert url.startswith(f"{BASE_URL}/u/")
    # The mail program's one-click POST, without cookies or CSRF token (RFC 8058).
    answer = site.client.post(url.removeprefix(BASE_URL), data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert statuses(site) == {SubscriptionStatus.UNSUBSCRIBED}


def test_the_welcome_offers_a_mailto_that_bounce_processing_honours(site: Site) -> None:
    """Before: only the https address, so a program that can only write mail had no way."""
    _, mailto = welcome_addresses(site)
    mailbox, _, query = mailto.removeprefix("mailto:").partition("?")
    assert mailbox == "coop@example.org"  # no bounce_address set: the From address
    request = (
        f"From: ana@example.org\r\nTo: {mailbox}\r\n"
        f"Subject: {unquote(query.removeprefix('subject='))}\r\n"
        "Message-ID: <unsubscribe-by-mail@example.org>\r\n\r\nSent by a mail program.\r\n"
    )
    with Session(site.engine) as session:
        recorded = record_report(
            session,
            report=parse_bounce(data=request.encode()),
            envelope=EnvelopeSender(address=mailbox, verp=False, key=KEY.encode()),
            policy=BouncePolicy(),
            now=datetime.now(UTC),
        )
        session.commit()
    assert recorded.verified
    assert statuses(site) == {SubscriptionStatus.UNSUBSCRIBED}


def test_the_welcome_mailto_goes_to_the_bounce_address(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    extra = {"COOPMAIL_BOUNCE_ADDRESS": "bounces@example.org"}
    with public_site(engine, database_url, tmp_path, **extra) as site:
        _, mailto = welcome_addresses(site)
    assert mailto.startswith("mailto:bounces@example.org?subject=unsubscribe%20")


def test_system_mails_name_their_kind_in_the_feedback_id(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Before: campaigns had a Feedback-ID, the confirmation and the welcome none."""
    with public_site(engine, database_url, tmp_path, COOPMAIL_FEEDBACK_ID="coopunit") as site:
        form = subscribe_form(site.client, lists=["partners"], language="en")  # double opt-in
        assert site.client.post("/subscribe?lang=en", data=form).status_code == 200
        (confirmation,) = site.smtp.wait_for(1)
        link = link_in(confirmation.data, "/confirm/")
        token = CSRF.search(site.client.get(link).text).group(1)  # type: ignore[union-attr]
        assert site.client.post(link, data={"csrf_token": token}).status_code == 200
        welcome = site.smtp.wait_for(2)[1]
    feedback_ids = [
        email.message_from_bytes(sent.data, policy=email.policy.default).get_all("Feedback-ID")
        for sent in (confirmation, welcome)
    ]
    assert feedback_ids == [
        ["system:confirm-subscription:coopunit"],
        ["system:welcome:coopunit"],
    ]


def test_without_the_setting_system_mails_have_no_feedback_id(site: Site) -> None:
    welcome_addresses(site)
    (welcome,) = site.smtp.messages
    assert "Feedback-ID" not in email.message_from_bytes(welcome.data)
