"""The public archive's use cases: what it shows (archived, gone out, to a public list),
newest first, and a campaign rendered for nobody in particular."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from campaigns.archive import (
    archive_html,
    archived_campaign,
    archived_campaigns,
    campaign_id_of,
    set_archived,
    slug_of,
)
from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.drafts import create_campaign
from campaigns.errors import CampaignNotFound
from campaigns.models import Campaign, SourceFormat
from campaigns.outbox import queue_campaign
from subscribers.lists import create_list
from subscribers.models import ConsentSource, SubscriptionStatus
from subscribers.people import subscribe

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
BODY = (
    "Dear {{ subscriber.name | fallback('colleague') }},\n\n"
    "We write from {{ subscriber.email }}. <script>alert(1)</script>\n\n"
    "[Unsubscribe]({{ unsubscribe_url }}) · [Preferences]({{ preferences_url }})\n"
)


def campaign(session: Session, composer: Composer, subject: str, lists: list[str]) -> Campaign:
    text = f"---\nsubject: {subject}\ntemplate: news-article\n---\n{BODY}"
    content = parse_content(text, name="news.md", format=SourceFormat.MARKDOWN)
    return create_campaign(
        session,
        composer=composer,
        content=content,
        default_sender="Unit <coop@example.org>",
        list_names=lists,
    )


@pytest.fixture
def world(session: Session) -> Session:
    public = create_list(session, name="partners", title="Partners", public=True)
    create_list(session, name="board", title="Board")
    subscribe(
        session,
        email="amara@coop.example.org",
        mailing_list=public,
        source=ConsentSource.STAFF,
        wording="asked",
        status=SubscriptionStatus.CONFIRMED,
        name="Amara Diallo",
    )
    return session


def test_only_archived_campaigns_that_went_to_a_public_list_are_shown_newest_first(
    world: Session,
) -> None:
    composer = Composer()
    first = campaign(world, composer, "First news", ["partners"])
    second = campaign(world, composer, "Second news", ["partners", "board"])
    private = campaign(world, composer, "Board only", ["board"])
    draft = campaign(world, composer, "Not sent yet", ["partners"])
    for number, sent in enumerate((first, second, private)):
        queue_campaign(world, campaign=sent, composer=composer, now=NOW + timedelta(days=number))
    for each in (first, second, private, draft):
        set_archived(world, campaign_id=each.id, archived=True)
    assert [e.subject for e in archived_campaigns(world)] == ["Second news", "First news"]
    assert [e.subject for e in archived_campaigns(world, list_name="board")] == []
    assert archived_campaigns(world)[0].lists == ("Partners",)
    for hidden in (private, draft):
        with pytest.raises(CampaignNotFound):
            archived_campaign(world, campaign_id=hidden.id)
    set_archived(world, campaign_id=second.id, archived=False)
    assert [e.subject for e in archived_campaigns(world)] == ["First news"]


def test_an_archived_campaign_carries_no_personal_data_or_token(world: Session) -> None:
    composer = Composer()
    sent = campaign(world, composer, "News for {{ subscriber.name }}", ["partners"])
    queue_campaign(world, campaign=sent, composer=composer, now=NOW)
    html = archive_html(
        composer,
        sent,
        subscribe_url="https://news.example.org/subscribe",
        page_url="https://news.example.org/archive/1-news",
    )
    assert "Dear colleague" in html
    assert "Amara" not in html and "amara@" not in html
    assert "/u/" not in html and "/p/" not in html and "/v/" not in html
    assert 'href="https://news.example.org/subscribe"' in html
    assert "<script" not in html
    assert "This email was sent to" not in html  # said to nobody, the sentence is dropped
    assert "footer-unit" in html  # the rest of the footer stays


def test_slugs() -> None:
    assert slug_of(12, "Solidarité avec les tisserandes !") == "12-solidarite-avec-les-tisserandes"
    assert slug_of(3, "¡¿!") == "3"
    assert campaign_id_of("12-solidarite") == 12
    assert campaign_id_of("12") == 12
    assert campaign_id_of("../12") is None
    assert campaign_id_of("feed.xml") is None
