"""News-sitemap spider: sitemap indexes, news sitemaps, and `Sitemap:` lines in robots.txt.

Sitemaps are read as a stream, entry by entry, so a 600,000-URL file costs the memory of
one entry, not of the whole tree; LinkIntake bounds what is queued from it.
"""

from __future__ import annotations

import gzip
import io
import logging
import zlib
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree
from scrapy import Request
from scrapy.http import Response

from scraper.spiders.base import ArticleSpider
from scraper.spiders.intake import Found

log = logging.getLogger(__name__)
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file
_TAGS = ("{*}urlset", "{*}sitemapindex", "{*}url", "{*}sitemap")


class SitemapTooLarge(ValueError):
    """A compressed sitemap that unpacks beyond MAX_SITEMAP_BYTES."""


class _Limited(io.RawIOBase):
    """A reader that raises SitemapTooLarge once more than limit bytes were read."""

    def __init__(self, stream: gzip.GzipFile, limit: int) -> None:
        self.stream, self.left = stream, limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size if size >= 0 else self.left + 1)
        self.left -= len(data)
        if self.left < 0:
            raise SitemapTooLarge(f"sitemap larger than {MAX_SITEMAP_BYTES // 2**20} MB unpacked")
        return data


class SitemapReader:
    """Read a (gzipped) sitemap as a stream: its kind first, then its entries one by one.

    Whatever ends the stream early (broken XML, a corrupt or oversized .gz) stops the
    entries and is kept in `problem` as (reason, detail); the entries before it are kept.
    """

    def __init__(self, body: bytes) -> None:
        stream: IO[bytes] | _Limited = io.BytesIO(body)
        if body[:2] == b"\x1f\x8b":
            stream = _Limited(gzip.GzipFile(fileobj=stream), MAX_SITEMAP_BYTES)
        # No entities, no network, no DTDs, no huge text nodes: a sitemap is untrusted XML.
        self._events = iter(
            etree.iterparse(
                stream,
                events=("start", "end"),
                tag=_TAGS,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                recover=True,
                huge_tree=False,
            )
        )
        self.problem: tuple[str, str] | None = None
        self.count = 0

    def kind(self) -> str | None:
        """Return "urlset" or "sitemapindex", or None (problem says why) when it is neither."""
        for event, element in self._guarded():
            if event == "start":
                name = etree.QName(element).localname
                if name in ("urlset", "sitemapindex"):
                    return name
        if self.problem is None:
            self.problem = ("malformed_sitemap", "no <urlset> or <sitemapindex>")
        return None

    def entries(self) -> Iterator[Found]:
        """Yield (loc, hints) of each <url> or <sitemap>, freeing each as it goes."""
        for event, element in self._guarded():
            if event != "end" or _local(element.tag) not in ("url", "sitemap"):
                continue
            fields = _fields(element)
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None and len(parent) > 1:
                del parent[:-1]  # the entries before this one, already handed on
            loc = fields.get("loc")
            if loc and loc.strip():
                self.count += 1
                published = fields.get("publication_date") or fields.get("lastmod")
                yield loc, {"title": fields.get("title"), "published": published}

    def _guarded(self) -> Iterator[tuple[str, Any]]:
        try:
            yield from self._events
        except SitemapTooLarge as exc:
            self.problem = ("decompression_bomb", str(exc))
        except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
            self.problem = ("bad_compression", f"{type(exc).__name__}: {exc}"[:200])
        except (etree.XMLSyntaxError, OSError) as exc:
            self.problem = ("malformed_sitemap", str(exc)[:200] or type(exc).__name__)


def _local(tag: Any) -> str:
    """Return an element's tag without its namespace ("" for comments and the like)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _fields(entry: Any) -> dict[str, str | None]:
    """Return the texts of an entry's loc and lastmod, and of its news:news title and date.

    One pass over the children: a wildcard search per field costs five times as much.
    """
    fields: dict[str, str | None] = {}
    for child in entry:
        name = _local(child.tag)
        if name == "news":
            fields.update((_local(part.tag), part.text) for part in child)
        elif name in ("loc", "lastmod"):
            fields[name] = child.text
    return fields


class NewsSitemapSpider(ArticleSpider):
    """Walk sitemap indexes down to (news) sitemaps and fetch every listed article."""

    def sitemap_requests(self) -> Iterator[Request]:
        for url in self.source.sitemaps:
            callback = self.parse_robots if url.endswith("/robots.txt") else self.parse_sitemap
            yield Request(url, callback=callback, errback=self.on_error, dont_filter=True)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        text = response.body.decode("utf-8", errors="replace")
        yield from self.follow_sitemaps(response, _sitemap_lines(text))

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        reader = SitemapReader(response.body)
        kind = reader.kind()
        if kind == "sitemapindex":
            yield from self.follow_sitemaps(response, reader.entries())
        elif kind == "urlset":
            yield from self.follow_links(response, reader.entries())
            self.crawler.stats.inc_value("briefing/sitemap_entries", reader.count)
        if reader.problem is not None:
            reason, detail = reader.problem
            self.skip(reason, response.url, f"{detail}; {reader.count} entries read before it")


def _sitemap_lines(robots: str) -> Iterator[Found]:
    """Yield the URL of each `Sitemap:` line of a robots.txt, as written."""
    for line in robots.splitlines():
        if line.lstrip().lower().startswith("sitemap:"):
            url = line.split(":", 1)[1].strip()
            if url:
                yield url, {}
