"""Shared fixtures: a fresh store and config per test, no network, no ../shared.

PostgreSQL and Redis fixtures talk to the real servers (BRIEFING_TEST_POSTGRES_URL,
BRIEFING_TEST_REDIS_URL; defaults on 127.0.0.1) and skip, saying why, when they are down.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.smtp import LoopbackController, Recorder, smtp_server

from briefing.store.engine import Store

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "BRIEFING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BRIEFING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Yield the URL of a throwaway PostgreSQL database, dropped after the test."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    admin = create_engine(POSTGRES_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"briefing_test_{secrets.token_hex(5)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({str(exc.orig).strip()[:120]})")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            # FORCE: a crawl child killed by a test may have left a connection behind.
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: a SQLite file, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'briefing.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def redis_frontier() -> Iterator[tuple[str, str]]:
    """Yield (Redis URL, key prefix of this test's own); the prefix's keys go afterwards."""
    from redis import Redis, RedisError

    server = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        server.ping()
    except RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc})")
    prefix = f"briefing-test-{secrets.token_hex(5)}"
    try:
        yield REDIS_URL, prefix
    finally:
        keys = list(server.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            server.delete(*keys)
        server.close()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Store]:
    """A store in a throwaway PostgreSQL database (skipped when the server is absent)."""
    store = Store(postgres_url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[tuple[Recorder, LoopbackController]]:
    """A recording SMTP server on a free loopback port."""
    with smtp_server() as server:
        yield server
