"""Initial schema: subscribers, lists, subscriptions, consent records, suppressions.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "lists",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("opt_in", _enum("opt_in", "single", "double"), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_lists_name")),
    )
    op.create_table(
        "subscribers",
        sa.Column("id", ID, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("email", name=op.f("uq_subscribers_email")),
    )
    op.create_table(
        "suppressions",
        sa.Column("id", ID, nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column(
            "reason",
            _enum(
                "suppression_reason", "unsubscribed", "bounced", "complained", "manual", "erased"
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
        sa.UniqueConstraint("email_hash", name=op.f("uq_suppressions_email_hash")),
    )
    op.create_table(
        "consent_records",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("list_id", ID, nullable=True),
        sa.Column(
            "action", _enum("consent_action", "subscribe", "confirm", "unsubscribe"), nullable=False
        ),
        sa.Column(
            "source", _enum("consent_source", "form", "import", "api", "staff"), nullable=False
        ),
        sa.Column("wording", sa.Text(), nullable=False),
        sa.Column("ip_address", sa.String(45), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["lists.id"],
            name=op.f("fk_consent_records_list_id_lists"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_consent_records_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index(op.f("ix_consent_records_subscriber_id"), "consent_records", ["subscriber_id"])
    op.create_table(
        "subscriptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("list_id", ID, nullable=False),
        sa.Column(
            "status",
            _enum("subscription_status", "unconfirmed", "confirmed", "unsubscribed"),
            nullable=False,
        ),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("confirmed_at", TIME, nullable=True),
        sa.Column("unsubscribed_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["lists.id"],
            name=op.f("fk_subscriptions_list_id_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriptions_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "subscriber_id", "list_id", name=op.f("uq_subscriptions_subscriber_id_list_id")
        ),
    )
    op.create_index("ix_subscriptions_list_id_status", "subscriptions", ["list_id", "status"])


def downgrade() -> None:
    op.drop_table("subscriptions")
    op.drop_table("consent_records")
    op.drop_table("suppressions")
    op.drop_table("subscribers")
    op.drop_table("lists")
