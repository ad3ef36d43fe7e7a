"""story links and alias times: related stories ("see also"), when each wire copy appeared

Revision ID: 0004_story_links
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_story_links"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_links",
        sa.Column("story_id", sa.String(length=64), nullable=False),
        sa.Column("related_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["related_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", "related_id"),
    )
    with op.batch_alter_table("article_urls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("article_urls", schema=None) as batch_op:
        batch_op.drop_column("published_at")
    op.drop_table("story_links")
