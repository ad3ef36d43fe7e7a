"""Alembic environment: the store hands over its open connection."""

from __future__ import annotations

from alembic import context

from briefing.store.models import Base
from briefing.store.search import is_search_object

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic's CLI is used directly
    raise RuntimeError("run migrations through briefing.store.engine.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # The search index (FTS5 tables, a GIN index) is managed by its own migration.
    include_name=lambda name, type_, parents: not is_search_object(name),
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
