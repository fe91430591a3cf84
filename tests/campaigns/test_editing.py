"""Drafts change, and are deleted, until they are queued; every save is a revision."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import parse_content
from campaigns.drafts import get_campaign
from campaigns.editing import (
    DraftChanges,
    changed_content,
    delete_draft,
    edit_campaign,
)
from campaigns.errors import CampaignNotFound, ContentError, DraftOnly, RevisionNotFound
from campaigns.live_preview import preview_content
from campaigns.models import CampaignRevision, SourceFormat
from campaigns.restoring import restore_revision
from campaigns.revisions import campaign_source, compare_revisions, list_revisions
from campaigns.schedule import schedule_campaign
from tests.campaigns.test_delivery import letter, people, queue

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = b"a-test-secret-key-of-some-length"


def test_an_edit_is_saved_as_a_new_revision(session: Session, tmp_path: Path) -> None:
    people(session, "partners", 2)
    campaign = letter(session, tmp_path, ["partners"])
    source = campaign_source(campaign)
    assert parse_content(source, name="x.md", format=SourceFormat.MARKDOWN).meta == campaign.meta
    edited = source.replace("Warm greetings from Geneva.", "Warm greetings from Turin.")
    saved, _ = edit_campaign(
        session,
        composer=Composer(),
        campaign_id=campaign.id,
        content=parse_content(edited, name="letter.md", format=SourceFormat.MARKDOWN),
        author="ada@example.org",
        now=NOW,
    )
    session.commit()
    assert saved.stored is not None and saved.stored.number == 2
    again, _ = edit_campaign(
        session,
        composer=Composer(),
        campaign_id=campaign.id,
        content=parse_content(edited, name="letter.md", format=SourceFormat.MARKDOWN),
        author="ada@example.org",
        now=NOW,
    )
    session.commit()
    assert again.stored is None  # the same text again: no revision
    assert "Turin" in get_campaign(session, campaign_id=campaign.id).body
    revisions = list_revisions(session, campaign_id=campaign.id)
    assert [(r.number, r.author) for r in revisions] == [(1, ""), (2, "ada@example.org")]
    diff = compare_revisions(session, campaign_id=campaign.id, old=1, new=2)
    assert "-Warm greetings from Geneva. As another" in diff.text
    assert "+Warm greetings from Turin. As another" in diff.text

    restored = restore_revision(
        session,
        composer=Composer(),
        campaign_id=campaign.id,
        number=1,
        author="ada@example.org",
        now=NOW,
    )
    session.commit()
    assert "Geneva." in get_campaign(session, campaign_id=campaign.id).body
    newest = list_revisions(session, campaign_id=campaign.id)[-1]
    assert (newest.number, newest.restored_from) == (3, 1)
    assert restored.id == newest.id
    assert compare_revisions(session, campaign_id=campaign.id, old=1, new=3).lines == []
    with pytest.raises(RevisionNotFound):
        compare_revisions(session, campaign_id=campaign.id, old=1, new=9)


def test_a_bad_edit_changes_nothing(session: Session, tmp_path: Path) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    before = campaign.body
    with pytest.raises(ContentError, match="line 5: 'nope' is undefined"):
        edit_campaign(
            session,
            composer=Composer(),
            campaign_id=campaign.id,
            content=parse_content(
                "---\nsubject: Hi\n---\nBody\n{{ nope }}\n",
                name="letter.md",
                format=SourceFormat.MARKDOWN,
            ),
            author="ada",
            now=NOW,
        )
    session.rollback()
    assert get_campaign(session, campaign_id=campaign.id).body == before
    assert len(list_revisions(session, campaign_id=campaign.id)) == 1


def test_changes_from_a_form_keep_the_rest(session: Session, tmp_path: Path) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    changes = DraftChanges(subject="A new subject", fields={"place": "Dakar", "signoff": None})
    new = changed_content(campaign, changes)
    assert new.header["subject"] == "A new subject" and new.header["lists"] == ["partners"]
    assert new.meta["place"] == "Dakar" and "signoff" not in new.meta
    assert new.body == campaign.body


def test_a_scheduled_campaign_changes_but_a_queued_one_does_not(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    schedule_campaign(
        session, campaign=campaign, at=datetime(2099, 1, 1, tzinfo=UTC), now=datetime.now(UTC)
    )
    session.commit()
    source = campaign_source(campaign).replace("Geneva.", "Lyon.")
    edit_campaign(
        session,
        composer=Composer(),
        campaign_id=campaign.id,
        content=parse_content(source, name="l.md", format=SourceFormat.MARKDOWN),
        author="ada",
        now=NOW,
    )
    session.commit()
    with pytest.raises(DraftOnly, match="only a draft can be deleted"):
        delete_draft(session, campaign_id=campaign.id)
    session.rollback()
    other = letter(session, tmp_path, ["partners"])
    queue(session, other)
    with pytest.raises(DraftOnly) as refused:
        edit_campaign(
            session,
            composer=Composer(),
            campaign_id=other.id,
            content=parse_content(source, name="l.md", format=SourceFormat.MARKDOWN),
            author="ada",
            now=NOW,
        )
    assert refused.value.status == "sending" and refused.value.action == "change"
    session.rollback()
    with pytest.raises(DraftOnly):
        delete_draft(session, campaign_id=other.id)


def test_deleting_a_draft_takes_its_revisions(session: Session, tmp_path: Path) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    delete_draft(session, campaign_id=campaign.id)
    session.commit()
    with pytest.raises(CampaignNotFound):
        get_campaign(session, campaign_id=campaign.id)
    assert session.scalar(select(func.count()).select_from(CampaignRevision)) == 0


def test_unsaved_content_previews_as_a_subscriber_or_a_sample(session: Session) -> None:
    [address] = people(session, "partners", 1)
    text = "---\nsubject: Hello {{ subscriber.name }}\nsignatur: x\n---\nDear partners.\n"
    result = preview_content(
        session,
        composer=Composer(),
        text=text,
        template="solidarity-letter",
        language="fr",
        list_names=["partners"],
        to=address,
        base_url="https://news.example.org",
        key=KEY,
        today=date(2026, 11, 21),
    )
    assert result.recipient.email == address and result.subject == f"Hello Partner {address}"
    assert "21 novembre 2026" in result.text and "https://news.example.org/u/" in result.html
    assert [w.fields for w in result.warnings] == [("signatur",)]
    sample = preview_content(
        session,
        composer=Composer(),
        text="Just a body.\n",
        template="feature",
        base_url="https://news.example.org",
        key=KEY,
    )
    assert sample.recipient.email == "reader@example.org" and "Just a body." in sample.html
    with pytest.raises(ContentError, match="line 1"):
        preview_content(
            session,
            composer=Composer(),
            text="{{ missing }}\n",
            template="feature",
            base_url="https://news.example.org",
            key=KEY,
        )
