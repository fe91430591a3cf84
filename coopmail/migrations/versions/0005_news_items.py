"""News items: the pieces of news newsletters carry, from staff, feeds, CSV files and listings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "news_items",
        sa.Column("id", ID, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("link", sa.String(2000), nullable=True),
        sa.Column("image_url", sa.String(2000), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("source", sa.String(2100), nullable=False),
        sa.Column("external_id", sa.String(500), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_items")),
        sa.UniqueConstraint("link", name=op.f("uq_news_items_link")),
    )
    op.create_index("ix_news_items_published_on", "news_items", ["published_on"])
    op.create_index("ix_news_items_external_id", "news_items", ["external_id"])


def downgrade() -> None:
    op.drop_table("news_items")
