"""subscriber_languages: the languages a subscriber's mail carries stories in

NULL (every subscriber before this revision) means every language.

Revision ID: 0010_subscriber_languages
Revises: 0009_delivery_claimed_by
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_subscriber_languages"
down_revision = "0009_delivery_claimed_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("languages", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("languages")
