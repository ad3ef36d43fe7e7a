"""Section spider: start pages plus `allow` rules that say which links are articles."""

from __future__ import annotations

from collections.abc import Iterator

from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from scraper.spiders.base import ArticleSpider

MAX_SECTION_PAGES = 3  # follow "next page" links this far from a start URL


class SectionSpider(ArticleSpider):
    """Read section pages, fetch links matching `allow`, and follow their pagination."""

    def section_requests(self) -> Iterator[Request]:
        for url in self.source.start_urls:
            yield Request(
                url,
                callback=self.parse_section,
                errback=self.on_error,
                dont_filter=True,
                meta={"section_page": 1},
            )

    def article_links(self) -> LinkExtractor:
        return LinkExtractor(allow=self.source.allow, deny=self.source.deny, unique=True)

    def parse_section(self, response: Response) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            self.skip("not_html", response.url)
            return
        for link in self.article_links().extract_links(response):
            yield from self.follow_article(link.url, {"title": link.text.strip() or None})
        page = response.meta.get("section_page", 1)
        if page >= MAX_SECTION_PAGES:
            return
        for href in response.css('a[rel~="next"]::attr(href), link[rel~="next"]::attr(href)'):
            if not self.web_url(response.urljoin(href.get())):
                continue
            yield response.follow(
                href.get(),
                callback=self.parse_section,
                errback=self.on_error,
                meta={"section_page": page + 1},
            )
