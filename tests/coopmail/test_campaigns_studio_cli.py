"""`coopmail campaigns new`, `edit`, `delete`, `check`, `report`: the engine under the studio."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from campaigns.models import CampaignRevision
from tests.conftest import Cli

KEY = "a-test-secret-key-of-some-length"


@pytest.fixture
def staff(run: Cli) -> Cli:
    run.env["COOPMAIL_SECRET_KEY"] = KEY
    run.env["COOPMAIL_BASE_URL"] = "https://news.example.org"
    run.ok("lists", "create", "partners", "--title", "Partners of the Unit")
    run.ok("subscribers", "add", "amara@coop-sahel.example.org", "--list", "partners")
    return run


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_new_writes_a_starter_that_creates_once_filled_in(staff: Cli, tmp_path: Path) -> None:
    printed = staff.ok("campaigns", "new", "solidarity-letter", "--list", "partners").stdout
    assert "# salutation: " in printed and "template: solidarity-letter" in printed
    result = staff.ok("campaigns", "new", "news-article", "--output", "news.md")
    assert "news.md" in result.stderr and "campaigns create --content news.md" in result.stderr
    text = (tmp_path / "news.md").read_text()
    assert "# image: " in text and "# dateline: " in text
    refused = staff("campaigns", "new", "news-article", "--output", "news.md")
    assert refused.exit_code == 1 and "exists" in refused.stderr
    write(
        tmp_path / "news.md",
        text.replace("subject:\n", "subject: Storage shared\n").replace("[]", "[partners]")
        + "Three cooperatives now share one store.\n",
    )
    created = staff.ok("campaigns", "create", "--content", "news.md", "--json").json()
    assert created["warnings"] == []


def test_unknown_kinds_are_refused_with_the_known_ones(staff: Cli) -> None:
    result = staff("campaigns", "new", "poem")
    assert result.exit_code == 2 and "solidarity-letter" in result.stderr


def test_an_unknown_field_is_a_warning_and_the_draft_is_made(staff: Cli, tmp_path: Path) -> None:
    write(
        tmp_path / "letter.md",
        "---\nsubject: Thanks\ntemplate: solidarity-letter\nlists: [partners]\n"
        "salutaion: Hello all\n---\nA short letter.\n",
    )
    result = staff.ok("campaigns", "create", "--content", "letter.md", "--json")
    assert result.json()["warnings"] == [
        "solidarity-letter does not use salutaion; its fields are: "
        "place, date, salutation, signoff, signature"
    ]
    assert "Warning: solidarity-letter does not use salutaion" in result.stderr


LETTER = (
    "---\nsubject: Thanks\ntemplate: solidarity-letter\nlists: [partners]\n---\n"
    "A short letter to our partners.\n"
)


def test_edit_revisions_diff_restore_and_source(staff: Cli, tmp_path: Path) -> None:
    write(tmp_path / "letter.md", LETTER)
    staff.ok("campaigns", "create", "--content", "letter.md")
    source = staff.ok("campaigns", "source", "1").stdout
    assert "subject: Thanks" in source and "A short letter" in source
    write(tmp_path / "letter.md", source.replace("A short letter", "A warm letter"))
    edited = staff.ok("campaigns", "edit", "1", "--content", "letter.md")
    assert "saved as revision 2" in edited.stderr and "campaigns diff 1 1 2" in edited.stderr
    same = staff.ok("campaigns", "edit", "1", "--content", "letter.md")
    assert "already says this: nothing changed (revision 2)" in same.stderr
    again = staff.ok("campaigns", "edit", "1", "--content", "letter.md", "--json").json()
    assert (again["revision"], again["changed"]) == (2, False)
    rows = staff.ok("campaigns", "revisions", "1", "--json").json()
    assert [row["number"] for row in rows] == [1, 2]
    assert rows[1]["author"].endswith("(command line)")
    diff = staff.ok("campaigns", "diff", "1", "1", "2").stdout
    assert "-A short letter" in diff and "+A warm letter" in diff
    restored = staff.ok("campaigns", "restore", "1", "1")
    assert "revision 1's content again, as revision 3" in restored.stderr
    assert "A short letter" in staff.ok("campaigns", "source", "1").stdout
    assert "A warm letter" in staff.ok("campaigns", "source", "1", "--revision", "2").stdout
    missing = staff("campaigns", "diff", "1", "1", "7")
    assert missing.exit_code == 1 and "campaign 1 has no revision 7" in missing.stderr


def test_delete_a_draft_but_not_a_cancelled_campaign(staff: Cli, tmp_path: Path) -> None:
    write(tmp_path / "letter.md", LETTER)
    staff.ok("campaigns", "create", "--content", "letter.md")
    staff.ok("campaigns", "create", "--content", "letter.md")
    unconfirmed = staff("campaigns", "delete", "1")
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.stderr
    assert "Draft campaign 1 is deleted." in staff.ok("campaigns", "delete", "1", "--yes").stderr
    assert staff("campaigns", "show", "1").exit_code == 1
    cancelled = staff.ok("campaigns", "cancel", "2", "--yes")
    assert "Campaign 2 is cancelled; no message had been sent." in cancelled.stderr
    refused = staff("campaigns", "delete", "2", "--yes")
    assert refused.exit_code == 1
    assert "campaign 2 is cancelled; only a draft can be deleted" in refused.stderr
    assert "campaigns source 2 > FILE" in refused.stderr
    refused = staff("campaigns", "edit", "2", "--content", "letter.md")
    assert refused.exit_code == 1 and "only a draft or a scheduled campaign" in refused.stderr


def test_schedule_reads_a_local_time_by_the_shared_rule(staff: Cli, tmp_path: Path) -> None:
    write(tmp_path / "letter.md", LETTER)
    staff.ok("campaigns", "create", "--content", "letter.md")
    staff.env["COOPMAIL_TIMEZONE"] = "Europe/Zurich"
    result = staff.ok("campaigns", "schedule", "1", "--at", "2099-07-15T09:00")
    assert "2099-07-15 09:00 CEST" in result.stderr
    shown = staff.ok("campaigns", "status", "1", "--json").json()
    assert shown["scheduled_at"].startswith("2099-07-15T07:00")
    bad = staff("campaigns", "schedule", "1", "--at", "next tuesday")
    assert bad.exit_code == 2 and "'next tuesday' is not a time like" in bad.stderr


def test_a_campaign_from_before_revisions_is_edited_and_gets_its_first(
    staff: Cli, session: Session, tmp_path: Path
) -> None:
    """A draft written before migration 0013 has no revision: its first edit stores one,
    and the same edit again changes nothing (the command used to fail reading the last)."""
    write(tmp_path / "letter.md", LETTER)
    staff.ok("campaigns", "create", "--content", "letter.md")
    session.execute(delete(CampaignRevision))
    session.commit()
    write(tmp_path / "letter.md", LETTER.replace("A short letter", "A warm letter"))
    edited = staff.ok("campaigns", "edit", "1", "--content", "letter.md")
    assert "saved as revision 1." in edited.stderr
    session.execute(delete(CampaignRevision))
    session.commit()
    same = staff.ok("campaigns", "edit", "1", "--content", "letter.md")
    assert same.stderr.strip() == "Campaign 1 already says this: nothing changed."
