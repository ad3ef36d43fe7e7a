"""search: full-text index of stories and articles

SQLite gets an FTS5 table that briefing.store.search keeps in step with the store; PostgreSQL
gets a GIN index over the same expression briefing.store.search queries.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Keep these in step with briefing/search.py: the queries must use the indexed expression.
SQLITE_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    kind UNINDEXED, ref UNINDEXED, stamp UNINDEXED, title, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""
POSTGRES_INDEX = """
CREATE INDEX IF NOT EXISTS ix_articles_fulltext ON articles USING gin (
    to_tsvector('english'::regconfig, left(coalesce(title, '') || ' ' || coalesce(text, ''), 200000))
)
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(SQLITE_TABLE)
    elif dialect == "postgresql":
        op.execute(POSTGRES_INDEX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_fulltext")
