"""The one rule for a row id written as text."""

from __future__ import annotations

import pytest

from coopmail.ids import ID_MAX, row_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("0042", 42),
        (str(ID_MAX), ID_MAX),
        (str(ID_MAX + 1), None),  # SQLite's driver raises on it; PostgreSQL's BIGINT too
        ("0", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1.0", None),
        ("", None),
        ("٣", None),  # Arabic-Indic three: a digit to str.isdigit and 3 to int()
        ("²", None),  # a digit to str.isdigit, refused by int()
        ("1_000", None),  # int() reads it as 1000
    ],
)
def test_only_ascii_digits_in_the_range_of_a_key_name_a_row(
    text: str, expected: int | None
) -> None:
    assert row_id(text) == expected
