"""Section spider: start pages plus `allow` rules that say which links are articles."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS

from scraper.spiders.base import ArticleSpider
from scraper.spiders.intake import Found

MAX_SECTION_PAGES = 3  # follow "next page" links this far from a start URL
# Images, documents, archives, media: never article pages, whatever `allow` matches.
NOT_PAGES = re.compile(rf"\.({'|'.join(map(re.escape, IGNORED_EXTENSIONS))})$", re.IGNORECASE)


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

    def parse_section(self, response: Response) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            self.skip("not_html", response.url)
            return
        yield from self.follow_links(response, _article_anchors(response, self.link_filter()))
        page = response.meta.get("section_page", 1)
        if page >= MAX_SECTION_PAGES:
            return
        for href in response.css('a[rel~="next"]::attr(href), link[rel~="next"]::attr(href)'):
            try:
                url = response.urljoin(href.get().strip())
            except ValueError as exc:
                self.skip("bad_url", href.get()[:200], str(exc))
                continue
            if self.web_url(url):
                yield Request(
                    url,
                    callback=self.parse_section,
                    errback=self.on_error,
                    meta={"section_page": page + 1},
                )


def _article_anchors(response: TextResponse, wanted: Callable[[str], bool]) -> Iterator[Found]:
    """Yield the links of the page that `allow`/`deny` call articles, with their text.

    Navigation links are not articles and are not counted; a malformed link that looks
    like an article is passed on, to be counted as what it is.
    """
    for anchor in response.selector.root.iter("a", "area"):
        href = anchor.get("href")
        if not href or not href.strip():
            continue
        try:
            url = response.urljoin(href.strip())
        except ValueError:
            url = href.strip()
        if wanted(url) and not NOT_PAGES.search(url.split("?", 1)[0].split("#", 1)[0]):
            yield href, {"title": anchor.text_content()[:2000]}
