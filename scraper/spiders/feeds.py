"""Feed spider: RSS 0.9x/1.0/2.0 and Atom feeds list the articles to fetch."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
from scrapy import Request
from scrapy.http import Response

from scraper.spiders.base import ArticleSpider
from scraper.spiders.intake import Found

log = logging.getLogger(__name__)


def _entry_time(entry: Any) -> str | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
    except (ValueError, OverflowError, TypeError):  # a year past datetime's range, say
        return None


def _entries(entries: list[Any]) -> Iterator[Found]:
    """Yield each entry's link and hints; an entry without a link is not a link."""
    for entry in entries:
        link = entry.get("link")
        if link:
            yield link, {"title": entry.get("title"), "published": _entry_time(entry), "feed": True}


class FeedSpider(ArticleSpider):
    """Read the source's feeds and fetch every linked article (within allow/deny)."""

    def feed_requests(self) -> Iterator[Request]:
        for url in self.source.feeds:
            yield Request(url, callback=self.parse_feed, errback=self.on_error, dont_filter=True)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        # Parse bytes, never a URL: feedparser would otherwise fetch things itself.
        parsed = feedparser.parse(response.body)
        entries = [entry for entry in parsed.entries if entry.get("link")]
        if parsed.bozo:
            # Counted even when entries were salvaged: whatever followed the break is lost.
            problem = str(parsed.get("bozo_exception", ""))[:160]
            self.skip(
                "malformed_feed", response.url, f"{problem}; {len(entries)} entries recovered"
            )
        self.crawler.stats.inc_value("briefing/feed_entries", len(entries))
        yield from self.follow_links(response, _entries(entries))
