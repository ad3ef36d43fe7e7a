"""Distributed crawl speed: pages/s with 1, 2 and 3 workers on one shared Redis frontier.

Each run crawls the same loopback site of N article pages (bench/crawl.py's) into a fresh
PostgreSQL database, with `crawl_and_record(workers=W)`. Two rates are printed: end to end
(worker start-up and the final idle wait included) and while crawling (first to last
article request seen by the server). Needs Redis on 127.0.0.1:6379 and PostgreSQL on
127.0.0.1:5432 (or BRIEFING_TEST_REDIS_URL / BRIEFING_TEST_POSTGRES_URL); says so and exits 0
without them. Usage: python bench/distributed.py [N] [WORKERS...]
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from crawl import Site  # bench/crawl.py: the same synthetic site

from briefing.config import parse_config
from briefing.stages.crawl import crawl_and_record

REDIS_URL = os.environ.get("BRIEFING_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "BRIEFING_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IDLE_TIMEOUT = 2.0


class LoggedSite(Site):
    """The bench site, noting when each article was requested."""

    times: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        if self.path.startswith("/a/"):
            LoggedSite.times.append(time.monotonic())
        super().do_GET()


def services_missing() -> str | None:
    """Return why Redis or PostgreSQL cannot be used, or None when both answer."""
    from redis import Redis, RedisError
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    try:
        with create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"PostgreSQL not reachable: {str(exc.orig).strip()[:120]}"
    return None


@contextmanager
def throwaway_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    admin = create_engine(POSTGRES_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"briefing_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def clear_prefix(prefix: str) -> None:
    from redis import Redis

    server = Redis.from_url(REDIS_URL)
    keys = list(server.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        server.delete(*keys)


def run(workers: int, pages: int, base: str) -> tuple[int, float, float, dict[int, int]]:
    """Crawl the site with `workers` processes; return stored, wall and crawling seconds."""
    prefix = f"briefing-bench-{secrets.token_hex(4)}"
    LoggedSite.times = []
    with tempfile.TemporaryDirectory() as tmp, throwaway_database() as store_url:
        config = parse_config(
            {
                "store": {"url": store_url},
                "crawl": {
                    "redis_url": REDIS_URL,
                    "autothrottle": False,
                    "concurrency": 16,
                    "concurrency_per_domain": 16,
                },
                "sources": [{"name": "bench", "sitemaps": [f"{base}/sitemap.xml"]}],
            },
            base_dir=Path(tmp),
        )
        settings = {"BRIEFING_REDIS_PREFIX": prefix, "BRIEFING_IDLE_TIMEOUT": IDLE_TIMEOUT}
        started = time.monotonic()
        summary = crawl_and_record(config, workers=workers, settings=settings)
        wall = time.monotonic() - started
    clear_prefix(prefix)
    times = LoggedSite.times
    crawling = (times[-1] - times[0]) if len(times) > 1 else float("nan")
    return summary.total.get("stored", 0), wall, crawling, summary.per_worker


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    counts = [int(arg) for arg in sys.argv[2:]] or [1, 2, 3]
    missing = services_missing()
    if missing:
        print(f"skipped: {missing}")
        return
    Site.pages = pages
    server = ThreadingHTTPServer(("127.0.0.1", 0), LoggedSite)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{pages} article pages; {os.cpu_count()} CPU cores; load average before: {load}")
    print("workers  stored  wall s  end-to-end p/s  crawling p/s  pages per worker")
    for workers in counts:
        stored, wall, crawling, per_worker = run(workers, pages, base)
        shares = "/".join(str(per_worker[i]) for i in sorted(per_worker))
        print(
            f"{workers:>7}  {stored:>6}  {wall:>6.1f}  {stored / wall:>14.1f}  "
            f"{stored / crawling:>12.1f}  {shares}"
        )
    server.shutdown()
    print(
        f"(end to end includes worker start-up and the {IDLE_TIMEOUT:.0f} s idle wait; "
        "on 2 cores the workers, the site and PostgreSQL share the same CPUs)"
    )


if __name__ == "__main__":
    main()
