"""The distributed crawl: a shared frontier in the real Redis, a store in the real PostgreSQL.

Workers crawl a loopback site of article pages whose server logs every request, so "each
URL fetched once" is checked against what the server saw, not against the crawler's word.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict
from sqlalchemy import func, select
from support.config import make_config
from support.http import LoopbackServer, serving

from briefing.config import Config, parse_config
from briefing.stages.crawl import crawl_and_record
from briefing.store.engine import Store
from briefing.store.models import Article
from scraper.addon import redis_prefix, settings_from_config
from scraper.frontier import ReliableQueue, decode, encode
from scraper.middlewares import SharedDupeFilter

WORDS = (
    "minister talks summit port missile economy market council energy budget parliament "
    "election court police flood storm harbour railway village farmers trade union strike "
    "bank inflation vaccine hospital school festival museum river bridge treaty envoy"
).split()
PAGES = 600


def article_html(number: int) -> bytes:
    """A distinct news article: its own words, title and date."""
    rng = random.Random(number)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)) + f" {number}.</p>" for _ in range(4)
    )
    title = f"Story {number}: " + " ".join(rng.choice(WORDS) for _ in range(5))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        "<meta property='og:type' content='article'>"
        "<meta property='article:published_time' content='2026-11-27T08:00:00Z'></head>"
        f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    ).encode()


class ArticleSite(LoopbackServer):
    """robots.txt, one sitemap of `pages` articles, the articles; every request logged."""

    def __init__(self, pages: int = PAGES, delay: float = 0.0) -> None:
        super().__init__(_Handler)
        self.pages = pages
        self.delay = delay
        self.log: list[str] = []
        self.lock = threading.Lock()

    def article_fetches(self) -> Counter[str]:
        with self.lock:
            return Counter(path for path in self.log if path.startswith("/a/"))


class _Handler(BaseHTTPRequestHandler):
    server: ArticleSite

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server
        with site.lock:
            site.log.append(self.path)
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/sitemap.xml":
            urls = "".join(
                f"<url><loc>{site.base}/a/{i}.html</loc></url>" for i in range(site.pages)
            )
            body = (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{urls}</urlset>"
            ).encode()
            kind = "application/xml"
        elif (match := re.fullmatch(r"/a/(\d+)\.html", self.path)) and int(match[1]) < site.pages:
            time.sleep(site.delay)
            body, kind = article_html(int(match[1])), "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(site: ArticleSite) -> Iterator[ArticleSite]:
    with serving(site):
        yield site


def crawl_config(tmp_path: Path, store_url: str, redis_url: str, base: str) -> Config:
    crawl = {"redis_url": redis_url, "autothrottle": False, "retries": 1}
    return make_config(
        tmp_path,
        store={"url": store_url},
        crawl={**crawl, "concurrency": 8, "concurrency_per_domain": 8},
        sources=[{"name": "wire", "sitemaps": [f"{base}/sitemap.xml"]}],
    )


def stored_articles(store_url: str) -> tuple[int, int]:
    """Return (articles, distinct article URLs) in the store."""
    store = Store(store_url)
    try:
        with store.session() as session:
            count = session.scalar(select(func.count()).select_from(Article)) or 0
            distinct = session.scalar(select(func.count(func.distinct(Article.url)))) or 0
    finally:
        store.close()
    return count, distinct


# The frontier itself: fast checks against the real Redis.


@pytest.mark.redis
def test_a_dead_workers_requests_go_back_and_a_live_ones_stay(redis_frontier) -> None:  # type: ignore[no-untyped-def]
    url, prefix = redis_frontier
    server = Redis.from_url(url)
    first = ReliableQueue(server, f"{prefix}:s:requests", "first")
    second = ReliableQueue(server, f"{prefix}:s:requests", "second")
    for name in (b"a", b"b", b"c"):
        first.push(name)
    first.heartbeat(timeout_ms=300)
    done, held = first.pop(), first.pop()
    assert done is not None and held is not None
    assert (done[1], held[1], len(first), first.in_flight()) == (b"a", b"b", 1, 2)
    assert second.requeue_orphans() == 0  # alive: nothing is taken from it
    assert first.ack([done[0]]) == 1
    time.sleep(0.4)  # its heartbeat expires: "first" is dead
    assert second.requeue_orphans() == 1 and first.in_flight() == 0
    assert second.pop() == held  # the held request comes first: it is the older one
    assert first.ack([held[0]]) == 0  # too late: it was handed on
    remaining = second.pop()
    assert remaining is not None and remaining[1] == b"c" and second.pop() is None
    assert second.busy()  # "second" still holds two
    assert second.ack([held[0], remaining[0]]) == 2 and not second.busy()
    server.close()


@pytest.mark.redis
def test_priority_then_arrival_order_and_release_on_leaving(redis_frontier) -> None:  # type: ignore[no-untyped-def]
    url, prefix = redis_frontier
    server = Redis.from_url(url)
    queue = ReliableQueue(server, f"{prefix}:s:requests", "w")
    for data, priority in ((b"late", -1), (b"one", 0), (b"two", 0), (b"redirect", 2)):
        queue.push(data, priority)
    order = [queue.pop() for _ in range(4)]
    assert [item[1] for item in order if item] == [b"redirect", b"one", b"two", b"late"]
    assert order[0] is not None and queue.ack([order[0][0]]) == 1
    assert queue.release() == 3 and len(queue) == 3 and queue.in_flight() == 0
    assert [item[1] for item in (queue.pop(), queue.pop(), queue.pop()) if item] == [
        b"one",
        b"two",
        b"late",
    ]
    server.close()


def test_requests_travel_as_json_and_come_back_whole() -> None:
    class Wire(Spider):
        name = "wire"

        def parse_article(self, response: Any) -> None: ...

        def on_error(self, failure: Any) -> None: ...

    spider = Wire()
    request = Request(
        "https://a.example/x?id=1",
        callback=spider.parse_article,
        errback=spider.on_error,
        headers={"Referer": "https://a.example/"},
        meta={"article": True, "hints": {"title": "T", "published": None}, "redirect_times": 1},
        priority=2,
    )
    data = encode(request.to_dict(spider=spider))
    assert b"pickle" not in data and data.startswith(b"{")
    again = request_from_dict(decode(data), spider=spider)
    assert again.url == request.url and again.callback == spider.parse_article
    assert again.headers == request.headers and again.meta == request.meta
    assert again.priority == 2
    with pytest.raises(TypeError, match="shared frontier"):
        encode({"meta": {"object": object()}})


@pytest.mark.redis
def test_shared_dupe_filter_lets_redirect_hops_through_and_forgets_after_its_window(
    redis_frontier,  # type: ignore[no-untyped-def]
) -> None:
    url, prefix = redis_frontier
    server = Redis.from_url(url)
    seen = SharedDupeFilter(server, f"{prefix}:s:seen", window_hours=1.0)
    other_worker = SharedDupeFilter(server, f"{prefix}:s:seen", window_hours=1.0)
    assert not seen.request_seen(Request("https://a.example/1"))
    assert other_worker.request_seen(Request("https://a.example/1"))
    hop = Request("https://a.example/1", meta={"redirect_times": 1})
    assert not other_worker.request_seen(hop)
    short = SharedDupeFilter(server, f"{prefix}:s:short", window_hours=1 / 3600)
    assert not short.request_seen(Request("https://a.example/2"))
    time.sleep(2.1)
    assert not short.request_seen(Request("https://a.example/2"))  # the window has passed
    server.close()


def test_redis_url_switches_to_the_shared_frontier_under_a_prefix(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = crawl_config(tmp_path, "sqlite:///b.db", "redis://127.0.0.1:6379/0", "http://a")
    monkeypatch.setenv("BRIEFING_REDIS_PREFIX", "from-env")
    assert redis_prefix(config, {"BRIEFING_REDIS_PREFIX": "from-setting"}) == "from-setting"
    assert redis_prefix(config) == "from-env"
    settings = settings_from_config(config, "desk")
    assert settings["SCHEDULER"] == "scraper.distributed.DistributedScheduler"
    assert settings["SCHEDULER_QUEUE_KEY"] % {"spider": "wire"} == "desk:wire:requests"
    assert settings["SCHEDULER_DUPEFILTER_KEY"] % {"spider": "wire"} == "desk:wire:seen"
    sources = [{"name": "wire", "feeds": ["http://a/f"]}]
    alone = parse_config({"sources": sources}, base_dir=tmp_path)
    assert "SCHEDULER" not in settings_from_config(alone)  # no Redis: one process, as before


# Whole crawls: 3 worker processes, one frontier, one PostgreSQL store.


@pytest.fixture
def site() -> Iterator[ArticleSite]:
    with serve(ArticleSite()) as running:
        yield running


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_three_workers_fetch_and_store_each_article_once(
    tmp_path,
    site,
    redis_frontier,
    postgres_url,  # type: ignore[no-untyped-def]
) -> None:
    redis_url, prefix = redis_frontier
    config = crawl_config(tmp_path, postgres_url, redis_url, site.base)
    settings = {"BRIEFING_REDIS_PREFIX": prefix, "BRIEFING_IDLE_TIMEOUT": 2}
    summary = crawl_and_record(config, workers=3, settings=settings, time_limit=120)
    fetches = site.article_fetches()
    assert summary.status == "finished" and summary.lost_workers == 0
    assert len(fetches) == PAGES and set(fetches.values()) == {1}, fetches.most_common(3)
    assert site.log.count("/sitemap.xml") == 1  # seeds are read once, by one worker
    assert stored_articles(postgres_url) == (PAGES, PAGES)
    assert summary.total["stored"] == PAGES and summary.total["fetched"] >= PAGES
    busy = [count for count in summary.per_worker.values() if count >= 20]
    assert len(busy) >= 2, summary.per_worker  # the work was shared, not done by one


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_a_killed_worker_loses_no_article(
    tmp_path,
    redis_frontier,
    postgres_url,  # type: ignore[no-untyped-def]
) -> None:
    redis_url, prefix = redis_frontier
    killed: list[int] = []
    # Slow pages, so that the victim holds requests when it dies.
    with serve(ArticleSite(delay=0.05)) as slow_site:
        config = crawl_config(tmp_path, postgres_url, redis_url, slow_site.base)
        settings = {
            "BRIEFING_REDIS_PREFIX": prefix,
            "BRIEFING_IDLE_TIMEOUT": 2,
            "BRIEFING_WORKER_TIMEOUT": 4,
        }
        killer = threading.Thread(target=_kill_one_worker, args=(slow_site, killed), daemon=True)
        killer.start()
        summary = crawl_and_record(config, workers=3, settings=settings, time_limit=120)
        killer.join(timeout=5)
        fetches = slow_site.article_fetches()
    assert killed, "no worker was killed: the crawl ended too soon"
    assert summary.status == "finished" and summary.lost_workers == 1
    assert len(fetches) == PAGES  # every article fetched, some of the victim's twice
    assert sum(fetches.values()) - PAGES <= 3 * 8, fetches.most_common(5)
    assert stored_articles(postgres_url) == (PAGES, PAGES)


def _kill_one_worker(site: ArticleSite, killed: list[int]) -> None:
    """Once a quarter of the articles are fetched, SIGKILL one crawl worker."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        workers = multiprocessing.active_children()
        if len(workers) == 3 and sum(site.article_fetches().values()) >= PAGES // 4:
            victim = sorted(workers, key=lambda child: child.pid or 0)[1]
            os.kill(victim.pid or 0, signal.SIGKILL)
            killed.append(victim.pid or 0)
            return
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_a_worker_joins_a_crawl_then_leaves_without_losing_or_repeating_a_page(
    tmp_path,
    redis_frontier,
    postgres_url,  # type: ignore[no-untyped-def]
) -> None:
    redis_url, prefix = redis_frontier
    pages = 240
    with serve(ArticleSite(pages=pages, delay=0.05)) as slow_site:
        config_file = tmp_path / "briefing.toml"
        config_file.write_text(
            f'[store]\nurl = "{postgres_url}"\n'
            f'[crawl]\nredis_url = "{redis_url}"\nautothrottle = false\n'
            "concurrency = 4\nconcurrency_per_domain = 4\n"
            f'[[sources]]\nname = "wire"\nsitemaps = ["{slow_site.base}/sitemap.xml"]\n'
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "briefing", "worker", "--config", str(config_file)],
            env={**os.environ, "BRIEFING_REDIS_PREFIX": prefix},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_for_heartbeat(redis_url, f"{prefix}:wire:requests:alive:*")
            stopper = threading.Thread(target=_stop_at, args=(slow_site, pages // 3, worker))
            stopper.start()
            config = crawl_config(tmp_path, postgres_url, redis_url, slow_site.base)
            settings = {"BRIEFING_REDIS_PREFIX": prefix, "BRIEFING_IDLE_TIMEOUT": 2}
            summary = crawl_and_record(config, settings=settings, time_limit=120)
            stopper.join(timeout=5)
            output, _ = worker.communicate(timeout=30)
        finally:
            worker.kill()
        fetches = slow_site.article_fetches()
    assert worker.returncode == 0, output[-2000:]
    assert "interrupted" in output  # it left when told, mid-crawl
    assert summary.status == "finished" and 0 < summary.total["fetched"] < pages
    assert len(fetches) == pages and set(fetches.values()) == {1}, fetches.most_common(3)
    assert stored_articles(postgres_url) == (pages, pages)


def _wait_for_heartbeat(redis_url: str, pattern: str, seconds: float = 60) -> None:
    server = Redis.from_url(redis_url)
    deadline = time.monotonic() + seconds
    while not list(server.scan_iter(match=pattern)):
        assert time.monotonic() < deadline, "the worker never joined the frontier"
        time.sleep(0.2)
    server.close()


def _stop_at(site: ArticleSite, fetched: int, worker: subprocess.Popen[str]) -> None:
    """SIGTERM the worker once the site has served `fetched` articles."""
    deadline = time.monotonic() + 90
    while sum(site.article_fetches().values()) < fetched and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGTERM)
