"""News-sitemap spider: sitemap indexes, news sitemaps, and `Sitemap:` lines in robots.txt."""

from __future__ import annotations

import gzip
import io
import logging
import re
from collections.abc import Callable, Iterator

from lxml import etree
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.sitemap import sitemap_urls_from_robots

from scraper.spiders.base import ArticleSpider

log = logging.getLogger(__name__)
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file


def _parser() -> etree.XMLParser:
    # No entities, no network, no DTDs: a sitemap is untrusted XML.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False
    )


def sitemap_body(response: Response) -> bytes:
    """Return the XML of a sitemap response, gunzipping .gz files within the size limit."""
    body = response.body
    if body[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            body = stream.read(MAX_SITEMAP_BYTES + 1)
        if len(body) > MAX_SITEMAP_BYTES:
            raise ValueError("sitemap larger than 50 MB uncompressed")
    return body


class NewsSitemapSpider(ArticleSpider):
    """Walk sitemap indexes down to (news) sitemaps and fetch every listed article."""

    def sitemap_requests(self) -> Iterator[Request]:
        for url in self.source.sitemaps:
            callback = self.parse_robots if url.endswith("/robots.txt") else self.parse_sitemap
            yield Request(url, callback=callback, errback=self.on_error, dont_filter=True)

    def sitemap_filter(self) -> Callable[[str], bool]:
        """Return a test of sitemap URLs: the source's allow/deny rules, when it has any.

        A site-wide sitemap index lists every section; `allow` keeps this source's share.
        """
        allow = [re.compile(pattern) for pattern in self.source.allow]
        deny = [re.compile(pattern) for pattern in self.source.deny]

        def wanted(url: str) -> bool:
            if any(rule.search(url) for rule in deny):
                return False
            return not allow or any(rule.search(url) for rule in allow)

        return wanted

    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_from_robots(response.text, base_url=response.url):
            if self.web_url(url):
                yield Request(url, callback=self.parse_sitemap, errback=self.on_error)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            root = etree.fromstring(sitemap_body(response), parser=_parser())
        except (etree.XMLSyntaxError, ValueError, OSError) as exc:
            self.skip("malformed_sitemap", response.url, str(exc)[:200])
            return
        if root is None:
            self.skip("malformed_sitemap", response.url, "no XML root")
            return
        if etree.QName(root).localname == "sitemapindex":
            for loc in root.iterfind("{*}sitemap/{*}loc"):
                if loc.text and loc.text.strip():
                    url = response.urljoin(loc.text.strip())
                    if self.web_url(url):
                        yield Request(url, callback=self.parse_sitemap, errback=self.on_error)
            return
        wanted = self.sitemap_filter()
        for entry in root.iterfind("{*}url"):
            loc = entry.findtext("{*}loc")
            if not loc or not loc.strip() or not wanted(loc.strip()):
                continue
            hints = {
                "title": entry.findtext(".//{*}news/{*}title"),
                "published": entry.findtext(".//{*}news/{*}publication_date")
                or entry.findtext("{*}lastmod"),
            }
            self.crawler.stats.inc_value("briefing/sitemap_entries")
            yield from self.follow_article(response.urljoin(loc.strip()), hints)
