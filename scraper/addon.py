"""Bridge from briefing.toml to Scrapy: settings from [crawl], one shared store per crawl."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from briefing.config import Config, load_config
from briefing.store.articles import recent_fingerprints
from briefing.store.engine import Store
from briefing.store.models import utcnow
from scraper.distributed import PREFIX, SEEN_HOURS, WORKER_TIMEOUT, queue_key_template
from scraper.fingerprint import NEAR_DUPLICATE_BITS, FingerprintIndex
from scraper.hostlimit import HOST_LIMIT

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

CONFIG_OBJECT = "BRIEFING_CONFIG_OBJECT"  # a loaded Config, set by `briefing crawl`
CONFIG_PATH = "BRIEFING_CONFIG"  # or a path; else $BRIEFING_CONFIG, else ./briefing.toml
DEFAULT_PREFIX = "briefing"


def config_from_settings(settings: BaseSettings) -> Config:
    """Return the Config the crawl runs with (object in settings, else loaded from a path)."""
    config = settings.get(CONFIG_OBJECT)
    return config if isinstance(config, Config) else load_config(settings.get(CONFIG_PATH))


def settings_from_config(config: Config, redis_prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """Translate the [crawl] section into Scrapy settings (redis_prefix: the frontier's keys)."""
    crawl = config.crawl
    settings: dict[str, Any] = {
        "USER_AGENT": crawl.user_agent,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": int(crawl.max_page_mb * 1024 * 1024),
        "REDIRECT_MAX_TIMES": crawl.max_redirects,
        "RETRY_TIMES": crawl.retries,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "BRIEFING_MIN_WORDS": crawl.min_words,
        HOST_LIMIT: crawl.concurrency_per_domain,
    }
    if crawl.redis_url:
        # scrapy-redis' scheduler and dupe filter, on a frontier no worker can lose requests from.
        settings.update(
            SCHEDULER="scraper.distributed.DistributedScheduler",
            DUPEFILTER_CLASS="scraper.middlewares.SharedDupeFilter",
            SCHEDULER_PERSIST=True,
            SCHEDULER_QUEUE_KEY=queue_key_template(redis_prefix),
            SCHEDULER_DUPEFILTER_KEY=f"{redis_prefix}:%(spider)s:seen",
            REDIS_URL=crawl.redis_url,
            SPIDER_MIDDLEWARES={"scraper.distributed.SeedingGate": 10},
        )
        # Optional [crawl] keys (see the README's "Running at scale"), when the config has them.
        for key, setting in (("worker_timeout", WORKER_TIMEOUT), ("seen_hours", SEEN_HOURS)):
            if getattr(crawl, key, None) is not None:
                settings[setting] = getattr(crawl, key)
    return settings


def redis_prefix(config: Config, settings: BaseSettings | dict[str, Any] | None = None) -> str:
    """Return the frontier's key prefix: the setting, [crawl] redis_prefix, $BRIEFING_REDIS_PREFIX.

    Every worker of one deployment must use the same prefix; two deployments sharing a
    Redis server need different ones.
    """
    chosen = (
        (settings or {}).get(PREFIX)
        or getattr(config.crawl, "redis_prefix", None)
        or os.environ.get(PREFIX)
    )
    return str(chosen or DEFAULT_PREFIX)


class BriefingAddon:
    """Apply briefing.toml's [crawl] section to the crawl's settings."""

    def update_settings(self, settings: BaseSettings) -> None:
        config = config_from_settings(settings)
        prefix = redis_prefix(config, settings)
        # "spider" priority: above scraper/settings.py's defaults, below `-s KEY=VALUE`.
        for key, value in settings_from_config(config, prefix).items():
            if key == "SPIDER_MIDDLEWARES":  # added to the project's, not replacing them
                value = {**settings.getdict("SPIDER_MIDDLEWARES"), **value}
            settings.set(key, value, priority="spider")


_STORES: dict[str, Store] = {}  # one per process: every source's crawler shares its pool
_INDEXES: dict[str, FingerprintIndex] = {}  # store URL -> the process's shared index


def crawl_store(crawler: Crawler) -> Store:
    """Return the crawl's store, opened once per process and shared by every crawler.

    A worker runs one crawler per source: a store (and connection pool) each would open
    hundreds of PostgreSQL connections per worker.
    """
    store = getattr(crawler, "_briefing_store", None)
    if store is None:
        url = config_from_settings(crawler.settings).store.url
        if url not in _STORES:
            _STORES[url] = Store(url)
        store = crawler._briefing_store = _STORES[url]  # type: ignore[attr-defined]
    return store


def crawl_fingerprints(crawler: Crawler) -> FingerprintIndex:
    """Return the index of recent fingerprints, loaded once per process and store.

    Every source's crawler in the process shares it: a wire copy on one source must find
    the original another source stored a moment ago. A distributed crawl's index also
    re-reads what other workers stored, every few seconds.
    """
    store = crawl_store(crawler)
    index = _INDEXES.get(store.url)
    if index is None:
        if crawler.settings.get("REDIS_URL"):
            index = SharedFingerprintIndex(store)
        else:
            with store.session() as session:
                index = FingerprintIndex(recent_fingerprints(session))
        _INDEXES[store.url] = index
    return index


class SharedFingerprintIndex(FingerprintIndex):
    """Recent fingerprints that other workers add to: new rows are read every few seconds.

    Two near-identical copies stored by two workers within one refresh of each other are
    both kept, as separate articles (story grouping still puts them together).
    """

    REFRESH_SECONDS = 2.0
    OVERLAP = timedelta(seconds=30)  # rows committed late, or stamped by a slower clock
    DAYS = 14

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.known: set[str] = set()
        self.read_since = utcnow() - timedelta(days=self.DAYS)
        self.next_refresh = 0.0
        self.refresh()

    def refresh(self) -> None:
        started = utcnow()
        days = (started - self.read_since + self.OVERLAP).total_seconds() / 86400
        with self.store.session() as session:
            for article_id, value in recent_fingerprints(session, days=days):  # type: ignore[arg-type]
                self.add(article_id, value)
        self.read_since = started
        self.next_refresh = time.monotonic() + self.REFRESH_SECONDS

    def add(self, article_id: str, value: int) -> None:
        if article_id not in self.known:
            self.known.add(article_id)
            super().add(article_id, value)

    def nearest(self, value: int, max_bits: int = NEAR_DUPLICATE_BITS) -> str | None:
        if time.monotonic() >= self.next_refresh:
            self.refresh()
        return super().nearest(value, max_bits)
