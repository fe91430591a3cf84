"""One campaign in several languages: its versions, the version and variant each delivery
gets, and a list's language and its title and description in other languages.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NEVER_REUSED = {"sqlite_autoincrement": True}


def upgrade() -> None:
    op.create_table(
        "campaign_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", ID, nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("subject", sa.String(998), nullable=False),
        sa.Column("preheader", sa.String(500), nullable=False),
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
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_versions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_versions")),
        sa.UniqueConstraint(
            "campaign_id", "language", name=op.f("uq_campaign_versions_campaign_id_language")
        ),
        **NEVER_REUSED,
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("version", sa.String(35), nullable=True))
        batch.add_column(sa.Column("variant", sa.Integer(), nullable=True))
    with op.batch_alter_table("lists") as batch:
        batch.add_column(sa.Column("language", sa.String(35), nullable=True))
        batch.add_column(
            sa.Column("translations", JSON, nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("news_items") as batch:
        batch.add_column(
            sa.Column("translations", JSON, nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("news_items") as batch:
        batch.drop_column("translations")
    with op.batch_alter_table("lists") as batch:
        batch.drop_column("translations")
        batch.drop_column("language")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("variant")
        batch.drop_column("version")
    op.drop_table("campaign_versions")
