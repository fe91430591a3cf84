"""Raw DBAPI bulk statements for the import's hot path, on SQLite and PostgreSQL.

SQLAlchemy's per-parameter type processing costs more than SQLite's own insert, so the
importer converts values once per batch (times, enums) and hands them to the driver in
the form each database runs fastest: multi-row VALUES on SQLite, arrays on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Table

# Well under SQLite's 32,766 parameters for any of our tables.
ROWS_PER_STATEMENT = 250

# One encoder for every row: json.dumps with options builds a new encoder per call.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class BulkSql:
    """SQL text and value conversion for one connection's dialect.

    Table and column names come from our own metadata; every value is a bound parameter.
    """

    json = staticmethod(_JSON_ENCODER.encode)

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self._mark = "%s" if self.postgresql else "?"

    def time(self, moment: datetime) -> Any:
        """A UTC time as the column stores it (what subscribers.base.UTCDateTime binds)."""
        if self.postgresql:
            return moment
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def select(
        self, sql: str, values: Sequence[Any], *, first: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, where ``{mark}`` takes the ``first`` parameters in order and
        ``{in_values}`` tests membership in ``values``."""
        if not values:
            return []
        return [tuple(row) for row in self._run(sql, values, first).all()]

    def execute(self, sql: str, values: Sequence[Any], *, first: Sequence[Any] = ()) -> None:
        """Like select, for a statement that returns nothing (an UPDATE of many rows)."""
        if values:
            self._run(sql, values, first)

    def _run(self, sql: str, values: Sequence[Any], first: Sequence[Any]) -> Any:
        if self.postgresql:  # one array parameter: short SQL that psycopg caches
            statement = sql.format(mark=self._mark, in_values="= ANY(%s)")
            parameters: tuple[Any, ...] = (*first, list(values))
        else:
            marks = ", ".join("?" * len(values))
            statement = sql.format(mark=self._mark, in_values=f"IN ({marks})")
            parameters = (*first, *values)
        return self._connection.exec_driver_sql(statement, parameters)

    def insert(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Iterable[tuple[Any, ...]],
        *,
        ignore_conflicts_on: Sequence[str] | None = None,
    ) -> None:
        """INSERT many rows; with ``ignore_conflicts_on``, a concurrent duplicate is skipped."""
        batch = list(rows)
        if not batch:
            return
        target = f"INSERT INTO {table.name} ({', '.join(columns)}) "
        conflict = (
            f" ON CONFLICT ({', '.join(ignore_conflicts_on)}) DO NOTHING"
            if ignore_conflicts_on
            else ""
        )
        if self.postgresql:
            # One array per column: a short statement whatever the batch size.
            casts = ", ".join(
                f"%b::{table.c[name].type.compile(self._connection.dialect)}[]" for name in columns
            )
            statement = f"{target}SELECT * FROM unnest({casts}){conflict}"  # noqa: S608
            self._connection.exec_driver_sql(statement, tuple(map(list, zip(*batch, strict=True))))
            return
        # SQLite runs one multi-row VALUES statement more than twice as fast as executemany.
        row_marks = f"({', '.join('?' * len(columns))})"
        for start in range(0, len(batch), ROWS_PER_STATEMENT):
            chunk = batch[start : start + ROWS_PER_STATEMENT]
            statement = f"{target}VALUES {', '.join([row_marks] * len(chunk))}{conflict}"
            self._connection.exec_driver_sql(statement, tuple(chain.from_iterable(chunk)))

    def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """``sql`` written with ``?`` marks, run once per row."""
        if rows:
            self._connection.exec_driver_sql(sql.replace("?", self._mark), rows)
