"""The gettext catalogs: our words in every language we write in, English being the source.

One domain, ``coopmail``, for the public pages, the system mails, the mails' own layout and
the staff admin: ``locale/<language>/LC_MESSAGES/coopmail.po`` beside the template
``locale/coopmail.pot`` that ``make messages`` extracts from the Python code and the
templates. English needs no catalog: its words are the msgids.

A catalog is compiled here, from its .po, the first time a language is asked for (Babel's
``read_po``, then ``write_mo`` into memory): nothing to build at install time, and no
compiled .mo in the repository to fall out of step with the .po a translator edited.

Templates get the words through ``jinja2.ext.i18n`` (``{% trans %}``, ``_()``), and dates and
numbers through the filters ``format_date`` and ``format_decimal`` (Babel, CLDR), installed
by ``install`` with callables that answer in the language of the rendering under way, set by
``speaking``: one environment serves every language, and renderings in several threads (or
asyncio tasks) at once each keep their own, as a ``ContextVar`` is local to each. Code says
``gettext(msgid, language=...)`` and ``format_date(day, language=...)`` the same way.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from templates import TEMPLATES_DIR

__all__ = [
    "DOMAIN",
    "LOCALE_DIR",
    "POT_PATH",
    "catalog_languages",
    "catalog_path",
    "format_date",
    "format_decimal",
    "format_locale",
    "gettext",
    "install",
    "ngettext",
    "speaking",
    "translations",
]

DOMAIN = "coopmail"
LOCALE_DIR: Path = TEMPLATES_DIR / "locale"
POT_PATH: Path = LOCALE_DIR / f"{DOMAIN}.pot"
_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")  # a language, never a path
# The CLDR locale whose dates and numbers a language is written with, where it is not the
# language's own: the unit writes English as international organisations do, so a date
# reads "21 November 2026", not "November 21, 2026".
_FORMAT_LOCALES = {"en": "en_GB"}


def catalog_path(language: str) -> Path:
    """Where the catalog of ``language`` (``fr``, ``pt-BR``) is, whether or not it exists:
    gettext names the folder as a POSIX locale (``pt_BR``)."""
    return LOCALE_DIR / language.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalog_languages() -> tuple[str, ...]:
    """The languages that have a catalog here, as language tags (``fr``, ``pt-BR``), sorted."""
    return tuple(
        sorted(
            tag
            for tag in (
                path.parent.parent.name.replace("_", "-")
                for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
            )
            if _TAG.fullmatch(tag)
        )
    )


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The compiled catalog of ``language``; for English, or any language without a catalog,
    the msgids themselves. Fuzzy entries are left out, as gettext does."""
    path = catalog_path(language)
    if not _TAG.fullmatch(language) or not path.is_file():
        return gettext_module.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language.replace("-", "_"), domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def format_locale(language: str) -> Locale:
    """The locale of ``language``'s dates and numbers (CLDR); English's for one it lacks."""
    try:
        return Locale.parse(_FORMAT_LOCALES.get(language, language), sep="-")
    except (ValueError, UnknownLocaleError):
        return Locale.parse(_FORMAT_LOCALES["en"])


def gettext(message: str, *, language: str, **values: object) -> str:
    """``message`` in ``language``, its ``%(name)s`` placeholders filled with ``values``."""
    return translations(language).gettext(message) % values


def ngettext(singular: str, plural: str, count: int, *, language: str, **values: object) -> str:
    """The form of ``singular``/``plural`` that ``count`` takes in ``language``; ``%(num)s``
    is the count written in that language."""
    text = translations(language).ngettext(singular, plural, count)
    return text % {"num": format_decimal(count, language=language), **values}


def format_date(day: date, *, language: str, format: str = "long") -> str:
    """``day`` as ``language`` writes it: ``21 November 2026``, ``21 novembre 2026``; a
    CLDR pattern such as ``LLLL y`` for the month alone."""
    return babel_dates.format_date(day, format=format, locale=format_locale(language))


def format_decimal(number: float | Decimal, *, language: str) -> str:
    """``number`` as ``language`` writes it: ``1,234``, ``1 234``, ``1.234``."""
    return babel_numbers.format_decimal(number, locale=format_locale(language))


@dataclass(frozen=True)
class _Speech:
    language: str
    translations: gettext_module.NullTranslations


_speaking: ContextVar[_Speech] = ContextVar("coopmail_speaking")


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Within the block, templates rendered in this thread or task speak ``language``."""
    token = _speaking.set(_Speech(language, translations(language)))
    try:
        yield
    finally:
        _speaking.reset(token)


def install(environment: jinja2.Environment) -> None:
    """Give ``environment`` ``{% trans %}`` and ``_()``, in the language of ``speaking``.

    New-style gettext: placeholders are ``%(name)s`` and filled by the call, escaped in an
    autoescaped template; a literal percent sign is written ``%%``. Trans blocks are
    trimmed, so a sentence may run over several template lines and stay one msgid.
    """
    environment.add_extension("jinja2.ext.i18n")
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext,
        ngettext=_ngettext,
        pgettext=_pgettext,
        npgettext=_npgettext,
        newstyle=True,
    )
    environment.filters["format_date"] = _format_date
    environment.filters["format_decimal"] = _format_decimal


def _current() -> _Speech:
    try:
        return _speaking.get()
    except LookupError:
        raise RuntimeError(
            "a template was rendered outside templates.catalogs.speaking(language)"
        ) from None


def _gettext(message: str) -> str:
    return _current().translations.gettext(message)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return _current().translations.ngettext(singular, plural, count)


def _pgettext(context: str, message: str) -> str:
    return _current().translations.pgettext(context, message)


def _npgettext(context: str, singular: str, plural: str, count: int) -> str:
    return _current().translations.npgettext(context, singular, plural, count)


def _format_date(day: date, format: str = "long") -> str:
    return format_date(day, language=_current().language, format=format)


def _format_decimal(number: float | Decimal) -> str:
    return format_decimal(number, language=_current().language)
