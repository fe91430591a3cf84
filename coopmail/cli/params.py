"""Argument types shared by the commands."""

from __future__ import annotations

from typing import Any

import click

from coopmail.ids import ID_MAX, row_id


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
