"""`coopmail campaigns` with one campaign in several languages and variants."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from tests.conftest import Cli

KEY = "a-test-secret-key-of-some-length"
HEADER = "template: solidarity-letter\nlists: [partners]\n"


def version(path: Path, language: str, subject: str, body: str, *, shared: bool) -> None:
    path.write_text(
        f'---\nsubject: "{subject}"\nlanguage: {language}\n{HEADER if shared else ""}'
        'place: Geneva\ndate: 1 December 2026\nsalutation: "-"\nsignoff: "-"\n'
        f"signature: [Cooperatives Unit]\n---\n{body}\n",
        encoding="utf-8",
    )


@pytest.fixture
def staff(run: Cli, tmp_path: Path) -> Cli:
    run.env["COOPMAIL_SECRET_KEY"] = KEY
    run.env["COOPMAIL_BASE_URL"] = "https://news.example.org"
    run.ok("lists", "create", "partners")
    run.ok("lists", "create", "partenaires", "--language", "fr")
    for address, language, region in [
        ("amara@coop.example.org", "en", "africa"),
        ("bea@coop.example.org", "es", "americas"),
        ("chen@coop.example.org", "en", "asia"),
    ]:
        run.ok(
            "subscribers",
            "add",
            address,
            "--list",
            "partners",
            "--language",
            language,
            "--attribute",
            f"region={region}",
        )
    run.ok("subscribers", "add", "claire@coop.example.org", "--list", "partenaires")
    body = "{% if subscriber.attributes.region == 'africa' %}Karibu.{% else %}Hello.{% endif %}"
    version(tmp_path / "letter.md", "en", "Winter letter", f"Our news. {body}", shared=True)
    version(tmp_path / "lettre.md", "fr", "Lettre d'hiver", "Nos nouvelles.", shared=False)
    version(tmp_path / "carta.md", "es", "Carta de invierno", "Nuestras noticias.", shared=False)
    return run


def test_create_show_preview_and_variants_in_three_languages(staff: Cli, tmp_path: Path) -> None:
    created = staff.ok(
        "campaigns",
        "create",
        "--content",
        "letter.md",
        "--content",
        "lettre.md",
        "--content",
        "carta.md",
        "--list",
        "partners",
        "--list",
        "partenaires",
        "--json",
    ).json()
    campaign_id = str(created["id"])
    shown = staff.ok("campaigns", "show", campaign_id, "--json").json()
    assert shown["language"] == "en"
    assert [
        (v["language"], v["default"], v["subject"], v["recipients"]) for v in shown["versions"]
    ] == [
        ("en", True, "Winter letter", 2),
        ("es", False, "Carta de invierno", 1),
        ("fr", False, "Lettre d'hiver", 1),
    ]
    table = staff.ok("campaigns", "show", campaign_id).stdout
    assert "en (default)" in table and "Lettre d'hiver" in table

    staff.ok("campaigns", "preview", campaign_id, "--language", "fr", "--output", "out")
    raw = (tmp_path / "out" / f"campaign-{campaign_id}-fr.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Lettre d'hiver" and message["Content-Language"] == "fr"
    html = (tmp_path / "out" / f"campaign-{campaign_id}-fr.html").read_text()
    assert "Nos nouvelles." in html and '<html lang="fr"' in html

    variants = staff.ok("campaigns", "variants", campaign_id, "--json").json()
    assert [(v["language"], v["values"], v["recipients"]) for v in variants] == [
        ("en", {"attributes.region": "africa"}, 1),
        ("en", {"attributes.region": "asia"}, 1),
        ("es", {}, 1),
        ("fr", {}, 1),
    ]
    staff.ok("campaigns", "preview", campaign_id, "--variant", "1", "--output", "out")
    second = (tmp_path / "out" / f"campaign-{campaign_id}-variant-1.html").read_text()
    assert "Hello." in second and "Karibu." not in second

    missing = staff("campaigns", "preview", campaign_id, "--language", "de", "--output", "out")
    assert missing.exit_code == 1
    assert "has no version in de; its versions: en, es, fr" in missing.stderr
    assert f"coopmail campaigns versions list {campaign_id}" in missing.stderr


def test_a_translation_without_its_language_is_refused_in_one_line(
    staff: Cli, tmp_path: Path
) -> None:
    (tmp_path / "lettre.md").write_text(
        (tmp_path / "lettre.md").read_text().replace("language: fr\n", "")
    )
    result = staff("campaigns", "create", "--content", "letter.md", "--content", "lettre.md")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: lettre.md, line 2: a translation names its language")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_list_title_in_french_names_the_list_in_french_mails(staff: Cli, tmp_path: Path) -> None:
    edited = staff.ok(
        "lists",
        "edit",
        "partenaires",
        "--in",
        "fr",
        "--title",
        "Partenaires du service",
        "--json",
    ).json()
    assert edited["translations"] == {"fr": {"title": "Partenaires du service"}}
    created = staff.ok(
        "campaigns",
        "create",
        "--content",
        "letter.md",
        "--content",
        "lettre.md",
        "--list",
        "partenaires",
        "--json",
    ).json()
    staff.ok("campaigns", "preview", str(created["id"]), "--output", "out")
    raw = (tmp_path / "out" / f"campaign-{created['id']}.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Content-Language"] == "fr"
    assert message["List-Id"] == "Partenaires du service <partenaires.news.example.org>"
