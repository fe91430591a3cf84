"""Campaign revisions: every saved version of a draft's content, to compare and restore.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_revisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column(
            "source_format",
            sa.Enum(
                "markdown",
                "html",
                name="source_format",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_revisions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_revisions")),
        sa.UniqueConstraint(
            "campaign_id", "number", name=op.f("uq_campaign_revisions_campaign_id_number")
        ),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("campaign_revisions")
