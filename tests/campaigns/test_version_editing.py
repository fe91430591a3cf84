"""One version at a time, as the studio's tabs change them: a translation is added as a
copy of the default, changed alone, removed; changing the default version never touches
the translations; a translation last changed before the default is flagged; an edit that
changes nothing stores no revision. Every save of a translation is a revision of it,
compared and restored as the default version's are."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from campaigns.compose import Composer
from campaigns.content import Content
from campaigns.drafts import get_campaign
from campaigns.editing import DraftChanges, apply_edit, changed_content, prepare_edit
from campaigns.errors import (
    ContentError,
    DefaultVersion,
    DraftOnly,
    RevisionsOfTwoVersions,
    VersionExists,
    VersionNotFound,
)
from campaigns.models import CampaignRevision, SourceFormat
from campaigns.restoring import restore_revision
from campaigns.revisions import compare_revisions, latest_revision, list_revisions
from campaigns.versions import (
    add_version,
    apply_version_edit,
    campaign_versions,
    older_than_default,
    prepare_new_version,
    prepare_version_edit,
    remove_version,
    version_source,
)
from tests.campaigns.test_delivery import letter, people, queue
from tests.campaigns.test_languages import make_campaign

LATER = datetime.now(UTC) + timedelta(days=1)  # after the rows made now, whatever the clock
ADA = "ada@example.org"


def translation(language: str, subject: str, body: str) -> Content:
    return Content(
        name="studio.md",
        format=SourceFormat.MARKDOWN,
        body=body,
        body_line=1,
        header={"subject": subject, "preheader": "", "language": language},
        meta={"place": "Genève", "signature": ["Unité des coopératives"]},
    )


def edit_default(session: Session, campaign_id: int, body: str, now: datetime) -> None:
    campaign = get_campaign(session, campaign_id=campaign_id)
    draft = prepare_edit(
        session,
        composer=Composer(),
        campaign=campaign,
        content=changed_content(campaign, DraftChanges(body=body)),
    )
    apply_edit(session, campaign_id=campaign_id, draft=draft, author="ada@example.org", now=now)
    session.commit()


def texts(session: Session, campaign_id: int) -> dict[str, tuple[str, str]]:
    campaign = get_campaign(session, campaign_id=campaign_id)
    return {
        v.language: (v.subject, v.content.body)
        for v in campaign_versions(session, campaign=campaign)
    }


def test_a_version_is_added_as_a_copy_then_changed_alone_and_removed(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    session.commit()
    before = texts(session, campaign.id)
    assert before["fr"] == before["en"]  # a copy, to translate
    with pytest.raises(VersionExists):
        add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    with pytest.raises(VersionExists):
        add_version(
            session, campaign_id=campaign.id, language="en", author=ADA, now=LATER
        )  # the default
    draft = prepare_version_edit(
        session,
        composer=Composer(),
        campaign=get_campaign(session, campaign_id=campaign.id),
        content=translation("fr", "Aux tisserandes des Andes", "Les métiers ont tourné."),
    )
    assert apply_version_edit(
        session, campaign_id=campaign.id, version=draft, author=ADA, now=LATER
    )
    session.commit()
    after = texts(session, campaign.id)
    assert after["fr"] == ("Aux tisserandes des Andes", "Les métiers ont tourné.")
    assert after["en"] == before["en"]  # the default is not touched
    assert len(list_revisions(session, campaign_id=campaign.id)) == 1
    # The same text again changes nothing.
    assert None is apply_version_edit(
        session, campaign_id=campaign.id, version=draft, author=ADA, now=LATER
    )
    with pytest.raises(VersionNotFound):
        prepare_version_edit(
            session,
            composer=Composer(),
            campaign=get_campaign(session, campaign_id=campaign.id),
            content=translation("es", "Juntos", "Los telares."),
        )
    with pytest.raises(ContentError, match="line 1"):
        prepare_version_edit(
            session,
            composer=Composer(),
            campaign=get_campaign(session, campaign_id=campaign.id),
            content=translation("fr", "Aux tisserandes", "{{ meta.nowhere }}"),
        )
    remove_version(session, campaign_id=campaign.id, language="fr")
    session.commit()
    assert list(texts(session, campaign.id)) == ["en"]
    with pytest.raises(VersionNotFound):
        remove_version(session, campaign_id=campaign.id, language="fr")


def test_changing_the_default_keeps_every_translation_and_flags_them_older(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = make_campaign(session, tmp_path, body="Three languages.")
    before = texts(session, campaign.id)
    assert older_than_default(session, campaign=campaign) == []
    edit_default(session, campaign.id, "Three languages, and a new sentence.", LATER)
    after = texts(session, campaign.id)
    assert set(after) == {"en", "fr", "es"}
    assert after["fr"] == before["fr"] and after["es"] == before["es"]
    assert "a new sentence" in after["en"][1]
    campaign = get_campaign(session, campaign_id=campaign.id)
    assert older_than_default(session, campaign=campaign) == ["es", "fr"]
    draft = prepare_version_edit(
        session,
        composer=Composer(),
        campaign=campaign,
        content=translation("fr", "Ensemble cet hiver", "Trois langues, et une phrase."),
    )
    apply_version_edit(
        session,
        campaign_id=campaign.id,
        version=draft,
        author=ADA,
        now=LATER + timedelta(minutes=1),
    )
    session.commit()
    assert older_than_default(session, campaign=campaign) == ["es"]
    assert texts(session, campaign.id)["es"] == before["es"]


def test_the_default_cannot_take_the_language_of_a_translation(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = make_campaign(session, tmp_path)
    with pytest.raises(ContentError, match="fr already has its own version"):
        prepare_edit(
            session,
            composer=Composer(),
            campaign=campaign,
            content=changed_content(campaign, DraftChanges(language="fr")),
        )


def test_an_edit_that_changes_nothing_stores_no_revision(session: Session, tmp_path: Path) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    saved_at = campaign.updated_at
    edit_default(session, campaign.id, campaign.body, LATER)
    assert len(list_revisions(session, campaign_id=campaign.id)) == 1
    assert get_campaign(session, campaign_id=campaign.id).updated_at == saved_at
    edit_default(session, campaign.id, campaign.body + "\nOne more line.\n", LATER)
    assert [r.number for r in list_revisions(session, campaign_id=campaign.id)] == [1, 2]


def test_versions_of_a_campaign_past_its_draft_stay_as_they_are(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    add_version(session, campaign_id=campaign.id, language="es", author=ADA, now=LATER)
    session.commit()
    queue(session, get_campaign(session, campaign_id=campaign.id))
    with pytest.raises(DraftOnly):
        add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    with pytest.raises(DraftOnly):
        remove_version(session, campaign_id=campaign.id, language="es")
    with pytest.raises(DraftOnly):
        prepare_version_edit(
            session,
            composer=Composer(),
            campaign=get_campaign(session, campaign_id=campaign.id),
            content=translation("es", "Juntos", "Los telares."),
        )


def test_a_new_translation_is_rendered_before_it_is_added_and_given_for_its_language(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    unnamed = replace(translation("fr", "Ensemble", "Les métiers."), header={"subject": "Ensemble"})
    draft = prepare_new_version(
        session, composer=Composer(), campaign=campaign, content=unnamed, language="FR"
    )
    assert draft.language == "fr" and list(texts(session, campaign.id)) == ["en"]
    add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    assert apply_version_edit(
        session, campaign_id=campaign.id, version=draft, author=ADA, now=LATER
    )
    session.commit()
    assert texts(session, campaign.id)["fr"] == ("Ensemble", "Les métiers.")
    campaign = get_campaign(session, campaign_id=campaign.id)
    with pytest.raises(VersionExists):
        prepare_new_version(
            session, composer=Composer(), campaign=campaign, content=unnamed, language="fr"
        )
    with pytest.raises(ContentError, match="says `language: fr` but this is the es version"):
        prepare_version_edit(
            session,
            composer=Composer(),
            campaign=campaign,
            content=translation("fr", "Juntos", "Los telares."),
            language="es",
        )
    with pytest.raises(DefaultVersion):
        prepare_version_edit(
            session,
            composer=Composer(),
            campaign=campaign,
            content=translation("en", "Together", "Looms."),
        )
    with pytest.raises(DefaultVersion):
        remove_version(session, campaign_id=campaign.id, language="en")


# --- a translation's history: every save kept, compared and restored --------------------


def save_french(session: Session, campaign_id: int, subject: str, body: str) -> int | None:
    draft = prepare_version_edit(
        session,
        composer=Composer(),
        campaign=get_campaign(session, campaign_id=campaign_id),
        content=translation("fr", subject, body),
    )
    stored = apply_version_edit(
        session, campaign_id=campaign_id, version=draft, author=ADA, now=LATER
    )
    session.commit()
    return stored.number if stored is not None else None


def test_every_save_of_a_translation_is_a_revision_compared_and_restored(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    session.commit()
    assert save_french(session, campaign.id, "Aux tisserandes", "Les métiers.") == 3
    assert save_french(session, campaign.id, "Aux tisserandes", "Les métiers.") is None
    french = list_revisions(session, campaign_id=campaign.id, language="fr")
    assert [(r.number, r.language, r.author) for r in french] == [(2, "fr", ADA), (3, "fr", ADA)]
    assert french[0].source.startswith("---\nsubject: ") and "language: fr" in french[0].source
    # The default version's history is its own: by default, and under its language.
    assert [r.number for r in list_revisions(session, campaign_id=campaign.id)] == [1]
    assert [r.number for r in list_revisions(session, campaign_id=campaign.id, language="en")] == [
        1
    ]
    newest = latest_revision(session, campaign_id=campaign.id)
    assert newest is not None and newest.number == 1  # when the default last changed
    assert (
        older_than_default(session, campaign=get_campaign(session, campaign_id=campaign.id)) == []
    )

    diff = compare_revisions(session, campaign_id=campaign.id, old=2, new=3)
    assert diff.language == "fr"
    assert "+subject: Aux tisserandes" in diff.lines and "+Les métiers." in diff.lines
    with pytest.raises(RevisionsOfTwoVersions, match=r"revision 1 .* default version and"):
        compare_revisions(session, campaign_id=campaign.id, old=1, new=3)
    with pytest.raises(VersionNotFound):
        list_revisions(session, campaign_id=campaign.id, language="de")

    restored = restore_revision(
        session, composer=Composer(), campaign_id=campaign.id, number=2, author=ADA, now=LATER
    )
    session.commit()
    assert (restored.number, restored.language, restored.restored_from) == (4, "fr", 2)
    assert texts(session, campaign.id)["fr"] == texts(session, campaign.id)["en"]  # the copy
    assert compare_revisions(session, campaign_id=campaign.id, old=2, new=4).lines == []
    assert [r.number for r in list_revisions(session, campaign_id=campaign.id)] == [1]


def test_a_removed_translations_revisions_stay_and_come_back_with_it(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    session.commit()
    save_french(session, campaign.id, "Aux tisserandes", "Les métiers.")
    remove_version(session, campaign_id=campaign.id, language="fr")
    session.commit()
    assert [r.number for r in list_revisions(session, campaign_id=campaign.id, language="fr")] == [
        2,
        3,
    ]
    with pytest.raises(VersionNotFound):
        restore_revision(
            session, composer=Composer(), campaign_id=campaign.id, number=3, author=ADA, now=LATER
        )
    session.rollback()
    add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    restore_revision(
        session, composer=Composer(), campaign_id=campaign.id, number=3, author=ADA, now=LATER
    )
    session.commit()
    assert texts(session, campaign.id)["fr"] == ("Aux tisserandes", "Les métiers.")
    assert [r.number for r in list_revisions(session, campaign_id=campaign.id, language="fr")] == [
        2,
        3,
        4,
        5,
    ]


def test_a_campaign_made_in_languages_starts_a_history_for_each(
    session: Session, tmp_path: Path
) -> None:
    people(session, "partners", 1)
    campaign = make_campaign(session, tmp_path, body="Three languages.")
    for language, numbers in ((None, [1]), ("fr", [2]), ("es", [3])):
        kept = list_revisions(session, campaign_id=campaign.id, language=language)
        assert [r.number for r in kept] == numbers
    assert (
        "language: es" in list_revisions(session, campaign_id=campaign.id, language="es")[0].source
    )


def test_a_translation_without_revisions_keeps_its_text_before_its_first_save(
    session: Session, tmp_path: Path
) -> None:
    """A translation written before translations had revisions (none backfilled): its
    first save keeps the text it replaces, so no save loses one."""
    people(session, "partners", 1)
    campaign = letter(session, tmp_path, ["partners"])
    add_version(session, campaign_id=campaign.id, language="fr", author=ADA, now=LATER)
    session.execute(delete(CampaignRevision).where(CampaignRevision.language == "fr"))
    session.commit()
    before = version_source(campaign_versions(session, campaign=campaign)[1])
    assert save_french(session, campaign.id, "Aux tisserandes", "Les métiers.") == 3
    old, new = list_revisions(session, campaign_id=campaign.id, language="fr")
    assert (old.number, old.author, old.source) == (2, "", before)
    assert (new.number, new.author) == (3, ADA) and "Les métiers." in new.source
