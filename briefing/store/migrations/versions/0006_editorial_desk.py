"""editorial desk: decisions (who corrected what, when), editions under review, editors

Revision ID: 0006_editorial_desk
Revises: 0005_source_health
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_editorial_desk"
down_revision = "0005_source_health"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("story_id", sa.String(64), nullable=True),
        sa.Column("article_id", sa.String(64), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("editor", sa.String(254), nullable=False),
        sa.Column("made_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_decisions_kind", "decisions", ["kind"])
    op.create_index("ix_decisions_day", "decisions", ["day"])
    op.create_index("ix_decisions_story_id", "decisions", ["story_id"])
    op.create_index("ix_decisions_made_at", "decisions", ["made_at"])
    op.create_table(
        "editions",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("drafted_at", sa.DateTime(), nullable=True),
        sa.Column("article_ids", sa.JSON(), nullable=False),
        sa.Column("story_ids", sa.JSON(), nullable=False),
        sa.Column("approved_by", sa.String(254), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "editor_accounts",
        sa.Column("email", sa.String(254), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("editor_accounts")
    op.drop_table("editions")
    op.drop_index("ix_decisions_made_at", "decisions")
    op.drop_index("ix_decisions_story_id", "decisions")
    op.drop_index("ix_decisions_day", "decisions")
    op.drop_index("ix_decisions_kind", "decisions")
    op.drop_table("decisions")
