"""A translation's saves are kept as revisions too: campaign_revisions.language names the
translation a revision is of (NULL: the default version, which every existing one is, so
nothing is backfilled). The numbers stay one sequence per campaign, so the unique
(campaign_id, number) is unchanged and no index is added: a campaign's revisions are few
and already found through it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_revisions") as batch:
        batch.add_column(sa.Column("language", sa.String(35), nullable=True))


def downgrade() -> None:
    # Without the column a translation's revision would pass for the default's.
    op.execute("DELETE FROM campaign_revisions WHERE language IS NOT NULL")
    with op.batch_alter_table("campaign_revisions") as batch:
        batch.drop_column("language")
