"""Crawl components: incremental crawls, a safe robots.txt check, dupe filters, counted drops."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares import robotstxt
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import IgnoreRequest
from scrapy.robotstxt import RobotParser
from scrapy.spidermiddlewares.depth import DepthMiddleware
from scrapy.spidermiddlewares.urllength import UrlLengthMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis import dupefilter as redis_dupefilter
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet.defer import Deferred

from briefing.store.articles import known_url
from scraper.addon import crawl_store
from scraper.distributed import SEEN_HOURS
from scraper.skips import SKIP_PREFIX

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

log = logging.getLogger(__name__)


class SkipStoredUrlsMiddleware:
    """Do not download an article page whose URL is already in the store."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipStoredUrlsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("article"):
            return
        store = crawl_store(self.crawler)
        with store.session() as session:
            if known_url(session, request.url):
                self.crawler.stats.inc_value("briefing/already_stored")
                raise IgnoreRequest("already stored")


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's robots.txt check, safe when many requests wait for one robots.txt.

    In Scrapy 2.19 every request that arrives while robots.txt is downloading awaits the
    same Deferred; the first waiter consumes its result and the others receive None, which
    means "allowed". Each waiter here gets its own Deferred fed by a pass-through callback.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred[RobotParser | None] = Deferred()

            def share(result: Any) -> Any:
                waiter.callback(result)
                return result

            pending.addBoth(share)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)


class RedirectAwareDupeFilter(RFPDupeFilter):
    """Let redirect hops through, so a loop ends at REDIRECT_MAX_TIMES and is counted.

    The stock filter drops the hop back to an already-seen URL silently, and a redirect
    loop would then never be reported.
    """

    def request_seen(self, request: Request) -> bool:
        if request.meta.get("redirect_times"):
            return False
        return super().request_seen(request)

    def log(self, request: Request, spider: Spider) -> None:
        _count_duplicate_link(request, spider)
        super().log(request, spider)


def _count_duplicate_link(request: Request, spider: Spider) -> None:
    """Count an article link dropped as already requested: a duplicate, not a loss."""
    if request.meta.get("article") and spider.crawler is not None:
        spider.crawler.stats.inc_value("briefing/duplicate_link")


class CountedUrlLengthMiddleware(UrlLengthMiddleware):
    """Scrapy's URL length limit (URLLENGTH_LIMIT, 2,083), each drop logged and counted."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        kept = super().get_processed_request(request, response)
        if kept is None:
            self.crawler.stats.inc_value(SKIP_PREFIX + "url_too_long")
            log.warning("skipped %.200s…: url_too_long (%d chars)", request.url, len(request.url))
        return kept


class CountedDepthMiddleware(DepthMiddleware):
    """Scrapy's depth limit (DEPTH_LIMIT), each drop counted: a backstop behind the spiders'."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        kept = super().get_processed_request(request, response)
        if kept is None:
            self.stats.inc_value(SKIP_PREFIX + "too_deep")
            log.warning("skipped %.200s: too_deep (depth > %d)", request.url, self.maxdepth)
        return kept


class SharedDupeFilter(redis_dupefilter.RFPDupeFilter):
    """scrapy-redis' dupe filter, shared by every worker, with two differences.

    Redirect hops pass, as in RedirectAwareDupeFilter. And a URL is "seen" for a window
    (BRIEFING_SEEN_HOURS, default 1), not forever: within a crawl each URL is fetched once,
    while a page that failed is tried again by a later crawl, as a single process would;
    stored articles are skipped by SkipStoredUrlsMiddleware whatever the window.
    """

    # One sorted set, fingerprint -> when first seen (Redis' clock), trimmed as it goes.
    _SEEN = """
    local now = tonumber(redis.call('TIME')[1])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
    if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
    redis.call('ZADD', KEYS[1], now, ARGV[1])
    return 0
    """

    def __init__(self, server: Any, key: str, debug: bool = False, window_hours: float = 1.0):
        super().__init__(server, key, debug)
        self.window_seconds = max(1, int(window_hours * 3600))
        self._seen = server.register_script(self._SEEN)

    @classmethod
    def from_spider(cls, spider: Any) -> SharedDupeFilter:
        settings = spider.settings
        server = get_redis_from_settings(settings)
        key = settings.get("SCHEDULER_DUPEFILTER_KEY") % {"spider": spider.name}
        debug = settings.getbool("DUPEFILTER_DEBUG")
        return cls(server, key, debug, settings.getfloat(SEEN_HOURS, 1.0))

    def request_seen(self, request: Request) -> bool:
        if request.meta.get("redirect_times"):
            return False
        fingerprint = self.request_fingerprint(request)
        return bool(self._seen(keys=[self.key], args=[fingerprint, self.window_seconds]))

    def log(self, request: Request, spider: Spider) -> None:
        _count_duplicate_link(request, spider)
        super().log(request, spider)

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other workers are still using them."""
