"""A French or a Spanish partner reads no English word of ours, on any page or in any mail.

Stricter than test_page_languages (which looks for our English phrases): here every single
word counts. The English words are those of the catalog's msgids, of the unit's own texts
(name, department, about, place, address) and of the lists' English titles and
descriptions; a few words are written the same in English and in the language, and are
listed as such. Every public page is walked through the application (subscribe and its
answers, confirm, preferences, unsubscribe and back, erasure, a dead link, a letter in the
browser, the archive and its index) and every system mail is read as it is sent or, for
the one no page sends, rendered by the same composer.
"""

from __future__ import annotations

import email
import email.policy
import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.archive import set_archived, slug_of
from campaigns.compose import Composer, load_unit
from campaigns.content import parse_content
from campaigns.drafts import create_campaign
from campaigns.links import Links
from campaigns.models import SourceFormat
from campaigns.outbox import queue_campaign
from coopmail.web import WebContext, create_app
from subscribers.lists import create_list, update_list
from subscribers.models import OptIn
from templates.catalogs import POT_PATH
from tests.coopmail.web.public.test_archive_versions import publish as publish_versions
from tests.coopmail.web.public.test_public import (
    BASE_URL,
    CSRF,
    KEY,
    Site,
    confirmed_subscriber,
    link_in,
    make_settings,
    preferences_path,
    subject,
    subscribe_form,
    text_part,
    unsubscribe_path,
)
from tests.smtp_server import RecordingSmtpServer
from tests.templates.words import page_text

# The lists as staff wrote them, in English, and as they translated them.
LISTS = {
    "partners": ("Letters to partners", "Letters of solidarity and interviews."),
    "digest": ("Monthly digest", "A short round-up of the month's news."),
}
LIST_WORDS = {
    "fr": {
        "partners": ("Lettres aux partenaires", "Lettres de solidarité et entretiens."),
        "digest": ("Lettre mensuelle", "Un bref tour des nouvelles du mois."),
    },
    "es": {
        "partners": ("Cartas a los socios", "Cartas de solidaridad y entrevistas."),
        "digest": ("Boletín mensual", "Un breve repaso de las noticias del mes."),
    },
}
# A letter of the unit's own, written in each language (its words are staff's, not ours).
LETTER = {
    "fr": ("Nouvelles de la coopérative", "Chère {{ subscriber.name | fallback('collègue') }},"),
    "es": ("Noticias de la cooperativa", "Estimada {{ subscriber.name | fallback('colega') }}:"),
}
LETTER_BODY = {
    "fr": "Les tisserandes de Thiès ont tenu leur assemblée.",
    "es": "Las tejedoras de Cusco celebraron su asamblea.",
}

# Written the same in English and in the language: not a sign of English.
SAME = {
    "fr": {
        "a",
        "action",
        "atom",
        "case",
        "chose",
        "confirmation",
        "e",
        "en",
        "europe",
        "json",
        "justice",
        "mail",
        "me",
        "message",
        "minutes",
        "moment",
        "page",
        "publications",
        "questions",
        "s",
        "site",
    },
    "es": {
        "a",
        "asia",
        "atom",
        "en",
        "error",
        "es",
        "ignore",
        "json",
        "me",
        "no",
        "personal",
        "social",
    },
}
STREET = {"route", "des", "coopératives"}  # the unit's street: its name in every language
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|\{\{.*?\}\}|\{%.*?%\}")
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\d_]+")
# Addresses, links and domains are nobody's language.
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|\b[\w-]+(?:\.[\w-]+)+(?:/\S*)?|/[\w./?=&%-]*")


def words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(_NOT_WORDS.sub(" ", text))}


@functools.cache
def english_words() -> frozenset[str]:
    """Every word of our English: the catalog's msgids, the unit's texts, the lists'."""
    with POT_PATH.open("rb") as source:
        catalog = read_po(source)
    found: set[str] = set()
    for message in catalog:
        for text in [message.id] if isinstance(message.id, str) else list(message.id):
            if text:
                found |= words(_PLACEHOLDER.sub(" ", _TAG.sub(" ", text)))
    unit = load_unit(None)
    for text in (unit.name, unit.department, unit.about, unit.place, *unit.address_lines):
        found |= words(text)
    for title, description in LISTS.values():
        found |= words(f"{title} {description}")
    return frozenset(found)


def english_in(text: str, language: str) -> list[str]:
    return sorted(words(text) & english_words() - SAME[language] - STREET)


def html_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


def add_translated_lists(engine: Engine) -> None:
    with Session(engine) as session:
        for name, (title, description) in LISTS.items():
            opt_in = OptIn.DOUBLE if name == "partners" else OptIn.SINGLE
            create_list(
                session,
                name=name,
                title=title,
                description=description,
                opt_in=opt_in,
                public=True,
            )
            for language, lists in LIST_WORDS.items():
                said_title, said_description = lists[name]
                update_list(
                    session,
                    name=name,
                    title=said_title,
                    description=said_description,
                    in_language=language,
                )
        session.commit()


def publish(site: Site, language: str) -> int:
    """A letter written in ``language``, sent to the partners and put in the archive."""
    composer = Composer()
    title, greeting = LETTER[language]
    with Session(site.engine) as session:
        content = parse_content(
            f"---\nsubject: {title}\ntemplate: news-article\nlanguage: {language}\n---\n"
            f"{greeting}\n\n{LETTER_BODY[language]}\n",
            name="lettre.md",
            format=SourceFormat.MARKDOWN,
        )
        campaign = create_campaign(
            session,
            composer=composer,
            content=content,
            default_sender="Unit <coop@example.org>",
            list_names=["partners"],
        )
        queue_campaign(
            session, campaign=campaign, composer=composer, now=datetime(2026, 11, 3, tzinfo=UTC)
        )
        set_archived(session, campaign_id=campaign.id, archived=True)
        session.commit()
        return campaign.id


@pytest.fixture
def site(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Site]:
    add_translated_lists(engine)
    with RecordingSmtpServer() as smtp:
        settings = make_settings(database_url, tmp_path, COOPMAIL_SMTP_URL=smtp.url)
        app = create_app(context=WebContext(engine=engine, settings=settings, composer=Composer()))
        with TestClient(app, base_url=BASE_URL) as client:
            yield Site(engine=engine, settings=settings, smtp=smtp, client=client)


class Walk:
    """What one language's partner sees, each page and mail checked as it comes."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.seen: dict[str, list[str]] = {}

    def page(self, what: str, answer: Response, status: int = 200) -> str:
        assert answer.status_code == status, what
        self.seen[what] = english_in(page_text(answer.text), self.language)
        return answer.text

    def mail(self, what: str, raw: bytes) -> None:
        self.html_mail(what, html_part(raw), text_part(raw), subject(raw))

    def html_mail(self, what: str, html: str, text: str, subject_line: str) -> None:
        assert f'lang="{self.language}"' in html, what
        said = f"{page_text(html)} {text} {subject_line}"
        self.seen[what] = english_in(said, self.language)

    def english(self) -> dict[str, list[str]]:
        return {what: found for what, found in self.seen.items() if found}


def token_of(html: str) -> str:
    return CSRF.search(html).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["fr", "es"])
def test_no_english_word_of_ours_on_any_page_or_mail(site: Site, language: str) -> None:
    walk = Walk(language)
    client = site.client
    lang = f"?lang={language}"

    walk.page("subscribe", client.get("/subscribe" + lang))
    wrong = subscribe_form(client, email="not an address", consent="", lists=[])
    walk.page("subscribe, mistakes", client.post("/subscribe" + lang, data=wrong), 422)
    form = subscribe_form(
        client, email="awa@coop-thies.example.org", language=language, name="Awa Ndiaye"
    )
    walk.page("requested", client.post("/subscribe" + lang, data=form))
    (confirmation,) = site.smtp.wait_for(1)
    walk.mail("confirmation mail", confirmation.data)

    link = link_in(confirmation.data, "/confirm/")
    token = token_of(walk.page("confirm", client.get(link)))
    walk.page("confirmed", client.post(link + lang, data={"csrf_token": token}))
    welcome = site.smtp.wait_for(2)[1]
    walk.mail("welcome mail", welcome.data)

    subscriber_id = confirmed_subscriber(site, f"ana-{language}@coop-andina.example.org")
    leave = unsubscribe_path(site, subscriber_id)
    token = token_of(walk.page("unsubscribe", client.get(leave + lang)))
    left = walk.page(
        "unsubscribed", client.post(leave + lang, data={"csrf_token": token, "scope": "list"})
    )
    walk.page(
        "resubscribed",
        client.post(f"{leave}/resubscribe{lang}", data={"csrf_token": token_of(left)}),
    )

    campaign_id = publish(site, language)
    links = Links(base_url=BASE_URL, key=KEY.encode(), campaign_id=campaign_id)
    view = links.view(subscriber_id=subscriber_id).removeprefix(BASE_URL)
    walk.page("view in browser", client.get(view))
    walk.page("archive index", client.get("/archive" + lang))
    title = LETTER[language][0]
    walk.page("archive page", client.get(f"/archive/{slug_of(campaign_id, title)}"))
    # A letter in three languages: its version's page, and the index that names it.
    versions = publish_versions(site.engine)
    version = f"/archive/{slug_of(versions, 'Harvest news')}/{language}"
    walk.page("archive page of a version", client.get(version))
    walk.page("archive index with versions", client.get("/archive" + lang))

    preferences = preferences_path(site, subscriber_id)
    page = walk.page("preferences", client.get(preferences + lang))
    erase = {"csrf_token": token_of(page), "erase": "yes"}
    walk.page("erased", client.post(f"{preferences}/erase{lang}", data=erase))
    walk.page("invalid link", client.get("/confirm/nonsense" + lang), 404)

    composer = Composer()
    gone = composer.compose_system(
        name="unsubscribed", subject="{{ unit.name }}", language=language
    )
    values = dict.fromkeys(gone.fields, "")
    walk.html_mail(
        "unsubscribed mail",
        gone.html.fill(values),
        gone.text.fill(values),
        gone.subject.fill(values),
    )

    assert len(walk.seen) == 19
    assert walk.english() == {}, sorted({w for found in walk.english().values() for w in found})


def test_the_check_finds_english_where_it_is(site: Site) -> None:
    """The check itself: the English page is full of English, and of the unit's own."""
    found = english_in(page_text(site.client.get("/subscribe?lang=en").text), "fr")
    assert {"subscribe", "letters", "partners", "cooperatives", "department"} <= set(found)
