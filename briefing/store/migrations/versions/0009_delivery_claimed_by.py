"""delivery_claimed_by: which process holds a delivery it is sending

A row left `sending` by a process that is gone (killed mid-send) can then be taken over at
once by the run that resumes the day, instead of waiting for its lease to run out.

Revision ID: 0009_delivery_claimed_by
Revises: 0008_search_dedupe
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_delivery_claimed_by"
down_revision = "0008_search_dedupe"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
