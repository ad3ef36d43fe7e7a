"""Locks on a store: one scheduler daemon per store, one run (crawl → send) at a time, one
enrichment at a time (so two never parse the same articles at once).

SQLite stores lock a file next to the database (fcntl.flock: released by the kernel when the
holder dies). PostgreSQL stores take a session advisory lock on a dedicated connection, so
the lock holds across machines and is released when the holder's connection ends.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from briefing.errors import LockHeld
from briefing.store.engine import StoreError

log = logging.getLogger(__name__)
SCHEDULE_LOCK = "schedule"
RUN_LOCK = "run"
ENRICH_LOCK = "enrich"
PURPOSE = {
    SCHEDULE_LOCK: "a `briefing schedule` daemon",
    RUN_LOCK: "a run (`briefing run` or the daemon's daily job)",
    ENRICH_LOCK: "an enrichment (`briefing group`, or one in step with a crawl)",
}


class _Backend(Protocol):
    def try_acquire(self) -> bool: ...
    def release(self) -> None: ...
    def alive(self) -> bool: ...
    def holder(self) -> str: ...


class _FileBackend:
    """An flock on a file next to the SQLite database; the file records the holder's pid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def alive(self) -> bool:
        return self.fd is not None

    def holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            pid = ""
        return f"pid {pid or '?'}, lock file {self.path}"


class _AdvisoryBackend:
    """A PostgreSQL session advisory lock held on its own connection for as long as needed."""

    def __init__(self, url: str, name: str) -> None:
        digest = hashlib.sha256(f"briefing:{name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        # AUTOCOMMIT: the connection must not sit "idle in transaction" for days.
        self.engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        connection = self.engine.connect()
        query = text("SELECT pg_try_advisory_lock(:key)")
        if connection.execute(query, {"key": self.key}).scalar():
            self.connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except SQLAlchemyError as exc:  # the lock died with its connection anyway
                log.warning("releasing the advisory lock failed: %s", exc)
            finally:
                self.connection.close()
                self.connection = None
        self.engine.dispose()

    def alive(self) -> bool:
        """Check that the lock's connection (and so the lock) still exists."""
        if self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def holder(self) -> str:
        return f"PostgreSQL advisory lock {self.key} on {self.engine.url.render_as_string()}"


class _NoBackend:
    """An in-memory SQLite store belongs to one process: nothing to guard."""

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def alive(self) -> bool:
        return True

    def holder(self) -> str:
        return "nobody"


class StoreLock:
    """A named lock on one store, taken with a timeout and released on exit."""

    def __init__(self, name: str, backend: _Backend, sleep: Callable[[float], None] = time.sleep):
        self.name = name
        self.backend = backend
        self.sleep = sleep

    def acquire(self, timeout: float | None = 0.0, poll: float = 0.5) -> None:
        """Take the lock, waiting up to timeout seconds (None: forever), or raise LockHeld."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.backend.try_acquire():
            if deadline is not None and time.monotonic() >= deadline:
                purpose = PURPOSE.get(self.name, f"the {self.name!r} lock")
                raise LockHeld(
                    f"{purpose} is already running for this store ({self.backend.holder()})"
                )
            self.sleep(poll)
        log.debug("took the %s lock", self.name)

    def release(self) -> None:
        self.backend.release()

    def alive(self) -> bool:
        return self.backend.alive()

    @contextmanager
    def held(self, timeout: float | None = 0.0) -> Iterator[StoreLock]:
        """Hold the lock for the block (see acquire for timeout)."""
        self.acquire(timeout)
        try:
            yield self
        finally:
            self.release()


def store_lock(url: str, name: str) -> StoreLock:
    """Return the lock called name for the store at url (not yet taken)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return StoreLock(name, _AdvisoryBackend(url, name))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return StoreLock(name, _NoBackend())
        path = Path(database)
        return StoreLock(name, _FileBackend(path.with_name(f"{path.name}.{name}.lock")))
    raise StoreError(f"no lock for {parsed.get_backend_name()} stores (SQLite or PostgreSQL)")
