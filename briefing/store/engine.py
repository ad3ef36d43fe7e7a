"""Open the store: engine, sessions and migrations (SQLite in WAL mode, or PostgreSQL)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from briefing.errors import StoreError
from briefing.network import redact_url

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK_KEY = 0x62726966  # "brif": one advisory lock id for schema migrations
# Errors a transaction may simply be retried after: SQLite busy, PostgreSQL deadlock and
# serialisation failure (SQLSTATE 40P01, 40001).
RETRYABLE_SQLSTATES = {"40P01", "40001"}
T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the archive app, exports) run while a crawl writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Wait for a competing writer rather than failing at once with "database is locked".
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for url, creating the SQLite file's folder if needed."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the store's folder for {path}: {exc}") from None
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


# Alembic runs a migration through module-level proxies (alembic.context, alembic.op) that
# one thread sets and clears: two threads migrating at once (the daemon's jobs each open
# the store) break each other. One migration at a time per process.
_MIGRATING = threading.Lock()


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest Alembic revision (first use creates it)."""
    with _MIGRATING:
        _migrate(engine)


def _migrate(engine: Engine) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes starting together on a new database take turns; the lock ends with
            # the transaction, and the later ones find the schema already at head.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        _refuse_unknown_revisions(connection, ScriptDirectory.from_config(config))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _refuse_unknown_revisions(connection: Any, scripts: ScriptDirectory) -> None:
    """Raise StoreError when the schema was made by a newer version of this program."""
    current = MigrationContext.configure(connection).get_current_heads()
    known = {script.revision for script in scripts.walk_revisions()}
    unknown = [revision for revision in current if revision not in known]
    if unknown:
        newest = ", ".join(scripts.get_heads())
        raise StoreError(
            f"the store's schema is at revision {unknown[0]!r}, which this version of briefing "
            f"does not know (it knows up to {newest!r}): a newer version made it; upgrade "
            "briefing, or point [store] url at another store"
        )


def describe_database_error(exc: DatabaseError, url: str) -> str:
    """Say in one line what is wrong with the store and what to do about it."""
    reason = " ".join(str(exc.orig or exc).split())
    where = redact_url(url)
    if any(sign in reason for sign in ("not a database", "malformed", "corrupt")):
        return (
            f"the store at {where} is damaged ({reason}); restore it from a backup, or move "
            "it away to start a new, empty store"
        )
    return f"the store at {where} cannot be used: {reason}"


class Store:
    """The one place articles, stories, briefings and deliveries live."""

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        try:
            self.engine = make_engine(url)
            if auto_migrate:
                migrate(self.engine)
        except OperationalError as exc:
            if "malformed" in str(exc.orig) or "not a database" in str(exc.orig):
                raise StoreError(describe_database_error(exc, url)) from None
            raise StoreError(f"cannot open the store at {redact_url(url)}: {exc.orig}") from None
        except DatabaseError as exc:  # a damaged file, or not a database at all
            raise StoreError(describe_database_error(exc, url)) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def run(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run work in a transaction, retrying when SQLite reports a locked database."""
        for attempt in range(1, attempts + 1):
            try:
                with self.session() as session:
                    return work(session)
            except OperationalError as exc:
                if not _retryable(exc) or attempt == attempts:
                    raise
                log.warning("store busy (%s); retrying, attempt %d", exc.orig, attempt)
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.engine.dispose()


def _retryable(exc: OperationalError) -> bool:
    """Tell whether a failed transaction may be retried as it is."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig)
