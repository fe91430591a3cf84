"""The declarative base every table of the schema shares, and its portable column types."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Dialect, Enum, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit keys on PostgreSQL; SQLite only autoincrements a plain INTEGER PRIMARY KEY.
IdType = BigInteger().with_variant(Integer(), "sqlite")
JsonType = JSON().with_variant(JSONB(), "postgresql")

# For the tables whose ids links in mail carry (subscriber, list, campaign, delivery): on
# SQLite a plain INTEGER PRIMARY KEY hands a deleted row's id to the next row, and an erased
# person's old link would open the next subscriber's page. PostgreSQL never reuses ids.
IDS_NEVER_REUSED: dict[str, Any] = {"sqlite_autoincrement": True}


LIKE_ESCAPE = "\\"


def like_containing(text: str) -> str:
    """A LIKE pattern (with ``escape=LIKE_ESCAPE``) matching ``text`` anywhere, taken
    literally: a searched ``%`` or ``_`` is that character, not a wildcard."""
    quoted = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    return "%" + quoted.replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_") + "%"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend stores.

    SQLite has no time zones; refusing naive values keeps a local time from ever being
    mistaken for UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC time is required")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite raw reads through text()
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def portable_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint holding the members' values: the same on SQLite
    and PostgreSQL, and a new member needs no ALTER TYPE."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class utc_day(FunctionElement[date]):
    """The UTC calendar day of a ``UTCDateTime`` column, for counting by day in SQL: SQLite
    stores the UTC time itself; PostgreSQL's ``date()`` of a timestamptz would use the
    session's time zone, so the day is taken in UTC explicitly."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date(timezone('UTC', {compiler.process(element.clauses, **kw)}))"
