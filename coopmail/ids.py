"""A row id read from text a person or a browser wrote: a path, a query, a form, a CLI
argument.

One rule for every shell, because the two ways it goes wrong are silent: ``str.isdigit``
and ``int`` accept other scripts' digits (``"٣"`` is 3), and a number past a BIGINT makes
SQLite's driver raise instead of finding nothing. Either would be a 500 or the wrong row;
with this rule it is "no such row".
"""

from __future__ import annotations

ID_MAX = 2**63 - 1  # the largest key a BIGINT (PostgreSQL) or an INTEGER (SQLite) holds


def row_id(text: str) -> int | None:
    """The id ``text`` names (ASCII digits, 1 to ``ID_MAX``), or None."""
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= ID_MAX else None
