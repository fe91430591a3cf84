"""Printing for people (rich, on a terminal) and for scripts (--json on stdout)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Results go to stdout; progress, notes and errors to stderr so pipes stay clean.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # commands stay pasteable


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def note(message: str) -> None:
    err.print(message, markup=False)


def interactive() -> bool:
    return sys.stderr.isatty()


def table(*columns: str) -> Table:
    """A table whose cells wrap onto more lines in a narrow terminal rather than end in
    "…": a zone name or an address cut short is output that lies. Headers may shorten."""
    grid = Table(header_style="bold")
    for column in columns:
        grid.add_column(Text(column, overflow="ellipsis", no_wrap=True), overflow="fold")
    return grid


def add_row(grid: Table, *values: object) -> None:
    """Cells as plain text: names and addresses must never be read as rich markup."""
    grid.add_row(*(Text("" if value is None else str(value)) for value in values))
