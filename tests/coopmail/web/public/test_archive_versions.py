"""A campaign in three languages on the archive: one page per version, each naming the
others with hreflang and linking them; the feed lists them; the index shows a visitor
their language's version; the letter in the browser is the version (and variant) the
person received; a page with variants is kept rendered until the campaign changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import html as lxml_html
from sqlalchemy import Engine, select

from campaigns.archive import ArchiveCache, archive_html, set_archived
from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.links import Links
from campaigns.models import Campaign, SourceFormat
from campaigns.outbox import queue_campaign
from campaigns.versions import prepare_in_languages, store_in_languages
from coopmail.db import session_scope
from subscribers.lists import create_list
from subscribers.models import ConsentSource, Subscriber, SubscriptionStatus
from subscribers.people import subscribe
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import SECRET_KEY, Admin, make_admin

REGION = (
    "{% if subscriber.attributes.region == 'africa' %}{{ hello_africa }}"
    "{% else %}{{ hello }}{% endif %}"
)
LETTERS = {
    "en": ("Harvest news", "Our harvest was good.", "Karibu.", "Hello."),
    "fr": ("Nouvelles de la récolte", "Notre récolte a été bonne.", "Akwaaba.", "Bonjour."),
    "es": ("Noticias de la cosecha", "Nuestra cosecha fue buena.", "Bienvenidos.", "Hola."),
}


def letters(*, variants: bool) -> list[str]:
    texts = []
    for language, (subject, body, africa, other) in LETTERS.items():
        greeting = (
            REGION.replace("{{ hello_africa }}", africa).replace("{{ hello }}", other)
            if variants
            else other
        )
        texts.append(
            f"---\nsubject: {subject}\ntemplate: news-article\nlanguage: {language}\n"
            f"preheader: {body}\n---\n{greeting} {body}\n"
        )
    return texts


def publish(engine: Engine, *, variants: bool = False) -> int:
    """The letter in English (the default), French and Spanish, sent and archived."""
    composer = Composer()
    with session_scope(engine) as session:
        contents = [
            parse_content(text, name=f"letter-{i}.md", format=SourceFormat.MARKDOWN)
            for i, text in enumerate(letters(variants=variants))
        ]
        prepared = prepare_in_languages(
            session,
            composer=composer,
            contents=contents,
            default_sender="Unit <coop@example.org>",
            list_names=["partners"],
        )
        campaign = store_in_languages(session, prepared=prepared)
        queue_campaign(
            session, campaign=campaign, composer=composer, now=datetime(2026, 11, 3, tzinfo=UTC)
        )
        set_archived(session, campaign_id=campaign.id, archived=True)
        return campaign.id


@pytest.fixture
def archive(engine: Engine, database_url: str, tmp_path: Path) -> Admin:
    admin = make_admin(engine, database_url, tmp_path, Clock())
    with session_scope(engine) as session:
        partners = create_list(session, name="partners", title="Partners", public=True)
        for address, language, region in (
            ("awa@coop.example.org", "fr", "africa"),
            ("ana@coop.example.org", "es", "americas"),
            ("chen@coop.example.org", None, "asia"),
        ):
            subscribe(
                session,
                email=address,
                mailing_list=partners,
                source=ConsentSource.STAFF,
                wording="asked",
                status=SubscriptionStatus.CONFIRMED,
                language=language,
                attributes={"region": region},
            )
    return admin


def alternates(page: str) -> dict[str, str]:
    tree = lxml_html.document_fromstring(page)
    return {
        link.get("hreflang"): link.get("href")
        for link in tree.xpath("//head/link[@rel='alternate']")
    }


def test_each_version_has_its_page_linked_to_the_others(archive: Admin) -> None:
    campaign_id = publish(archive.engine)
    slug = f"{campaign_id}-harvest-news"
    base = archive.base_url
    browser = archive.browser()
    expected = {
        "en": f"{base}/archive/{slug}",
        "es": f"{base}/archive/{slug}/es",
        "fr": f"{base}/archive/{slug}/fr",
    }
    for language, (subject, body, _, _) in LETTERS.items():
        page = browser.get(expected[language].removeprefix(base))
        assert page.status_code == 200, language
        assert f'lang="{language}"' in page.text
        assert body in page.text and subject in page.text
        assert alternates(page.text) == expected
        tree = lxml_html.document_fromstring(page.text)
        links = tree.xpath("//nav/a")
        assert {a.get("hreflang") for a in links} == set(LETTERS) - {language}
        assert tree.xpath("//nav/span[@aria-current='page']/@lang") == [language]
    # The default version has one address; an unknown language none.
    moved = browser.get(f"/archive/{slug}/en", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (308, f"/archive/{slug}")
    assert browser.get(f"/archive/{slug}/de").status_code == 404
    assert browser.get(f"/archive/{campaign_id}/fr", follow_redirects=False).headers[
        "location"
    ] == (f"/archive/{slug}/fr")

    # The index shows each visitor the version in their language, and names the others.
    index = browser.get("/archive?lang=fr").text
    assert f'href="/archive/{slug}/fr"' in index and "Nouvelles de la récolte" in index
    assert "Harvest news" not in index
    assert f'href="/archive/{slug}/es" hreflang="es"' in index
    assert "Harvest news" in browser.get("/archive?lang=en").text

    # The feed: one entry, the default version its alternate, each translation related.
    feed = feedparser.parse(browser.get("/archive/feed.xml").content)
    assert not feed.bozo
    (entry,) = feed.entries
    assert {(link.hreflang, link.href) for link in entry.links} == set(expected.items())
    assert entry.link == expected["en"]
    assert {link.hreflang for link in entry.links if link.rel == "related"} == {"fr", "es"}


def test_the_letter_in_the_browser_is_the_version_and_variant_received(archive: Admin) -> None:
    campaign_id = publish(archive.engine, variants=True)
    links = Links(base_url=archive.base_url, key=SECRET_KEY.encode(), campaign_id=campaign_id)
    browser = archive.browser()
    with archive.session() as session:
        people = {s.email: s.id for s in session.scalars(select(Subscriber))}
    for address, words, not_words in (
        ("awa@coop.example.org", ["Akwaaba.", "Notre récolte"], ["Bonjour.", "Karibu."]),
        ("ana@coop.example.org", ["Hola.", "Nuestra cosecha"], ["Bienvenidos."]),
        ("chen@coop.example.org", ["Hello.", "Our harvest"], ["Karibu."]),
    ):
        view = links.view(subscriber_id=people[address]).removeprefix(archive.base_url)
        page = browser.get(view).text
        for word in words:
            assert word in page, (address, word)
        for word in not_words:
            assert word not in page, (address, word)


def test_a_page_with_variants_is_kept_rendered_until_the_campaign_changes(
    archive: Admin,
) -> None:
    campaign_id = publish(archive.engine, variants=True)
    composer = Composer()
    cache = ArchiveCache(size=2)
    with archive.session() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None

        def page(language: str | None) -> str:
            assert campaign is not None
            return archive_html(
                composer,
                campaign,
                subscribe_url="https://news.example.org/subscribe",
                page_url="https://news.example.org/archive/x",
                session=session,
                language=language,
                cache=cache,
            )

        first = page("fr")
        assert "Bonjour." in first  # for nobody: no region, the other branch
        assert page("fr") is first  # kept, not rendered again
        english = page(None)
        assert "Hello." in english and page(None) is english
        page("es")
        assert len(cache) == 2  # bounded: the least lately used (French) left
        assert page("fr") is not first and page("fr") == first
        before = page("fr")
        campaign.updated_at = datetime(2026, 11, 4, tzinfo=UTC)  # the campaign changed
        after = page("fr")
        assert after is not before and after == before
