"""The subscribers search's indexes (an address prefix, a list's people by status newest
first, a language, a date) and the jobs table of the admin's background work.

The address prefix index exists for PostgreSQL, where ``LIKE 'prefix%'`` needs
``text_pattern_ops`` unless the database's collation is C; on SQLite the unique index on
the address serves the prefix range, and the copy is a partial index that stays empty.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_index(
        "ix_subscribers_email_prefix",
        "subscribers",
        ["email"],
        postgresql_ops={"email": "text_pattern_ops"},
        sqlite_where=sa.text("0"),
    )
    op.create_index("ix_subscribers_language_id", "subscribers", ["language", "id"])
    op.create_index("ix_subscribers_created_at", "subscribers", ["created_at"])
    op.create_index(
        "ix_subscriptions_list_id_status_subscriber_id",
        "subscriptions",
        ["list_id", "status", "subscriber_id"],
    )
    # The wider index above serves every query the old one did.
    op.drop_index("ix_subscriptions_list_id_status", "subscriptions")
    op.create_index(
        "ix_subscriptions_list_id_subscriber_id", "subscriptions", ["list_id", "subscriber_id"]
    )
    op.create_table(
        "jobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="job_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("runner", sa.String(200), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("started_at", TIME, nullable=True),
        sa.Column("heartbeat_at", TIME, nullable=True),
        sa.Column("finished_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_jobs_state_id", "jobs", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_state_id", "jobs")
    op.drop_table("jobs")
    op.drop_index("ix_subscriptions_list_id_subscriber_id", "subscriptions")
    op.create_index("ix_subscriptions_list_id_status", "subscriptions", ["list_id", "status"])
    op.drop_index("ix_subscriptions_list_id_status_subscriber_id", "subscriptions")
    op.drop_index("ix_subscribers_created_at", "subscribers")
    op.drop_index("ix_subscribers_language_id", "subscribers")
    op.drop_index("ix_subscribers_email_prefix", "subscribers")
