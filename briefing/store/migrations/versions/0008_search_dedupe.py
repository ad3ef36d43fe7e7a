"""search_dedupe: remove the duplicate search rows that concurrent searches once inserted

Searches arriving together each refreshed the SQLite index and inserted the same rows, so
results listed an article several times. Keep the first row of each (kind, ref); the next
refresh replaces any row that is out of date.

Revision ID: 0008_search_dedupe
Revises: 0007_subscriptions
"""

from __future__ import annotations

from alembic import op

revision = "0008_search_dedupe"
down_revision = "0007_subscriptions"
branch_labels = None
depends_on = None

DEDUPE = """
DELETE FROM search_fts WHERE rowid NOT IN (
    SELECT min(rowid) FROM search_fts GROUP BY kind, ref
)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(DEDUPE)


def downgrade() -> None:
    pass  # nothing to undo: duplicates were never meant to be there
