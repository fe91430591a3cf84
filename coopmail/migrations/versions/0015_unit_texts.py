"""The unit's texts (name, department, address, about, place, signature) per language, as
owners set them in the admin, over unit.toml.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "unit_texts",
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("texts", JSON, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("language", name=op.f("pk_unit_texts")),
    )


def downgrade() -> None:
    op.drop_table("unit_texts")
