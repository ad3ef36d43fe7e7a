"""Bridge from briefing.toml to Scrapy: settings from [crawl], one shared store per crawl."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from briefing.articles import recent_fingerprints
from briefing.config import Config, load_config
from briefing.store import Store
from scraper.fingerprint import FingerprintIndex

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

CONFIG_OBJECT = "BRIEFING_CONFIG_OBJECT"  # a loaded Config, set by `briefing crawl`
CONFIG_PATH = "BRIEFING_CONFIG"  # or a path; else $BRIEFING_CONFIG, else ./briefing.toml


def config_from_settings(settings: BaseSettings) -> Config:
    """Return the Config the crawl runs with (object in settings, else loaded from a path)."""
    config = settings.get(CONFIG_OBJECT)
    return config if isinstance(config, Config) else load_config(settings.get(CONFIG_PATH))


def settings_from_config(config: Config) -> dict[str, Any]:
    """Translate the [crawl] section into Scrapy settings."""
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
    }
    if crawl.redis_url:
        settings.update(
            SCHEDULER="scrapy_redis.scheduler.Scheduler",
            DUPEFILTER_CLASS="scrapy_redis.dupefilter.RFPDupeFilter",
            SCHEDULER_PERSIST=True,
            REDIS_URL=crawl.redis_url,
        )
    return settings


class BriefingAddon:
    """Apply briefing.toml's [crawl] section to the crawl's settings."""

    def update_settings(self, settings: BaseSettings) -> None:
        config = config_from_settings(settings)
        # "spider" priority: above scraper/settings.py's defaults, below `-s KEY=VALUE`.
        for key, value in settings_from_config(config).items():
            settings.set(key, value, priority="spider")


def crawl_store(crawler: Crawler) -> Store:
    """Return the crawl's store, opened once and shared by its middlewares and pipelines."""
    store = getattr(crawler, "_briefing_store", None)
    if store is None:
        store = Store(config_from_settings(crawler.settings).store.url)
        crawler._briefing_store = store  # type: ignore[attr-defined]
    return store


def crawl_fingerprints(crawler: Crawler) -> FingerprintIndex:
    """Return the crawl's index of recent fingerprints, loaded from the store once."""
    index = getattr(crawler, "_briefing_fingerprints", None)
    if index is None:
        with crawl_store(crawler).session() as session:
            index = FingerprintIndex(recent_fingerprints(session))
        crawler._briefing_fingerprints = index  # type: ignore[attr-defined]
    return index
