"""Ids that links carry are never handed out again on SQLite (AUTOINCREMENT).

A plain INTEGER PRIMARY KEY gives a deleted row's id to the next row when it was the
highest: an erased subscriber's old preferences link would open the next subscriber's
page. SQLite cannot add AUTOINCREMENT to a table, so each table is rebuilt (with foreign
keys switched off for the migration by env.py, so dropping the old table cascades nothing).
PostgreSQL sequences never reuse a value: nothing to do there.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("lists", "subscribers", "campaigns", "deliveries")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
