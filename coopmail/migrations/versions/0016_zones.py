"""Campaigns sent at a local hour in each partner's time zone: the list's zone, the
campaign's wall-clock hour and its count of unreadable zones, each delivery's zone.

No index is added: a delivery waiting for its zone's hour waits in next_attempt_at, which
ix_deliveries_claim (campaign_id, state, next_attempt_at) already orders, so claims stay a
range scan and the zones pending are read from the same index.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lists") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("local_send_time", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("zone_fallbacks", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("zone_fallbacks")
        batch.drop_column("local_send_time")
    with op.batch_alter_table("lists") as batch:
        batch.drop_column("time_zone")
