"""Language tags: how one is written, and which of the languages we write in it means.

The one rule for every way a tag comes in: a subscriber's field, an import file, the API,
the CLI, a campaign's front matter, the browser's Accept-Language, the admin. A person may
speak a language we do not write in (``pt-BR``): their tag is kept as given, written the
standard way; what they are sent is in the language of ours it means, else English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale

from subscribers.errors import InvalidLanguage
from subscribers.models import LANGUAGE_MAX

LANGUAGES: tuple[str, ...] = ("en", "fr", "es")
"""The languages we write in: public pages, system mails, the admin, the layout of mails.
English is the source (the catalogs' msgids); each other one has a catalog in
``templates/locale``."""

DEFAULT_LANGUAGE = "en"
"""What a person gets when none of their languages is one of ours."""

# RFC 5646 in practice: a primary language subtag of 2 or 3 letters, then subtags of 1 to 8
# letters or digits (script, region, variants). "_" is how POSIX locales (es_419) write "-".
LANGUAGE_TAG_PATTERN = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*"
"""A tag as ``check_language`` reads it (after ``_`` becomes ``-``), for a URL's pattern."""
_TAG = re.compile(LANGUAGE_TAG_PATTERN)
_SCRIPT = re.compile(r"[A-Za-z]{4}")
_REGION = re.compile(r"[A-Za-z]{2}|[0-9]{3}")


def check_language(value: str) -> str | None:
    """The tag written the standard way (``FR`` is ``fr``, ``es_419`` is ``es-419``,
    ``pt-br`` is ``pt-BR``, ``zh-hant-tw`` is ``zh-Hant-TW``); None when empty.

    Raises InvalidLanguage for anything that is not a language tag."""
    tag = value.strip().replace("_", "-")
    if not tag:
        return None
    if len(tag) > LANGUAGE_MAX or not _TAG.fullmatch(tag):
        raise InvalidLanguage(value=value)
    primary, *rest = tag.split("-")
    return "-".join([primary.lower(), *(_subtag_case(subtag) for subtag in rest)])


def _subtag_case(subtag: str) -> str:
    """RFC 5646 2.1.1: scripts in title case, regions in capitals, the rest lower case."""
    if _SCRIPT.fullmatch(subtag):
        return subtag.title()
    if _REGION.fullmatch(subtag):
        return subtag.upper()
    return subtag.lower()


def best_language(preferred: Iterable[str | None], *, available: Iterable[str]) -> str | None:
    """The first of ``available`` that the tags in ``preferred`` (best first) ask for, or
    None: ``fr-CA`` asks for ``fr-CA``, else ``fr``; a value that is no tag asks for nothing.

    Babel's negotiation (``Locale.negotiate`` without its parsing, which would refuse a tag
    CLDR does not know), answered in the spelling of ``available``."""
    tags = [tag for tag in (_lenient(value) for value in preferred) if tag]
    offered = {code.lower(): code for code in available}
    if not tags or not offered:
        return None
    chosen = negotiate_locale(tags, list(offered), sep="-")
    return offered.get(chosen.lower()) if chosen else None


def our_language(tag: str | None) -> str | None:
    """Which of our languages ``tag`` means (``fr-CA``, ``FR`` and ``fr`` are ``fr``;
    ``es_419`` is ``es``; ``en-GB`` is ``en``), or None for one we do not write in."""
    return best_language([tag], available=LANGUAGES)


def writing_language(tag: str | None) -> str:
    """The language we write to someone whose language is ``tag``: theirs when it is one of
    ours, else the default."""
    return our_language(tag) or DEFAULT_LANGUAGE


def language_name(tag: str) -> str:
    """A language's name as its speakers write it, capitalised for a menu (``Français``,
    ``Português (Brasil)``); the tag itself for one CLDR does not know."""
    try:
        name = Locale.parse(tag, sep="-").get_display_name() or tag
    except (ValueError, UnknownLocaleError):
        return tag
    return name[:1].upper() + name[1:]


def _lenient(value: str | None) -> str | None:
    """``value`` written the standard way, or None where it is no tag at all."""
    try:
        return check_language(value or "")
    except InvalidLanguage:
        return None
