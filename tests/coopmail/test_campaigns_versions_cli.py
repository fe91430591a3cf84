"""`coopmail campaigns versions`: one translation at a time, as the studio's tabs do."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli, CliResult
from tests.coopmail.test_campaigns_languages_cli import staff, version

__all__ = ["staff"]


def one_line_error(result: CliResult, *fragments: str, status: int = 1) -> None:
    """A refusal (1) is one line; click's usage errors (2) end in one such line."""
    assert result.exit_code == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and (status == 2 or len(lines) == 1), lines
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def draft(staff: Cli) -> str:
    created = staff.ok(
        "campaigns",
        "create",
        "--content",
        "letter.md",
        "--list",
        "partners",
        "--list",
        "partenaires",
        "--json",
    ).json()
    return str(created["id"])


def listed(staff: Cli, campaign_id: str) -> dict[str, dict[str, object]]:
    rows = staff.ok("campaigns", "versions", "list", campaign_id, "--json").json()
    return {row["language"]: row for row in rows}


def test_a_translation_is_added_edited_listed_and_removed(staff: Cli, tmp_path: Path) -> None:
    campaign_id = draft(staff)
    assert list(listed(staff, campaign_id)) == ["en"]

    added = staff.ok("campaigns", "versions", "add", campaign_id, "fr")
    assert f"versions source {campaign_id} fr > FILE" in added.stderr
    copy = listed(staff, campaign_id)["fr"]
    assert (copy["subject"], copy["default"], copy["recipients"]) == ("Winter letter", False, 1)
    source = staff.ok("campaigns", "versions", "source", campaign_id, "fr").stdout
    assert "language: fr" in source and "Winter letter" in source and "Our news." in source

    saved = staff.ok("campaigns", "versions", "edit", campaign_id, "--content", "lettre.md")
    assert f"The fr version of campaign {campaign_id} is saved as revision 3." in saved.stderr
    again = staff.ok(
        "campaigns", "versions", "edit", campaign_id, "--content", "lettre.md", "--json"
    ).json()
    assert again == {"id": int(campaign_id), "language": "fr", "changed": False, "revision": None}
    same = staff.ok("campaigns", "versions", "edit", campaign_id, "--content", "lettre.md")
    assert "already says this: nothing changed" in same.stderr

    # A file without `language:` is the version named on the command line (written "ES").
    (tmp_path / "carta.md").write_text(
        (tmp_path / "carta.md").read_text().replace("language: es\n", "")
    )
    added = staff.ok(
        "campaigns", "versions", "add", campaign_id, "ES", "--content", "carta.md", "--json"
    ).json()
    assert added == {"id": int(campaign_id), "language": "es"}
    versions = listed(staff, campaign_id)
    assert [
        (v["language"], v["default"], v["subject"], v["recipients"], v["older_than_default"])
        for v in versions.values()
    ] == [
        ("en", True, "Winter letter", 2, False),
        ("es", False, "Carta de invierno", 1, False),
        ("fr", False, "Lettre d'hiver", 1, False),
    ]
    shown = staff.ok("campaigns", "show", campaign_id, "--json").json()
    assert [v["subject"] for v in shown["versions"]] == [
        "Winter letter",
        "Carta de invierno",
        "Lettre d'hiver",
    ]

    version(tmp_path / "letter.md", "en", "Winter letter", "New news.", shared=False)
    staff.ok("campaigns", "edit", campaign_id, "--content", "letter.md")
    versions = listed(staff, campaign_id)
    assert [v["older_than_default"] for v in versions.values()] == [False, True, True]
    rows = staff.ok("campaigns", "versions", "list", campaign_id).table()
    assert rows["fr"][1] == "1" and " ".join(rows["fr"][4].split()) == "older than the default"
    assert rows["en (default)"][4] == ""

    removed = staff.ok("campaigns", "versions", "remove", campaign_id, "fr", "--yes")
    assert f"The fr version of campaign {campaign_id} is removed." in removed.stderr
    assert list(listed(staff, campaign_id)) == ["en", "es"]
    assert listed(staff, campaign_id)["en"]["recipients"] == 3  # claire gets the default


def test_each_mistake_is_one_line_and_changes_nothing(staff: Cli, tmp_path: Path) -> None:
    campaign_id = draft(staff)
    staff.ok("campaigns", "versions", "add", campaign_id, "fr")
    one_line_error(
        staff("campaigns", "versions", "list", "999"),
        "there is no campaign 999",
        "coopmail campaigns list",
    )
    one_line_error(
        staff("campaigns", "versions", "add", campaign_id, "fr"),
        f"campaign {campaign_id} already has a version in fr",
        f"campaigns versions edit {campaign_id} --content FILE",
    )
    one_line_error(
        staff("campaigns", "versions", "add", campaign_id, "fr", "--content", "lettre.md"),
        "already has a version in fr",
    )
    one_line_error(
        staff("campaigns", "versions", "add", campaign_id, "x!"),
        "'x!' is not a language tag",
        status=2,
    )
    one_line_error(
        staff("campaigns", "versions", "edit", campaign_id, "--content", "carta.md"),
        f"campaign {campaign_id} has no version in es; its versions: en, fr",
        f"coopmail campaigns versions list {campaign_id}",
    )
    one_line_error(
        staff("campaigns", "versions", "remove", campaign_id, "de", "--yes"),
        "has no version in de",
    )
    one_line_error(
        staff("campaigns", "versions", "remove", campaign_id, "en", "--yes"),
        f"en is the default version of campaign {campaign_id}",
        f"coopmail campaigns edit {campaign_id} --content FILE",
    )
    one_line_error(
        staff("campaigns", "versions", "source", campaign_id, "en"),
        f"coopmail campaigns source {campaign_id}",
    )
    one_line_error(staff("campaigns", "versions", "remove", campaign_id, "fr"), "--yes", status=2)

    one_line_error(
        staff("campaigns", "versions", "add", campaign_id, "es", "--content", "lettre.md"),
        "lettre.md, line 2: the front matter says `language: fr` but this is the es version",
    )
    (tmp_path / "carta.md").write_text(
        (tmp_path / "carta.md").read_text().replace("Nuestras noticias.", "{{ nope(")
    )
    broken = staff("campaigns", "versions", "add", campaign_id, "es", "--content", "carta.md")
    one_line_error(broken, "carta.md, line ")
    assert list(listed(staff, campaign_id)) == ["en", "fr"]  # nothing half-added
    (tmp_path / "lettre.md").write_text(
        (tmp_path / "lettre.md").read_text().replace("Nos nouvelles.", "{% if %}")
    )
    one_line_error(
        staff("campaigns", "versions", "edit", campaign_id, "--content", "lettre.md"),
        "lettre.md, line ",
    )
    assert listed(staff, campaign_id)["fr"]["subject"] == "Winter letter"  # the copy, as it was
    version(tmp_path / "lettre.md", "fr", "Lettre d'hiver", "Nos nouvelles.", shared=False)

    staff.ok("campaigns", "schedule", campaign_id, "--at", "2099-07-15T09:00")
    staff.ok("campaigns", "versions", "edit", campaign_id, "--content", "lettre.md")
    one_line_error(
        staff("campaigns", "versions", "remove", campaign_id, "fr", "--yes"),
        "is scheduled; only a draft can be deleted",
        f"coopmail campaigns unschedule {campaign_id}",
    )
    staff.ok("campaigns", "cancel", campaign_id, "--yes")
    one_line_error(
        staff("campaigns", "versions", "add", campaign_id, "es"),
        "is cancelled; only a draft or a scheduled campaign can be changed",
    )
    one_line_error(
        staff("campaigns", "versions", "edit", campaign_id, "--content", "lettre.md"),
        "is cancelled; only a draft or a scheduled campaign can be changed",
    )
    one_line_error(
        staff("campaigns", "versions", "remove", campaign_id, "fr", "--yes"),
        "is cancelled; only a draft can be deleted",
    )
    assert list(listed(staff, campaign_id)) == ["en", "fr"]


def test_a_translations_revisions_are_listed_compared_and_restored(staff: Cli) -> None:
    campaign_id = draft(staff)
    staff.ok("campaigns", "versions", "add", campaign_id, "fr")  # revision 2: the copy
    staff.ok("campaigns", "versions", "edit", campaign_id, "--content", "lettre.md")  # 3
    french = staff.ok("campaigns", "revisions", campaign_id, "--language", "FR", "--json").json()
    assert [(r["number"], r["language"]) for r in french] == [(2, "fr"), (3, "fr")]
    default = staff.ok("campaigns", "revisions", campaign_id, "--json").json()
    assert [(r["number"], r["language"]) for r in default] == [(1, None)]
    rows = staff.ok("campaigns", "revisions", campaign_id, "--language", "fr").table()
    assert list(rows) == ["2", "3"]

    diff = staff.ok("campaigns", "diff", campaign_id, "2", "3").stdout
    assert "-subject: Winter letter" in diff and "+subject: Lettre d'hiver" in diff
    one_line_error(
        staff("campaigns", "diff", campaign_id, "1", "3"),
        f"revision 1 of campaign {campaign_id} is of the default version and revision 3 of "
        "the fr version",
        f"`coopmail campaigns revisions {campaign_id} --language fr`",
    )
    one_line_error(
        staff("campaigns", "revisions", campaign_id, "--language", "de"),
        f"campaign {campaign_id} has no version in de",
    )
    assert "language: fr" in staff.ok("campaigns", "source", campaign_id, "--revision", "2").stdout

    restored = staff.ok("campaigns", "restore", campaign_id, "2")
    assert (
        f"The fr version of campaign {campaign_id} has revision 2's content again, as revision 4."
        in restored.stderr
    )
    assert listed(staff, campaign_id)["fr"]["subject"] == "Winter letter"  # the copy again
    assert listed(staff, campaign_id)["en"]["subject"] == "Winter letter"
    restored_default = staff.ok("campaigns", "restore", campaign_id, "1")
    assert f"Campaign {campaign_id} has revision 1's content again" in restored_default.stderr
    newest = staff.ok("campaigns", "revisions", campaign_id, "--language", "fr", "--json").json()
    assert [(r["number"], r["restored_from"]) for r in newest][-1] == (4, 2)
