"""Every public page and every mail they send, in French and in Spanish: none of our words
left in English (tests/templates/words.py says which words are ours)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine

from campaigns.compose import Composer
from coopmail.web import WebContext, create_app
from coopmail.web.public.subscribe import SUBSCRIBE_PER_IP
from tests.coopmail.web.public.test_public import (
    BASE_URL,
    CSRF,
    Site,
    add_lists,
    confirmed_subscriber,
    csrf_token,
    link_in,
    make_settings,
    preferences_path,
    subject,
    subscribe_form,
    text_part,
    unsubscribe_path,
)
from tests.smtp_server import RecordingSmtpServer
from tests.templates.words import english_in, page_text

# A word of each page in the language, so that a page in English would not pass unseen.
SAID = {
    "fr": {"subscribe": "Abonnez-vous", "preferences": "Vos préférences", "mail": "Bonjour"},
    "es": {"subscribe": "Suscríbase", "preferences": "Sus preferencias", "mail": "Hola"},
}


@pytest.fixture
def site(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Site]:
    add_lists(engine)
    with RecordingSmtpServer() as smtp:
        settings = make_settings(database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url)
        app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
        with TestClient(app, base_url=BASE_URL) as client:
            yield Site(engine=engine, settings=settings, smtp=smtp, client=client)


def html_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


class Walk:
    """Pages seen in one language, each checked as it comes."""

    def __init__(self, site: Site, language: str) -> None:
        self.site = site
        self.language = language
        self.seen: list[str] = []

    def page(self, answer: Response, status: int = 200) -> str:
        where = f"{answer.request.method} {answer.request.url.path}"
        assert answer.status_code == status, where
        assert f'<html lang="{self.language}">' in answer.text, where
        assert english_in(page_text(answer.text)) == [], where
        self.seen.append(where)
        return answer.text

    def mail(self, raw: bytes) -> None:
        for part in (page_text(html_part(raw)), text_part(raw), subject(raw)):
            assert english_in(part) == [], subject(raw)
        assert f'lang="{self.language}"' in html_part(raw)

    def token(self, html: str) -> str:
        return CSRF.search(html).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["fr", "es"])
def test_every_page_and_mail_speaks_the_language(site: Site, language: str) -> None:
    walk = Walk(site, language)
    client = site.client
    lang = f"?lang={language}"
    said = SAID[language]

    # Subscribe: the form, its mistakes, the answer and the confirmation mail.
    assert said["subscribe"] in walk.page(client.get("/subscribe" + lang))
    wrong = subscribe_form(client, email="not an address", consent="", lists=[], language="xx")
    walk.page(client.post("/subscribe" + lang, data=wrong), 422)
    form = subscribe_form(client, email="awa@coop-thies.example.org", language=language)
    walk.page(client.post("/subscribe" + lang, data=form))
    (confirmation,) = site.smtp.wait_for(1)
    walk.mail(confirmation.data)

    # Confirm: the page, the answer, the welcome mail.
    link = link_in(confirmation.data, "/confirm/")
    token = walk.token(walk.page(client.get(link)))
    walk.page(client.post(link + lang, data={"csrf_token": token}))  # the form's action
    welcome = site.smtp.wait_for(2)[1]
    walk.mail(welcome.data)
    assert said["mail"] in text_part(welcome.data)

    # Unsubscribe, come back, and the pages in between.
    subscriber_id = confirmed_subscriber(site, "ana@coop-andina.example.org")
    leave = unsubscribe_path(site, subscriber_id)
    token = walk.token(walk.page(client.get(leave + lang)))
    left = walk.page(client.post(leave + lang, data={"csrf_token": token, "scope": "list"}))
    back = walk.token(left)
    walk.page(client.post(f"{leave}/resubscribe{lang}", data={"csrf_token": back}))

    # Preferences: the page, its mistakes, saved, erasure refused then done.
    preferences = preferences_path(site, subscriber_id)
    page = walk.page(client.get(preferences + lang))
    assert said["preferences"] in page
    bad = {"csrf_token": walk.token(page), "name": "A", "language": "fr", "lists": ["999999"]}
    walk.page(client.post(preferences + lang, data=bad), 422)
    good = {"csrf_token": walk.token(page), "name": "Ana", "language": language}
    walk.page(client.post(preferences + lang, data=good))
    walk.page(client.post(f"{preferences}/erase{lang}", data={"csrf_token": walk.token(page)}), 422)
    erase = {"csrf_token": walk.token(page), "erase": "yes"}
    walk.page(client.post(f"{preferences}/erase{lang}", data=erase))

    # What goes wrong: a dead link, an expired form, a form that cannot be read, a page
    # asked for with the wrong method, too many posts.
    walk.page(client.get("/confirm/nonsense" + lang), 404)
    walk.page(client.post("/subscribe" + lang, data={"csrf_token": "0" * 64}), 403)
    token = csrf_token(client, "/subscribe")
    unreadable = client.post(
        "/subscribe" + lang, data={"csrf_token": token}, files={"email": ("a.txt", b"x")}
    )
    walk.page(unreadable, 400)
    walk.page(client.get(f"{leave}/resubscribe{lang}"), 405)
    visitor = site.visitor()
    for _ in range(SUBSCRIBE_PER_IP):
        visitor.post("/subscribe" + lang, data=subscribe_form(visitor, consent=""))
    walk.page(visitor.post("/subscribe" + lang, data=subscribe_form(visitor)), 429)
    assert len(walk.seen) == 18
