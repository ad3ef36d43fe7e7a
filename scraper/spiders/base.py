"""The part every spider shares: fetch an article page, check it, extract it, count skips."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from briefing.config import SourceConfig
from scraper.dates import parse_listed_time
from scraper.extract import ExtractedArticle, extract_article
from scraper.items import ArticleItem
from scraper.skips import SKIP_PREFIX, reason_for_failure
from scraper.spiders.intake import LinkIntake
from scraper.urls import canonical_url, url_problem

log = logging.getLogger(__name__)
HTML_TYPES = (b"text/html", b"application/xhtml+xml")
# Share of U+FFFD replacement characters above which a page's text is not worth keeping.
MAX_REPLACEMENT_SHARE = 0.002


class ArticleSpider(LinkIntake, Spider):
    """Base of all source spiders: article requests, page checks and skip accounting."""

    source: ClassVar[SourceConfig]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArticleSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # What fails unforeseen in a callback or a pipeline is counted, never silently lost.
        crawler.signals.connect(spider.on_spider_error, signal=signals.spider_error)
        crawler.signals.connect(spider.on_item_error, signal=signals.item_error)
        return spider

    def article_url(self, url: str) -> str:
        """Return the URL to fetch an article link at: its canonical form."""
        return canonical_url(url)

    def article_request(self, url: str, hints: dict[str, Any]) -> Request:
        """Return the request for an article page at url, as article_url gave it."""
        return Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={"article": True, "hints": hints},
        )

    def sitemap_request(self, url: str, depth: int) -> Request:
        """Return the request for a sitemap found depth levels below the source's seeds."""
        return Request(
            url,
            callback=self.parse_sitemap,  # type: ignore[attr-defined]
            errback=self.on_error,
            meta={"sitemap_depth": depth},
        )

    def web_url(self, url: str) -> bool:
        """Tell whether a URL found on a page may be fetched; count and log it when not.

        Feeds, sitemaps and pages are untrusted: a file:, data: or ftp: link would make
        Scrapy read the crawler's own disk or another service, and a malformed URL would
        stop the page's remaining links.
        """
        problem = url_problem(url)
        if problem:
            self.skip("bad_url", url[:200], problem)
            return False
        return True

    def skip(self, reason: str, url: str, detail: str = "", *, count: int = 1) -> None:
        """Log and count a URL (or count of them) that yields no article."""
        self.crawler.stats.inc_value(SKIP_PREFIX + reason, count)
        log.warning("skipped %s: %s%s", url, reason, f" ({detail})" if detail else "")

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = reason_for_failure(failure)
        if reason == "already_stored":  # SkipStoredUrlsMiddleware counted it already
            return
        self.skip(reason, url, _described(failure))

    def on_spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        """Count a callback that raised (Scrapy has logged the traceback)."""
        if spider is self:
            url = getattr(response, "url", None) or getattr(
                getattr(response, "request", None), "url", "?"
            )
            self.skip("callback_error", str(url), _described(failure))

    def on_item_error(self, item: Any, response: Any, spider: Spider, failure: Failure) -> None:
        """Count an item a pipeline failed on (Scrapy has logged the traceback)."""
        if spider is self:
            url = getattr(item, "url", None) or getattr(response, "url", "?")
            self.skip("pipeline_error", str(url), _described(failure))

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        text = self._page_text(response)
        if text is None or not isinstance(response, TextResponse):  # _page_text checked it
            return
        hints = response.meta.get("hints") or {}
        extracted = extract_article(
            text,
            response.url,
            default_language=self.source.language,
            feed_date=parse_listed_time(hints.get("published")) if hints.get("feed") else None,
        )
        extracted = self.refine(response, extracted)
        self.crawler.stats.inc_value("briefing/extracted")
        # The URL the feed or sitemap gave, before any redirect: kept as an alias, so that
        # the next crawl knows it, and the address when the redirect's is too long to keep.
        first = (response.meta.get("redirect_urls") or [response.url])[0]
        yield ArticleItem(
            source=self.source.name,
            url=response.url,
            requested_url=first,
            title=extracted.title,
            text=extracted.text,
            authors=list(extracted.authors),
            published_at=extracted.published_at,
            language=extracted.language,
            canonical_url=extracted.canonical_url,
            page_type=extracted.page_type,
            fetched_at=datetime.now(UTC),
            hints=dict(hints),
        )

    def refine(self, response: TextResponse, extracted: ExtractedArticle) -> ExtractedArticle:
        """Correct the generic extraction with what a site spider knows; generic: unchanged."""
        return extracted

    def _page_text(self, response: Response) -> str | None:
        """Return the page's decoded HTML, or None after counting why it is unusable."""
        body = response.body
        content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
        if not body.strip():
            self.skip("empty_body", response.url)
        elif not isinstance(response, TextResponse) or (
            content_type and content_type not in HTML_TYPES
        ):
            self.skip("not_html", response.url, content_type.decode("latin-1") or "no type")
        elif b"\x00" in body[:4096] and (text := utf16_text(body, response.encoding)) is not None:
            return text
        elif b"\x00" in body[:4096]:
            self.skip("binary_body", response.url)
        else:
            text = _repair_encoding(response)
            if text is not response.text:
                self.crawler.stats.inc_value("briefing/repaired_encoding")
                log.warning(
                    "repaired %s: declared %s, body is UTF-8", response.url, response.encoding
                )
            if text.count("\ufffd") > max(3, len(text) * MAX_REPLACEMENT_SHARE):
                self.skip("bad_encoding", response.url, f"declared {response.encoding}")
                return None
            return text
        return None


def utf16_text(body: bytes, declared: str) -> str | None:
    """Return body decoded as UTF-16 when it is UTF-16 text, else None (binary, say).

    UTF-16 pages are legitimate, and full of NUL bytes: a byte-order mark, a declared
    charset, or markup with a NUL in every other byte tells them apart from binary data.
    """
    sample = body[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if sample[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"  # the mark gives the byte order
    elif odd > len(sample) * 0.3 and even < len(sample) * 0.02:
        encoding = "utf-16-le"
    elif even > len(sample) * 0.3 and odd < len(sample) * 0.02:
        encoding = "utf-16-be"
    elif "16" in declared:
        encoding = "utf-16"
    else:
        return None
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text.removeprefix("\ufeff")


def _described(failure: Failure) -> str:
    return f"{failure.type.__name__ if failure.type else 'error'}: {failure.value}"[:200]


def _repair_encoding(response: TextResponse) -> str:
    """Decode the body, preferring UTF-8 when a page mislabels UTF-8 as a legacy charset.

    Valid multi-byte UTF-8 is almost never a real Latin-1/cp1252 text, so a strict UTF-8
    decode that succeeds wins over the declared single-byte charset.
    """
    if response.encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        return response.text
    try:
        decoded = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return response.text
    return decoded if any(ord(char) > 127 for char in decoded) else response.text
