"""The outbox: one delivery row per campaign and recipient; campaign send state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("rendered", JSON, nullable=True))
        batch.add_column(sa.Column("queued_at", TIME, nullable=True))
        batch.add_column(sa.Column("finished_at", TIME, nullable=True))
    op.create_table(
        "deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=True),
        sa.Column("list_id", ID, nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                "skipped",
                name="delivery_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", TIME, nullable=True),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("last_reply", sa.String(500), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("queued_at", TIME, nullable=False),
        sa.Column("sent_at", TIME, nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_deliveries_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["lists.id"], name=op.f("fk_deliveries_list_id_lists"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_deliveries_subscriber_id_subscribers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "campaign_id", "subscriber_id", name=op.f("uq_deliveries_campaign_id_subscriber_id")
        ),
    )
    op.create_index(
        "ix_deliveries_claim", "deliveries", ["campaign_id", "state", "next_attempt_at"]
    )
    op.create_index("ix_deliveries_lease", "deliveries", ["state", "lease_expires_at"])
    op.create_index("ix_deliveries_sent_at", "deliveries", ["sent_at"])
    op.create_index("ix_suppressions_email", "suppressions", ["email"])
    op.create_index("ix_subscriptions_unsubscribed_at", "subscriptions", ["unsubscribed_at"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_unsubscribed_at", "subscriptions")
    op.drop_index("ix_suppressions_email", "suppressions")
    op.drop_table("deliveries")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("queued_at")
        batch.drop_column("rendered")
        batch.drop_column("status_reason")
