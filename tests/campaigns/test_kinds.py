"""Every kind renders with only a subject and a body: declared fields, typed, with defaults."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from campaigns.compose import Composer, load_unit
from campaigns.content import parse_content
from campaigns.errors import ContentError
from campaigns.kinds import KINDS, check_fields, starter
from campaigns.models import SourceFormat
from templates import CAMPAIGN_KINDS

VALUES = {
    "name": "Reader",
    "email": "reader@example.org",
    "language": "en",
    "unsubscribe_url": "https://news.example.org/u/T",
    "preferences_url": "https://news.example.org/p/T",
    "view_url": "https://news.example.org/v/T",
}
DAY = date(2026, 11, 21)


def compose(
    composer: Composer, template: str, text: str, *, language: str = "en"
) -> tuple[str, str]:
    content = parse_content(text, name="mail.md", format=SourceFormat.MARKDOWN)
    composition = composer.compose(
        content=content,
        template=template,
        subject="A word to partners",
        language=language,
        today=DAY,
    )
    return composition.html.fill(VALUES), composition.text.fill(VALUES)


def test_the_declarations_cover_every_built_in_kind() -> None:
    assert sorted(KINDS) == sorted(CAMPAIGN_KINDS)
    for kind in KINDS.values():
        data = kind.as_json()
        assert data["name"] == kind.name and data["label"]
        assert all(f["type"] and f["help"] for f in data["fields"])


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_a_subject_and_a_body_are_enough(kind: str) -> None:
    html, text = compose(Composer(), kind, "Our thanks to every cooperative this year.\n")
    assert "Our thanks to every cooperative" in html and "Our thanks to every" in text
    assert "None" not in text and "[]" not in text


def test_a_letter_takes_its_defaults_in_its_language(tmp_path: Path) -> None:
    (tmp_path / "unit.toml").write_text(
        'place = "Turin"\nsignature = ["Maria Rossi", "Head of the Unit"]\n'
        '[translations.fr]\nplace = "Turin"\n'
        'signature = ["Maria Rossi", "Cheffe de l\u2019unité"]\n',
        encoding="utf-8",
    )
    composer = Composer(templates_dir=tmp_path)
    html, text = compose(composer, "solidarity-letter", "Body.\n")
    assert "Turin, 21 November 2026" in text and "Dear colleagues and friends," in text
    assert "In solidarity," in text and "Maria Rossi\nHead of the Unit" in text
    html, text = compose(composer, "solidarity-letter", "Corps.\n", language="fr")
    assert "Turin, 21 novembre 2026" in text
    assert "Chères et chers collègues et amis," in text and "Solidairement," in text
    assert "Cheffe de l\u2019unité" in html
    _, text = compose(composer, "solidarity-letter", "Cuerpo.\n", language="es")
    assert "21 de noviembre de 2026" in text and "Estimadas y estimados colegas" in text


def test_the_unit_signs_with_its_name_when_unit_toml_has_no_signature() -> None:
    _, text = compose(Composer(), "solidarity-letter", "Body.\n")
    unit = load_unit(None)
    assert f"{unit.name}\n{unit.department}" in text and f"{unit.place}, 21 November" in text


def test_given_fields_win_and_an_iso_date_is_written_in_the_language() -> None:
    letter = "---\nplace: Dakar\ndate: 2026-10-02\nsignature: Awa Ndiaye\n---\nCorps.\n"
    _, text = compose(Composer(), "solidarity-letter", letter, language="fr")
    assert "Dakar, 2 octobre 2026" in text and "Awa Ndiaye" in text
    _, text = compose(Composer(), "solidarity-letter", "---\ndate: end of autumn\n---\nB.\n")
    assert "end of autumn" in text


def test_a_feature_without_an_interviewee_has_no_empty_byline() -> None:
    html, text = compose(Composer(), "feature", "### A question?\n\nAn answer.\n")
    assert 'class="byline"' not in html and "With " not in text
    html, _ = compose(Composer(), "feature", "---\ninterviewee: Lucía\nrole: baker\n---\nB.\n")
    assert "Lucía" in html and "baker" in html


def test_a_field_of_the_wrong_type_is_an_error_naming_it() -> None:
    with pytest.raises(ContentError, match="place must be text"):
        compose(Composer(), "solidarity-letter", "---\nplace: [a, b]\n---\nB.\n")
    with pytest.raises(ContentError, match="signature must be a line of text or a list"):
        compose(Composer(), "solidarity-letter", "---\nsignature: {a: b}\n---\nB.\n")


def test_an_unknown_field_is_a_warning_listing_the_known_ones() -> None:
    warnings = check_fields(KINDS["feature"], meta={"intervewee": "x"}, source="f.md")
    assert [str(w) for w in warnings] == [
        "feature does not use intervewee; its fields are: intro, interviewee, role"
    ]
    assert check_fields(KINDS["feature"], meta={"role": "x"}, source="f.md") == []


@pytest.mark.parametrize("kind", CAMPAIGN_KINDS)
def test_a_starter_file_composes_once_its_subject_is_written(kind: str) -> None:
    text = starter(KINDS[kind], lists=["partners"])
    for declared in KINDS[kind].fields:
        assert f"# {declared.name}: " in text
    content = parse_content(
        text.replace("subject:\n", "subject: Hello\n") + "Body.\n",
        name="new.md",
        format=SourceFormat.MARKDOWN,
    )
    assert content.header["lists"] == ["partners"] and content.meta == {}
    Composer().compose(content=content, template=kind, subject="Hello", today=DAY)
