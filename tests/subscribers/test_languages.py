"""The one rule for language tags: how a tag is written, and which of ours it means."""

from __future__ import annotations

import pytest

from subscribers.errors import InvalidField, InvalidLanguage
from subscribers.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    best_language,
    check_language,
    language_name,
    our_language,
    writing_language,
)
from templates.catalogs import catalog_languages


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("FR", "fr"),
        ("pt-BR", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("es_419", "es-419"),
        ("zh-hant-TW", "zh-Hant-TW"),
        ("de-ch-1901", "de-CH-1901"),
        ("", None),
        (" es ", "es"),
    ],
)
def test_tags_are_written_the_standard_way(raw: str, tag: str | None) -> None:
    assert check_language(raw) == tag


@pytest.mark.parametrize("raw", ["french!", "e", "en\nBcc", "x" * 40, "fr--CA", "x-private"])
def test_what_is_no_tag_is_refused_with_the_value(raw: str) -> None:
    with pytest.raises(InvalidLanguage) as caught:
        check_language(raw)
    assert caught.value.value == raw
    assert isinstance(caught.value, InvalidField)  # the API answers it as invalid_field
    assert "is not a language tag such as en, fr or pt-BR" in str(caught.value)


@pytest.mark.parametrize(
    ("tag", "ours"),
    [
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("FR", "fr"),
        ("FR-ca", "fr"),
        ("es_419", "es"),
        ("es-419", "es"),
        ("en-GB", "en"),
        ("pt-BR", None),
        ("de", None),
        ("not a tag", None),
        ("", None),
        (None, None),
    ],
)
def test_which_of_our_languages_a_tag_means(tag: str | None, ours: str | None) -> None:
    assert our_language(tag) == ours
    assert writing_language(tag) == (ours or DEFAULT_LANGUAGE)


def test_the_best_of_the_available_languages_is_the_first_one_asked_for() -> None:
    assert best_language(["de", "es-MX", "fr"], available=LANGUAGES) == "es"
    # An exact region wins over its language; the answer is spelled as available.
    assert best_language(["pt-br"], available=["pt", "pt-BR"]) == "pt-BR"
    assert best_language(["pt-PT"], available=["pt", "pt-BR"]) == "pt"
    # A tag CLDR does not know is still matched, never an error.
    assert best_language(["tlh"], available=["tlh", "en"]) == "tlh"
    assert best_language(["garbage!", None, ""], available=LANGUAGES) is None
    assert best_language(["fr"], available=[]) is None


def test_languages_are_named_as_their_speakers_write_them() -> None:
    assert [language_name(code) for code in LANGUAGES] == ["English", "Français", "Español"]
    assert language_name("pt-BR") == "Português (Brasil)"
    assert language_name("tlh") == "tlh"


def test_every_language_of_ours_but_the_source_has_a_catalog() -> None:
    assert LANGUAGES[0] == DEFAULT_LANGUAGE == "en"  # the msgids are English
    assert set(catalog_languages()) == set(LANGUAGES) - {DEFAULT_LANGUAGE}
