"""Engines, sessions and schema migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

# Every module that declares tables, so the metadata (and Alembic) sees the whole schema,
# and campaigns.bounces for its erasure hooks (what a bounce or reply said of a person).
import campaigns.bounces
import campaigns.media.models
import campaigns.models
import campaigns.news  # noqa: F401
import coopmail.apikeys
import coopmail.jobs.models
import coopmail.locks
import coopmail.staff.models
import coopmail.throttle
import coopmail.unit_texts  # noqa: F401
import subscribers.models  # noqa: F401
from coopmail.errors import DatabaseError, SchemaBehind
from subscribers.base import Base

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
_CHECKPOINT_WAIT_MS = 2_000
_BEGIN_OPTION = "coopmail_sqlite_begin"


def schema_metadata() -> MetaData:
    return Base.metadata


def make_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """``busy_timeout_ms``: how long SQLite waits for another writer's lock before
    "database is locked" (tests make it short to meet the lock without waiting)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not Path(database).parent.is_dir():
            raise DatabaseError(f"the folder for the SQLite database {database} does not exist")
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        event.listen(
            engine,
            "connect",
            lambda connection, record: _configure_sqlite(connection, record, busy_timeout_ms),
        )
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any, busy_timeout_ms: int) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _begin_immediate), as its docs recommend.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten content is zeroed, not left in free pages: an erased
    # person's address must not survive in the file (see forget_erased).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.close()


def _begin(connection: Any) -> None:
    # Writers take the write lock up front (see for_writing): a deferred transaction that
    # reads and then writes fails at once with "database is locked" when another writer
    # went first, instead of waiting for the busy timeout. Readers stay deferred, so they
    # never block anyone in WAL mode.
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def for_writing(engine: Engine) -> Engine:
    """The engine whose SQLite transactions begin IMMEDIATE (a no-op on PostgreSQL)."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    session = session_factory(for_writing(engine) if write else engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def snapshot_scope(engine: Engine) -> Iterator[Session]:
    """A read-only session that sees one consistent state of the database throughout, for
    work that reads in several queries (an export's header pass and its rows).

    PostgreSQL: a REPEATABLE READ transaction. SQLite in WAL mode: the deferred transaction
    keeps the snapshot of its first read until it ends, and blocks no writer meanwhile.
    """
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    session = session_factory(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def forget_erased(engine: Engine) -> None:
    """After an erasure is committed: on SQLite, fold the write-ahead log into the file
    and empty it, so the older page images it holds (with the person's data) are gone too.

    Best effort: with readers still open the log may not empty at once, and it is then
    recycled by SQLite's own next checkpoints. PostgreSQL never serves deleted rows and
    reclaims them with autovacuum; nothing to do there.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        # A reader in the middle of a long transaction must not keep the caller waiting.
        connection.exec_driver_sql(f"PRAGMA busy_timeout={_CHECKPOINT_WAIT_MS}")
        try:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, *, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


@contextmanager
def _connected(engine: Engine) -> Iterator[Any]:
    try:
        with engine.connect() as connection:
            yield connection
    except OperationalError as error:
        raise DatabaseError(
            f"cannot connect to the database {describe_url(engine)}: "
            f"{str(error.orig).strip().splitlines()[0]}"
        ) from None


def describe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, the code's head revision)."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    with _connected(engine) as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


def require_current_schema(engine: Engine) -> None:
    current, head = schema_revisions(engine)
    if current == head:
        return
    if current is None:
        raise SchemaBehind(
            f"the database {describe_url(engine)} has no coopmail schema yet; "
            "create it with `coopmail db upgrade`"
        )
    raise SchemaBehind(
        f"the database schema is at revision {current} but this coopmail needs {head}; "
        "run `coopmail db upgrade`"
    )


def check_reachable(engine: Engine) -> None:
    with _connected(engine):
        pass


__all__ = [
    "SQLAlchemyError",
    "check_reachable",
    "for_writing",
    "make_engine",
    "require_current_schema",
    "schema_metadata",
    "schema_revisions",
    "session_scope",
    "snapshot_scope",
    "upgrade",
]
