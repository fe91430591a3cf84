"""Which database errors pass by themselves, so a long-running process waits them out.

A lock held past SQLite's busy timeout (a backup, a long import), a PostgreSQL server
restarting or terminating backends, a lost connection, a serialization failure or a
deadlock: the same transaction tried again later succeeds. Anything else (a constraint,
a missing table, a full disk) would fail the same way again and is not transient.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes and codes that mean "try again": connection exceptions (08), transaction
# rollbacks (40: serialization failure, deadlock), insufficient resources (53: too many
# connections), lock not available (55P03), operator intervention (57: admin or crash
# shutdown, cannot connect now, query cancelled).
_TRANSIENT_CLASSES = ("08", "40", "53", "57")
_TRANSIENT_CODES = frozenset({"55P03"})
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")


def is_transient(error: BaseException) -> bool:
    """Whether the same transaction, tried again after a pause, may well succeed."""
    if isinstance(error, DisconnectionError | PoolTimeout | InterfaceError):
        return True  # InterfaceError: the driver's connection is closed under us
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return any(text in str(original).lower() for text in _SQLITE_BUSY)
    state = getattr(original, "sqlstate", None)
    if isinstance(state, str) and state:
        return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_CODES
    # psycopg's OperationalError without a SQLSTATE: the connection broke under us
    # ("server closed the connection unexpectedly", "consuming input failed").
    return type(original).__name__ == "OperationalError" and type(original).__module__.startswith(
        "psycopg"
    )


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Capped exponential waits between attempts: first, 2 x first, ... at most `cap`."""

    first: float = 0.05  # seconds
    cap: float = 5.0

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row (1 for the first)."""
        if failures < 1:
            return 0.0
        wait: float = self.first * 2 ** min(failures - 1, 64)
        return min(self.cap, wait)


def describe(error: BaseException) -> str:
    """One line for a log: the driver's first line, never the statement or its values."""
    original = getattr(error, "orig", None) or error
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}"[:300]
