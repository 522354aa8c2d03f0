"""Drop the unused ``config_versions`` table (issue #20: one type per concept).

Configuration history lives in the history file (``app.config_history.ConfigHistoryEntry``) and
the API serves it as ``api.dto.ConfigVersion``; nothing ever wrote or read this table, so it is
dropped rather than kept as a third, diverging record of the same concept. The downgrade
recreates it empty, exactly as r0001 created it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_config_versions_section_version", table_name="config_versions")
    op.drop_table("config_versions")


def downgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_config_versions"),
    )
    op.create_index("ix_config_versions_section_version", "config_versions", ["section", "version"])
