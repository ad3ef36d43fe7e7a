"""source_health: each source's latest health and the status last mailed to the admin

Revision ID: 0005_source_health
Revises: 0004_story_links
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_source_health"
down_revision = "0004_story_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="healthy"),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("alerted_status", sa.String(16), nullable=False, server_default="healthy"),
    )


def downgrade() -> None:
    op.drop_table("source_health")
