"""The monthly digest: built from last month's news, once per month, nothing when empty."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.digest import (
    DigestError,
    NotAnIssue,
    build_issue,
    configure_digest,
    previous_month,
    refresh_issue,
)
from campaigns.errors import DraftOnly
from campaigns.models import Campaign, CampaignStatus, CampaignVersion, Digest, SourceFormat
from campaigns.news import NewsItem, add_item, edit_item, import_listing
from campaigns.revisions import list_revisions
from coopmail.scheduling import SchedulerService
from subscribers.lists import get_list
from tests.campaigns.test_delivery import people
from tests.conftest import Cli

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Zurich: the usual run


@pytest.fixture
def digest(session: Session) -> Digest:
    people(session, "partners", 3)
    made = configure_digest(
        session,
        mailing_list=get_list(session, name="partners"),
        cron="0 9 1 * *",
        auto_send=False,
        timezone="Europe/Zurich",
    )
    session.commit()
    return made


def news(session: Session, *days: date) -> None:
    for index, day in enumerate(days):
        add_item(
            session,
            title=f"Cooperatives story {index}",
            published_on=day,
            link=f"https://www.example.org/news/{index}",
            summary="What happened.",
            category="Cooperatives",
        )
    session.commit()


def campaigns(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Campaign)) or 0


def test_an_issue_is_built_once_per_month(session: Session, digest: Digest) -> None:
    news(session, date(2026, 11, 3), date(2026, 11, 27), date(2026, 10, 30), date(2026, 12, 1))
    first = build_issue(
        session,
        digest=digest,
        year=2026,
        month=11,
        composer=Composer(),
        sender="Cooperatives Unit <coop@example.org>",
        now=NOW,
    )
    session.commit()
    assert (first.outcome, first.items) == ("draft", 2)
    campaign = session.get(Campaign, first.campaign_id)
    assert campaign is not None and campaign.status is CampaignStatus.DRAFT
    assert campaign.subject == "News from the Cooperatives Unit: November 2026"
    titles = [item["title"] for item in campaign.meta["months"][0]["items"]]
    assert titles == ["Cooperatives story 1", "Cooperatives story 0"]  # newest first
    again = build_issue(
        session,
        digest=digest,
        year=2026,
        month=11,
        composer=Composer(),
        sender="Cooperatives Unit <coop@example.org>",
        now=NOW,
    )
    session.commit()
    assert again.outcome == "exists" and again.campaign_id == first.campaign_id
    assert campaigns(session) == 1


def test_a_month_without_news_sends_nothing(session: Session, digest: Digest) -> None:
    news(session, date(2026, 10, 2))
    result = build_issue(
        session,
        digest=digest,
        year=2026,
        month=11,
        composer=Composer(),
        sender="Cooperatives Unit <coop@example.org>",
        now=NOW,
    )
    assert result.outcome == "empty" and "no news items for November 2026" in result.message
    assert campaigns(session) == 0


def test_auto_send_queues_the_issue(session: Session, digest: Digest) -> None:
    digest.auto_send = True
    news(session, date(2026, 11, 9))
    result = build_issue(
        session,
        digest=digest,
        year=2026,
        month=11,
        composer=Composer(),
        sender="Cooperatives Unit <coop@example.org>",
        now=NOW,
    )
    session.commit()
    assert result.outcome == "sent" and "sending to 3 recipients" in result.message
    campaign = session.get(Campaign, result.campaign_id)
    assert campaign is not None and campaign.status is CampaignStatus.SENDING


def test_the_scheduled_run_covers_the_previous_month_in_the_units_zone(
    engine: Engine, session: Session, digest: Digest
) -> None:
    news(session, date(2026, 11, 30))
    scheduler = SchedulerService(
        engine=engine, composer=Composer(), timezone="Europe/Zurich", grace=timedelta(hours=1)
    )
    # 23:30 UTC on 30 November is already 1 December in Zurich: November's issue.
    scheduler.build_digest(digest.id, datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    session.rollback()
    made = session.scalar(select(Campaign))
    assert made is not None and made.subject.endswith("November 2026")
    assert previous_month(date(2026, 1, 1)) == (2025, 12)


def test_a_bad_cron_line_is_refused(session: Session) -> None:
    people(session, "partners", 1)
    with pytest.raises(DigestError, match="is not a cron line"):
        configure_digest(
            session,
            mailing_list=get_list(session, name="partners"),
            cron="every month",
            auto_send=False,
            timezone="UTC",
        )


def test_the_seed_listing_makes_a_digest(
    run: Cli, session: Session, seeds: Path, tmp_path: Path
) -> None:
    run.env["COOPMAIL_SECRET_KEY"] = "digest-cli-secret-key-0123456789"
    run.ok("lists", "create", "partners")
    listing = next(seeds.glob("004_*"))
    import_listing(session, text=listing.read_text(encoding="utf-8"), name=listing.name)
    session.commit()
    shown = run.ok("digest", "preview", "--month", "2020-07", "--output", "out")
    assert "(2 stories)" in shown.stdout
    html = (tmp_path / "out" / "digest-2020-07.html").read_text()
    assert "Brazil" in html and "July 2020" in html
    run.ok("digest", "configure", "--list", "partners", "--cron", "0 9 1 * *")
    assert run.ok("digest", "list", "--json").json()[0]["cron"] == "0 9 1 * *"
    built = run.ok("digest", "run", "--list", "partners", "--month", "2020-07", "--json").json()
    assert (built["outcome"], built["items"]) == ("draft", 2)
    twice = run.ok("digest", "run", "--list", "partners", "--month", "2020-07", "--json").json()
    assert twice["outcome"] == "exists"
    empty = run("digest", "preview", "--month", "2019-01")
    assert empty.exit_code == 1 and "no news items for January 2019" in empty.stderr
    bad = run("digest", "run", "--list", "partners", "--month", "2020-13")
    assert bad.exit_code == 1 and "YYYY-MM" in bad.stderr


def test_each_partner_reads_the_digest_in_their_language_where_it_exists(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    from campaigns.news import translate_item
    from tests.campaigns.test_delivery import deliver
    from tests.campaigns.test_languages import body_of, import_people, parsed
    from tests.smtp_server import RecordingSmtpServer

    import_people(
        session,
        "partners",
        [
            ("en@coop.example.org", "en", ""),
            ("fr@coop.example.org", "fr", ""),
            ("es@coop.example.org", "es", ""),
        ],
        tmp_path,
    )
    made = configure_digest(
        session,
        mailing_list=get_list(session, name="partners"),
        cron="0 9 1 * *",
        auto_send=True,
        timezone="Europe/Zurich",
    )
    news(session, date(2026, 11, 3))
    item = session.scalars(select(NewsItem)).one()
    translate_item(
        session,
        item_id=item.id,
        language="fr",
        title="Histoire des coopératives",
        summary="Ce qui s'est passé.",
    )
    session.commit()
    run = build_issue(
        session,
        digest=made,
        year=2026,
        month=11,
        composer=Composer(),
        sender="Cooperatives Unit <coop@example.org>",
        now=NOW,
    )
    session.commit()
    assert run.outcome == "sent"
    with RecordingSmtpServer() as server:
        deliver(engine, server)
        messages = parsed(server)
    french, spanish = messages["fr@coop.example.org"], messages["es@coop.example.org"]
    assert french["Content-Language"] == "fr" and "novembre 2026" in french["Subject"]
    assert "Histoire des coopératives" in body_of(french)
    assert "Cooperatives story 0" not in body_of(french)
    # No Spanish translation: the item's own title, in a Spanish issue.
    assert spanish["Content-Language"] == "es" and "noviembre" in spanish["Subject"]
    assert "Cooperatives story 0" in body_of(spanish)
    english = messages["en@coop.example.org"]
    assert english["Subject"] == "News from the Cooperatives Unit: November 2026"
    assert "Cooperatives story 0" in body_of(english)


def test_a_draft_issue_reads_its_month_again_and_keeps_its_own_text(
    session: Session, digest: Digest
) -> None:
    """A listing gives items without links; staff give them links after the issue was
    built: the draft took none of it, and still said "1 story" after a second was added."""
    item = NewsItem(title="Weavers vote a new statute", published_on=date(2026, 11, 3))
    item.source = "listing"
    session.add(item)
    session.commit()
    built = build_issue(
        session, digest=digest, year=2026, month=11, composer=Composer(),
        sender="Cooperatives Unit <coop@example.org>", now=NOW,
    )  # fmt: skip
    session.commit()
    assert built.campaign_id is not None and built.without_link == ("Weavers vote a new statute",)
    campaign = session.get(Campaign, built.campaign_id)
    assert campaign is not None and campaign.preheader == "1 story from November 2026"
    campaign.subject = "Our November, in short"  # staff rewrote it: it stays
    session.commit()

    edit_item(session, item_id=item.id, link="https://www.example.org/news/statute")
    news(session, date(2026, 11, 20))
    later = NOW + timedelta(hours=2)
    refreshed = refresh_issue(session, campaign_id=campaign.id, author="ana@unit.org", now=later)
    session.commit()
    assert (refreshed.items, refreshed.changed, refreshed.without_link) == (2, True, ())
    assert campaign.subject == "Our November, in short"
    assert campaign.preheader == "2 stories from November 2026"
    links = [entry["link"] for entry in campaign.meta["months"][0]["items"]]
    assert links == ["https://www.example.org/news/0", "https://www.example.org/news/statute"]
    french = session.scalars(
        select(CampaignVersion).where(
            CampaignVersion.campaign_id == campaign.id, CampaignVersion.language == "fr"
        )
    ).one()
    assert french.preheader == "2 articles de novembre 2026"
    assert [entry["link"] for entry in french.meta["months"][0]["items"]] == links
    assert french.updated_at == later
    revisions = list_revisions(session, campaign_id=campaign.id)
    assert revisions[-1].author == "ana@unit.org"
    [kept] = list_revisions(session, campaign_id=campaign.id, language="fr")  # its own too
    assert (kept.author, kept.created_at) == ("ana@unit.org", later)
    assert "2 articles de novembre 2026" in kept.source

    again = refresh_issue(session, campaign_id=campaign.id, author="ana@unit.org", now=later)
    assert not again.changed
    assert len(list_revisions(session, campaign_id=campaign.id)) == len(revisions)
    assert len(list_revisions(session, campaign_id=campaign.id, language="fr")) == 1


def test_only_a_digest_draft_reads_its_month_again(session: Session, digest: Digest) -> None:
    news(session, date(2026, 11, 3))
    built = build_issue(
        session, digest=digest, year=2026, month=11, composer=Composer(),
        sender="Cooperatives Unit <coop@example.org>", now=NOW,
    )  # fmt: skip
    assert built.campaign_id is not None
    letter = Campaign(
        subject="A letter", template="solidarity-letter", source_format=SourceFormat.MARKDOWN,
        source_name="letter.md", body="Hello", meta={}, from_address="coop@example.org",
        language="en", status=CampaignStatus.DRAFT, lists=[],
    )  # fmt: skip
    session.add(letter)
    session.flush()
    with pytest.raises(NotAnIssue):
        refresh_issue(session, campaign_id=letter.id, author="ana", now=NOW)
    issue = session.get(Campaign, built.campaign_id)
    assert issue is not None
    issue.status = CampaignStatus.SENT
    with pytest.raises(DraftOnly):
        refresh_issue(session, campaign_id=issue.id, author="ana", now=NOW)
