"""The spider for one configured source: feeds, news sitemaps and section pages together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request
from scrapy.utils.url import url_is_from_any_domain

from scraper.spiders.feeds import FeedSpider
from scraper.spiders.sections import SectionSpider
from scraper.spiders.sitemaps import NewsSitemapSpider


class SourceSpider(FeedSpider, NewsSitemapSpider, SectionSpider):
    """Crawl one source through whichever of feeds, sitemaps and section pages it lists."""

    async def start(self) -> AsyncIterator[Any]:
        for request in (
            *self.feed_requests(),
            *self.sitemap_requests(),
            *self.section_requests(),
        ):
            yield request

    @classmethod
    def handles_request(cls, request: Request) -> bool:
        urls = [*cls.source.feeds, *cls.source.sitemaps, *cls.source.start_urls]
        domains = {url.split("/")[2].split(":")[0] for url in urls}
        return url_is_from_any_domain(request.url, list(domains))
