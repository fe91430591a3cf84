"""Raw DBAPI executemany for the import's hot path, on SQLite and PostgreSQL.

SQLAlchemy's per-parameter type processing costs more than SQLite's own insert, so the
importer converts values once per batch (times, enums) and hands tuples to the driver.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import Connection

# Well under SQLite's 32,766 and PostgreSQL's 65,535 parameters for any of our tables.
ROWS_PER_STATEMENT = 250

# One encoder for every row: json.dumps with options builds a new encoder per call.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class BulkSql:
    """SQL text and value conversion for one connection's dialect."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self._mark = "%s" if self.postgresql else "?"

    def marks(self, count: int) -> str:
        return ", ".join([self._mark] * count)

    def time(self, moment: datetime) -> Any:
        """A UTC time as the column stores it (what subscribers.base.UTCDateTime binds)."""
        if self.postgresql:
            return moment
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    json = staticmethod(_JSON_ENCODER.encode)

    def select(
        self, sql: str, values: Sequence[Any], *, first: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, whose ``{marks}`` becomes one placeholder per value and whose
        ``{mark}`` placeholders take the ``first`` parameters. Table and column names are
        the caller's constants; every value is bound."""
        if not values:
            return []
        statement = sql.format(marks=self.marks(len(values)), mark=self._mark)
        result = self._connection.exec_driver_sql(statement, (*first, *values))
        return [tuple(row) for row in result.all()]

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[tuple[Any, ...]],
        *,
        ignore_conflicts_on: Sequence[str] | None = None,
    ) -> None:
        """INSERT many rows; with ``ignore_conflicts_on``, a concurrent duplicate is skipped.

        Rows go ROWS_PER_STATEMENT at a time in one multi-row VALUES statement: SQLite runs
        that more than twice as fast as executemany, and holds the GIL far less.
        """
        batch = list(rows)
        row_marks = f"({self.marks(len(columns))})"
        prefix = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 (our names)
        suffix = (
            f" ON CONFLICT ({', '.join(ignore_conflicts_on)}) DO NOTHING"
            if ignore_conflicts_on
            else ""
        )
        for start in range(0, len(batch), ROWS_PER_STATEMENT):
            chunk = batch[start : start + ROWS_PER_STATEMENT]
            statement = prefix + ", ".join([row_marks] * len(chunk)) + suffix
            self._connection.exec_driver_sql(statement, tuple(chain.from_iterable(chunk)))

    def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._connection.exec_driver_sql(sql.replace("?", self._mark), rows)
