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

# Every module that declares tables, so the metadata (and Alembic) sees the whole schema.
import campaigns.bounces
import campaigns.digest
import campaigns.models
import campaigns.news  # noqa: F401
import coopmail.apikeys
import coopmail.locks  # noqa: F401
import subscribers.models  # noqa: F401
from coopmail.errors import DatabaseError, SchemaBehind
from subscribers.base import Base

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "coopmail_sqlite_begin"


def schema_metadata() -> MetaData:
    return Base.metadata


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not Path(database).parent.is_dir():
            raise DatabaseError(f"the folder for the SQLite database {database} does not exist")
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _begin_immediate), as its docs recommend.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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
    "upgrade",
]
