"""Bounce events (one per message read from the bounce mailbox), the index that finds a
delivery by its Message-ID, and the consent source `email` for unsubscribes sent by mail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
SOURCES_BEFORE = ("form", "import", "api", "staff")
SOURCES_AFTER = (*SOURCES_BEFORE, "email")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _consent_sources(values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table("consent_records", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_consent_records_consent_source"), type_="check")
        batch.create_check_constraint(
            op.f("ck_consent_records_consent_source"), f"source IN ({listed})"
        )


def upgrade() -> None:
    op.create_table(
        "bounce_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column(
            "kind", _enum("bounce_kind", "hard", "soft", "complaint", "unsubscribe"), nullable=False
        ),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("subscriber_id", ID, nullable=True),
        sa.Column("delivery_id", ID, nullable=True),
        sa.Column("campaign_id", ID, nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("diagnostic", sa.String(1000), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_bounce_events_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_bounce_events_delivery_id_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_bounce_events_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_events")),
        sa.UniqueConstraint("message_key", name=op.f("uq_bounce_events_message_key")),
    )
    op.create_index(
        op.f("ix_bounce_events_subscriber_id_received_at"),
        "bounce_events",
        ["subscriber_id", "received_at"],
    )
    op.create_index(op.f("ix_bounce_events_email"), "bounce_events", ["email"])
    op.create_index(
        op.f("ix_bounce_events_campaign_id_kind"), "bounce_events", ["campaign_id", "kind"]
    )
    op.create_index(op.f("ix_deliveries_message_id"), "deliveries", ["message_id"])
    _consent_sources(SOURCES_AFTER)


def downgrade() -> None:
    # The person's own request by mail is closest to a form; the record itself is kept.
    op.execute("UPDATE consent_records SET source = 'form' WHERE source = 'email'")
    _consent_sources(SOURCES_BEFORE)
    op.drop_index(op.f("ix_deliveries_message_id"), table_name="deliveries")
    op.drop_table("bounce_events")
