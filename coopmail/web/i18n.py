"""The words the public pages' code writes, and which language a visitor gets.

The words are in the gettext catalogs (templates/catalogs.py), as those of the templates
are: msgids in English, ``%(name)s`` placeholders, a literal ``%`` written ``%%``. Code
marks a message it translates later with ``N_`` so that ``make messages`` finds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel.units import format_unit

from subscribers.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    best_language,
    language_name,
    our_language,
)
from templates.catalogs import format_locale, gettext

LANGUAGE_NAMES: Mapping[str, str] = {code: language_name(code) for code in LANGUAGES}
_ACCEPT_LANGUAGE_MAX = 20  # entries of the header looked at; browsers send a handful


def N_(message: str) -> str:
    """Marks ``message`` for the catalogs; it is translated where it is shown."""
    return message


# What the pages' code says, for the pages to show and the consent records to keep. A
# button's words double as the wording of the consent the person gave by pressing it.
INVALID_EMAIL = N_("Enter a valid email address, such as name@example.org.")
INVALID_NAME = N_("The name is too long or contains characters that are not allowed.")
INVALID_LANGUAGE = N_("Choose one of the languages offered.")
NO_LIST_CHOSEN = N_("Choose at least one of the lists shown.")
NO_CONSENT = N_("Tick the consent box: we cannot write to you without your agreement.")
ERASE_NOT_CONFIRMED = N_("Tick the box to confirm that you want your data erased.")
CONSENT_WORDING = N_(
    "I agree that the %(unit)s may send me the lists I have chosen by email and keep my "
    "address and this consent for that purpose. I can unsubscribe at any time with the link "
    "in every email."
)
CONFIRM_BUTTON = N_("Confirm my subscription")
UNSUBSCRIBE_BUTTON = N_("Unsubscribe from this list")
UNSUBSCRIBE_ALL_BUTTON = N_("Unsubscribe from all our lists")
RESUBSCRIBE_BUTTON = N_("Subscribe again to “%(list)s”")
SAVE_PREFERENCES_BUTTON = N_("Save my preferences")
FORM_EXPIRED = N_(
    "This form has expired or was sent from another page. Go back, reload the page and try again."
)
FORM_UNREADABLE = N_("The form could not be read. Go back and try again.")
FORM_ONLY = N_(
    "This address answers a button on one of our pages and has nothing to show on its own. "
    "Open the link in our email again."
)
DATABASE_BUSY = N_(
    "We could not save your request just now: the service is busy for a moment. Nothing was "
    "changed. Please try again in a minute."
)
TOO_MANY_REQUESTS = N_("Too many requests from your connection. Wait a few minutes and try again.")
ADDRESS_BLOCKED = N_(
    "This address cannot receive our letters at the moment. To change that, write to us at "
    "%(email)s."
)


@dataclass(frozen=True)
class Translator:
    """``t.gettext(msgid, name=value)``: the message in this language, placeholders filled."""

    language: str

    def gettext(self, message: str, **values: object) -> str:
        return gettext(message, language=self.language, **values)


# The largest unit that divides a duration evenly, else minutes rounded up.
_UNITS = ((86400, "duration-day"), (3600, "duration-hour"), (60, "duration-minute"))


def duration(seconds: int, language: str) -> str:
    """``3 days``, ``36 heures``, ``1 minuto``: exact, as a link's lifetime must be (Babel's
    format_timedelta would round 36 hours to 2 days), in the words of CLDR."""
    size, unit = next((each for each in _UNITS if seconds % each[0] == 0), _UNITS[-1])
    count = max(1, -(-seconds // size))
    return format_unit(count, unit, length="long", locale=format_locale(language))


def negotiate(*, requested: str | None, preferred: str | None, accept_language: str | None) -> str:
    """The page language: ?lang= first, then the person's own, then the browser's."""
    return (
        our_language(requested)
        or our_language(preferred)
        or best_language(accepted_languages(accept_language or ""), available=LANGUAGES)
        or DEFAULT_LANGUAGE
    )


def accepted_languages(header: str) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (RFC 9110 12.5.4); those
    the browser refuses (q=0) or writes wrongly are left out, equal ones keep their order."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_ACCEPT_LANGUAGE_MAX]):
        tag, _, parameters = item.partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if tag.strip() and 0 < quality <= 1:
            weighted.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]
