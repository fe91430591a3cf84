"""The gettext catalogs: complete, faithful to their msgids, and up to date with the sources.

``make messages`` extracts the words from the code and the templates; a translator fills the
``.po`` of each language. These tests say what is left to do when either forgets a step.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import jinja2
import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from subscribers.languages import LANGUAGES
from templates.catalogs import (
    LOCALE_DIR,
    POT_PATH,
    catalog_languages,
    catalog_path,
    format_date,
    format_decimal,
    gettext,
    install,
    ngettext,
    speaking,
    translations,
)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
NBSP = "\u00a0"


def read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def key(message: Message) -> tuple[str | None, str]:
    return message.context, forms(message.id)[0]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_translates_every_word_of_the_template(language: str) -> None:
    catalog = read(catalog_path(language))
    assert catalog.locale is not None and str(catalog.locale) == language
    wanted = {key(message) for message in messages(read(POT_PATH))}
    held = {key(message) for message in messages(catalog)}
    assert wanted - held == set(), "run `make messages`, then translate the new words"
    assert held - wanted == set(), "words no source uses any more: run `make messages`"
    assert not catalog.obsolete, "obsolete entries: run `make messages`"
    for message in messages(catalog):
        where = f"{language}: {forms(message.id)[0]!r}"
        assert not message.fuzzy, f"{where} is fuzzy: check the translation, drop the flag"
        strings = forms(message.string)
        if message.pluralizable:
            assert len(strings) == catalog.num_plurals, f"{where}: one form per plural"
        assert strings and all(text.strip() for text in strings), f"{where} is not translated"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_the_markup(language: str) -> None:
    for message in messages(read(catalog_path(language))):
        ids = forms(message.id)
        where = f"{language}: {ids[0]!r}"
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for text in forms(message.string):
            found = set(PLACEHOLDER.findall(text))
            # A singular form may say "one" in words instead of printing the count.
            assert found == expected or found == expected - {"num"}, where
            assert text.count("%%") == ids[-1].count("%%"), where
            text % dict.fromkeys(found, "x")  # no stray % that would break formatting
            assert sorted(TAG.findall(text)) == sorted(TAG.findall(ids[-1])), where


def test_french_keeps_its_punctuation_with_no_break_spaces() -> None:
    """A plain space before : ; ? ! or inside « » would let a line break there, on a page
    as in a plain-text mail (which wraps only at plain spaces)."""
    for message in messages(read(catalog_path("fr"))):
        for text in forms(message.string):
            assert not re.search(r" [:;?!»]|« ", text), text
            assert "'" not in TAG.sub("", text), f"typographic apostrophe wanted: {text}"


def test_the_template_is_what_the_sources_say(tmp_path: Path) -> None:
    """The committed .pot is what `make pot` extracts now: no word added, changed or moved
    in the code or a template without `make messages`."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed: the extraction is defined in the Makefile")
    fresh = tmp_path / "coopmail.pot"
    pybabel = f"{sys.executable} -m babel.messages.frontend"
    subprocess.run(
        ["make", "--no-print-directory", "-s", "pot", f"POT={fresh}", f"PYBABEL={pybabel}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

    def entries(catalog: Catalog) -> dict[tuple[str | None, str], tuple[object, ...]]:
        return {
            key(message): (
                tuple(forms(message.id)),
                sorted(message.flags),
                sorted({path for path, _ in message.locations}),
                message.auto_comments,
            )
            for message in messages(catalog)
        }

    committed, extracted = entries(read(POT_PATH)), entries(read(fresh))
    assert committed == extracted, "the sources' words changed: run `make messages`"
    assert len(extracted) > 100


def test_catalogs_are_where_the_code_looks_and_nothing_else_is_there() -> None:
    assert catalog_languages() == tuple(sorted(TRANSLATED))
    files = {path.relative_to(LOCALE_DIR).as_posix() for path in LOCALE_DIR.rglob("*.*")}
    wanted = {f"{language}/LC_MESSAGES/coopmail.po" for language in TRANSLATED}
    # No compiled .mo to drift from its .po: the catalogs are compiled when first used.
    assert files == wanted | {"coopmail.pot"}


def test_the_code_reads_the_catalogs() -> None:
    assert gettext("Unsubscribe", language="fr") == "Se désabonner"
    assert gettext("Unsubscribe", language="es") == "Darse de baja"
    assert gettext("Unsubscribe", language="en") == "Unsubscribe"
    assert gettext("Unsubscribe", language="de") == "Unsubscribe"  # not one of ours
    assert gettext("This link expires in %(expires)s.", language="fr", expires="2 h") == (
        "Ce lien reste valable 2 h."
    )
    story = ("%(num)s story from %(month)s", "%(num)s stories from %(month)s")
    assert ngettext(*story, 1, language="fr", month="mai") == "1 article de mai"
    assert (
        ngettext(*story, 1200, language="fr", month="mai") == f"1{chr(0x202F)}200 articles de mai"
    )
    assert ngettext(*story, 1200, language="en", month="May") == "1,200 stories from May"
    assert translations("fr") is translations("fr")  # compiled once
    for path in ("../locale/fr", "fr/../fr", "/fr"):  # a language is never a path
        assert translations(path).gettext("Unsubscribe") == "Unsubscribe"


def test_dates_and_numbers_follow_the_language() -> None:
    day = date(2026, 11, 21)
    assert format_date(day, language="en") == "21 November 2026"
    assert format_date(day, language="fr") == "21 novembre 2026"
    assert format_date(day, language="es") == "21 de noviembre de 2026"
    assert format_date(day, language="fr", format="LLLL y") == "novembre 2026"
    assert format_decimal(1234567, language="en") == "1,234,567"
    assert format_decimal(1234567, language="es") == "1.234.567"
    assert format_decimal(1234.5, language="fr") == f"1{chr(0x202F)}234,5"


def test_templates_speak_the_language_of_their_rendering() -> None:
    """What the admin's pages and the mails use: one environment, a language per rendering."""
    environment = jinja2.Environment(autoescape=True)
    install(environment)
    template = environment.from_string(
        '{{ _("Unsubscribe") }} · {{ day | format_date }} · {{ count | format_decimal }} · '
        # The count picks the plural form; the number is printed in the page's language.
        "{% trans count=count, n=count | format_decimal %}{{ n }} story from May"
        "{% pluralize %}{{ n }} stories from May{% endtrans %}"
    )
    values = {"day": date(2026, 11, 21), "count": 1200}
    with speaking("es"):
        spanish = template.render(values)
    with speaking("en"):
        english = template.render(values)
    assert spanish.startswith("Darse de baja · 21 de noviembre de 2026 · 1.200 · ")
    assert english == "Unsubscribe · 21 November 2026 · 1,200 · 1,200 stories from May"
    with pytest.raises(RuntimeError, match=r"outside templates\.catalogs\.speaking"):
        template.render(values)  # a rendering that chose no language is a mistake
