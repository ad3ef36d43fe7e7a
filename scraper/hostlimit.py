"""One limit on simultaneous downloads from a host, shared by every spider of the crawl.

Scrapy's own CONCURRENT_REQUESTS_PER_DOMAIN does not hold here, for two reasons:

- it is counted per crawler, and a crawl runs one crawler per source: ten sources on one
  publisher's host may open ten times the connections the setting allows;
- in Scrapy 2.19 it does not even hold within one crawler: the downloader starts every
  request queued on a slot at once, because its loop checks for a free transfer slot before
  the downloads it schedules have marked themselves as transferring (a feed's 59 links went
  out together with a limit of 4).

A small server then overflows its listen queue and drops the connections it cannot accept;
each dropped one waits for TCP's retransmission (1, 3, 7… s). On the news day of
`bench/daily.py` (ten sources on one loopback host) the crawl spent half its time so.
`[crawl] concurrency_per_domain` is therefore enforced here, per host, for the whole crawl
process.
"""

from __future__ import annotations

from typing import ClassVar

from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import DeferredSemaphore

HOST_LIMIT = "BRIEFING_HOST_CONCURRENCY"  # downloads in flight per host, all spiders together
HELD = "_briefing_host_slot"  # request.meta key: the host whose slot the request holds


class SharedHostLimitMiddleware:
    """Wait for a free slot of the request's host before downloading; free it when done."""

    # Every crawler of the process shares these: that is the point.
    _slots: ClassVar[dict[tuple[str, int], DeferredSemaphore]] = {}

    def __init__(self, limit: int) -> None:
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedHostLimitMiddleware:
        return cls(crawler.settings.getint(HOST_LIMIT, 0))

    def _slot(self, host: str) -> DeferredSemaphore:
        key = (host, self.limit)
        if key not in self._slots:
            self._slots[key] = DeferredSemaphore(self.limit)
        return self._slots[key]

    async def process_request(self, request: Request) -> None:
        if self.limit < 1 or HELD in request.meta:
            return
        host = (urlparse_cached(request).netloc or "").lower()
        await maybe_deferred_to_future(self._slot(host).acquire())
        request.meta[HELD] = host

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)

    def _release(self, request: Request) -> None:
        host = request.meta.pop(HELD, None)
        if host is not None:
            self._slot(host).release()
