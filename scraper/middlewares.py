"""Downloader components: incremental crawls, a safe robots.txt check, a dupe filter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares import robotstxt
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import IgnoreRequest
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from briefing.articles import known_url
from scraper.addon import crawl_store

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


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
