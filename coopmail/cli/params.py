"""Argument types shared by the commands."""

from __future__ import annotations

from typing import Any

import click

from coopmail.ids import ID_MAX, row_id
from subscribers.errors import InvalidLanguage
from subscribers.languages import check_language


class RowIdType(click.ParamType[int]):
    """A row id as a campaign or news item number: the shared rule of ``coopmail.ids``, so
    ``99999999999999999999`` is a usage error rather than an internal error from the
    database driver, and another script's digits are not read as a number."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX:
            return value
        found = row_id(str(value).strip())
        if found is None:
            self.fail(f"{value!r} is not an id: write a whole number such as 12", param, ctx)
        return found


ROW_ID = RowIdType()


class LanguageTagType(click.ParamType[str]):
    """A language tag written the standard way (``FR`` is ``fr``), by the one rule of
    ``subscribers.languages``: a version is named as its front matter would name it."""

    name = "LANGUAGE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            tag = check_language(str(value))
        except InvalidLanguage as error:
            self.fail(str(error), param, ctx)
        if tag is None:
            self.fail("write a language tag such as fr or es", param, ctx)
        return tag


LANGUAGE_TAG = LanguageTagType()


no_image_check = click.option(
    "--no-image-check",
    is_flag=True,
    help="Do not fetch remote https:// images to check them (working offline).",
)
"""The content commands' switch for working offline: remote images go unchecked."""
