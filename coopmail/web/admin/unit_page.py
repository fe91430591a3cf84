"""``/admin/settings/unit``: the unit's name, department, address, about text, place and
signature in English, French and Spanish side by side, for the owners to set.

What a field leaves empty comes from unit.toml (or the built-in unit), shown as its
placeholder; the page saves the three languages at once, or none if one text is wrong.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from campaigns.compose import Unit
from coopmail.unit_texts import (
    ABOUT_MAX,
    FIELDS,
    LINES,
    LINES_MAX,
    TEXT_MAX,
    UnitTextInvalid,
    forget_unit_texts,
    set_unit_texts,
    stored_unit_texts,
)
from coopmail.web.admin.access import Visit
from coopmail.web.admin.site import AdminSite
from coopmail.web.i18n import LANGUAGE_NAMES, N_
from subscribers.languages import LANGUAGES

PATH = "/admin/settings/unit"
LABELS = {
    "name": N_("Name"),
    "department": N_("Department"),
    "address_lines": N_("Address (one line each)"),
    "about": N_("About the unit"),
    "place": N_("Place letters are written from"),
    "signature": N_("Signature (one line each; empty: the name and department)"),
}
TOO_LONG = N_("%(field)s (%(written_in)s) is too long: at most %(limit)s characters.")
TOO_MANY_LINES = N_("%(field)s (%(written_in)s) has too many lines: at most %(limit)s.")


class UnitPage:
    def __init__(self, site: AdminSite) -> None:
        self.site = site

    def unit_page(self, visit: Visit) -> Response:
        return self._page(visit, values=_shown(self._stored()))

    def _stored(self) -> dict[str, dict[str, Any]]:
        with self.site.context.session(write=False) as session:
            return stored_unit_texts(session)

    def save(self, visit: Visit) -> Response:
        given = {
            language: {key: visit.field(f"{language}.{key}", ABOUT_MAX * 2) for key in FIELDS}
            for language in LANGUAGES
        }
        try:
            with self.site.context.session() as session:
                for language, texts in given.items():
                    set_unit_texts(
                        session,
                        actor=visit.me.actor(),
                        language=language,
                        texts=texts,
                        now=visit.now,
                    )
        except UnitTextInvalid as error:
            message = TOO_MANY_LINES if error.problem == "too many lines" else TOO_LONG
            said = self.site.pages.say(
                visit,
                message,
                field=self.site.pages.say(visit, LABELS.get(error.field, error.field)),
                written_in=LANGUAGE_NAMES.get(error.language, error.language),
                limit=error.limit,
            )
            return self._page(visit, values=given, status=400, error=said)
        forget_unit_texts(self.site.context.composer)
        return self.site.redirect(PATH, done="unit_saved")

    def _page(
        self,
        visit: Visit,
        *,
        values: dict[str, dict[str, str]],
        status: int = 200,
        error: str | None = None,
    ) -> Response:
        # What a field left empty says: unit.toml's words, in English as set here (a new
        # English name outdates unit.toml's translations of the old one).
        file_unit = self.site.context.composer.file_unit
        underneath = file_unit.with_texts({"en": self._stored().get("en", {})})
        return self.site.render(
            visit,
            "settings-unit.html",
            status=status,
            error=error,
            fields=[(key, LABELS[key], key in LINES or key == "about") for key in FIELDS],
            columns=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            values=values,
            defaults={
                code: _shown_unit(file_unit if code == "en" else underneath, code)
                for code in LANGUAGES
            },
            limits={"text": TEXT_MAX, "about": ABOUT_MAX, "lines": LINES_MAX},
        )


def _shown(stored: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The stored texts as the form's fields hold them: lines one per line."""
    return {
        language: {key: _as_field(stored.get(language, {}).get(key, "")) for key in FIELDS}
        for language in LANGUAGES
    }


def _shown_unit(unit: Unit, language: str) -> dict[str, str]:
    """What unit.toml (or the built-in unit) says in ``language``: each field's placeholder."""
    said = unit.said_in(language)
    return {key: _as_field(said[key]) for key in FIELDS}


def _as_field(value: Any) -> str:
    return "\n".join(value) if isinstance(value, list | tuple) else str(value)
