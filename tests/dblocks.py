"""Another process holding the database, as a backup or a long import would."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from coopmail.db import make_engine


@contextmanager
def locked(database_url: str, *, table: str = "locks") -> Iterator[Callable[[], object]]:
    """SQLite's exclusive lock (every writer waits), or on PostgreSQL an exclusive lock on
    ``table``. Yields the release, which may be called from any thread."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield lambda: holder.in_transaction and holder.execute("ROLLBACK")
        finally:
            if holder.in_transaction:
                holder.execute("ROLLBACK")
            holder.close()
        return
    other = make_engine(database_url)
    connection = other.connect()
    transaction = connection.begin()
    connection.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
    try:
        yield lambda: transaction.is_active and transaction.rollback()
    finally:
        if transaction.is_active:
            transaction.rollback()
        connection.close()
        other.dispose()


def impatient_engine(database_url: str) -> Engine:
    """The database giving up on another's lock after 50 ms rather than 30 s, so a test
    meets "database is locked" (or PostgreSQL's lock timeout) without waiting."""
    engine = make_engine(database_url, busy_timeout_ms=50)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def lock_timeout(connection: Any, _record: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '50ms'")
            connection.commit()

    return engine
