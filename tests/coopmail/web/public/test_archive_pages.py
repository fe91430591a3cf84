"""/archive, /archive/<slug> and /archive/feed.xml through the application: what a
visitor (or a feed reader) gets, and the policy that forbids script."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import Engine

from campaigns.archive import set_archived
from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.drafts import create_campaign
from campaigns.models import SourceFormat
from campaigns.outbox import queue_campaign
from coopmail.db import session_scope
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe
from tests.conftest import Clock
from tests.coopmail.web.admin.conftest import Admin, make_admin

HOSTILE = (
    "Dear {{ subscriber.name | fallback('colleague') }} ({{ subscriber.email }}),\n\n"
    '<script>alert("script")</script> <img src=x onerror=alert("onerror")>\n\n'
    "[Click](javascript:alert('link')) · [Leave]({{ unsubscribe_url }})\n"
)


def publish(admin: Admin, subject: str, body: str = HOSTILE, *, day: int = 1) -> int:
    composer = Composer()
    with session_scope(admin.engine) as session:
        content = parse_content(
            f"---\nsubject: {subject}\ntemplate: news-article\npreheader: Our news\n---\n{body}",
            name="news.md",
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
            session, campaign=campaign, composer=composer, now=datetime(2026, 11, day, tzinfo=UTC)
        )
        set_archived(session, campaign_id=campaign.id, archived=True)
        return campaign.id


def world(engine: Engine, database_url: str, tmp_path: Path) -> Admin:
    admin = make_admin(engine, database_url, tmp_path, Clock())
    with session_scope(engine) as session:
        partners = create_list(session, name="partners", title="Partners", public=True)
        create_list(session, name="weavers", title="Weavers", public=True)
        subscribe(
            session,
            email="amara@coop.example.org",
            mailing_list=partners,
            source=ConsentSource.STAFF,
            wording="asked",
            status=SubscriptionStatus.CONFIRMED,
            name="Amara Diallo",
        )
    return admin


@pytest.fixture
def archive(engine: Engine, database_url: str, tmp_path: Path) -> Admin:
    return world(engine, database_url, tmp_path)


def test_the_archive_lists_and_shows_campaigns_without_anyone_in_them(archive: Admin) -> None:
    older = publish(archive, "Harvest news", day=1)
    newer = publish(archive, "Assembly news", day=20)
    browser = archive.browser()
    index = browser.get("/archive")
    assert index.status_code == 200
    assert index.text.index("Assembly news") < index.text.index("Harvest news")
    assert f'href="/archive/{newer}-assembly-news"' in index.text
    assert 'type="application/atom+xml"' in index.text
    assert "x-robots-tag" not in index.headers
    assert browser.get("/archive?list=weavers").text.count("/archive/") <= 2  # feed links only
    assert browser.get("/archive?list=nope").status_code == 404

    page = browser.get(f"/archive/{older}-harvest-news")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'none'" in policy and "sandbox" in policy
    assert "Dear colleague" in page.text
    assert "Amara" not in page.text and "amara@" not in page.text
    assert "/u/" not in page.text and "/p/" not in page.text
    assert f'href="{archive.base_url}/subscribe"' in page.text
    # Shown as the words staff typed, never as markup.
    assert "<script" not in page.text and "&lt;script&gt;" in page.text
    assert not re.search(r"<[^>]*\sonerror", page.text)
    assert not re.search(r"""(?:href|src)=["']?javascript:""", page.text)

    moved = browser.get(f"/archive/{older}", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (
        308,
        f"/archive/{older}-harvest-news",
    )
    assert browser.get("/archive/999-nothing").status_code == 404


def test_the_feed_is_atom_that_feedparser_reads(archive: Admin) -> None:
    publish(archive, "Harvest news", day=1)
    newer = publish(archive, "Solidarité & <news>", day=20)
    answer = archive.browser().get("/archive/feed.xml")
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert [entry.title for entry in feed.entries] == ["Solidarité & <news>", "Harvest news"]
    assert feed.entries[0].link == f"{archive.base_url}/archive/{newer}-solidarite-news"
    assert feed.entries[0].summary == "Our news"
    assert feed.entries[0].published_parsed[:3] == (2026, 11, 20)


def test_a_campaign_off_the_archive_is_gone(archive: Admin) -> None:
    campaign_id = publish(archive, "Harvest news")
    with session_scope(archive.engine) as session:
        set_archived(session, campaign_id=campaign_id, archived=False)
    browser = archive.browser()
    assert browser.get(f"/archive/{campaign_id}-harvest-news").status_code == 404
    assert "Harvest" not in browser.get("/archive").text
    assert feedparser.parse(browser.get("/archive/feed.xml").content).entries == []
