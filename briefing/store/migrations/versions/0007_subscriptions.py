"""subscriptions: self-service subscribers, their change log, the link-signing key

Revision ID: 0007_subscriptions
Revises: 0006_editorial_desk
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_subscriptions"
down_revision = "0006_editorial_desk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("managed_by", sa.String(length=16), server_default="store", nullable=False)
        )
        batch_op.add_column(sa.Column("epoch", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.create_table(
        "subscription_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subscription_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscription_events_email"), ["email"], unique=False)
    op.create_table(
        "app_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("app_keys")
    with op.batch_alter_table("subscription_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_events_email"))
        batch_op.drop_index(batch_op.f("ix_subscription_events_at"))
    op.drop_table("subscription_events")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("epoch")
        batch_op.drop_column("managed_by")
