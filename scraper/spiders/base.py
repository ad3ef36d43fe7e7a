"""The part every spider shares: fetch an article page, check it, extract it, count skips."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from briefing.config import SourceConfig
from scraper.extract import ExtractedArticle, extract_article
from scraper.items import ArticleItem
from scraper.skips import SKIP_PREFIX, reason_for_failure
from scraper.urls import canonical_url, url_problem

log = logging.getLogger(__name__)
HTML_TYPES = (b"text/html", b"application/xhtml+xml")
# Share of U+FFFD replacement characters above which a page's text is not worth keeping.
MAX_REPLACEMENT_SHARE = 0.002


class ArticleSpider(Spider):
    """Base of all source spiders: article requests, page checks and skip accounting."""

    source: ClassVar[SourceConfig]

    def article_request(self, url: str, hints: dict[str, Any] | None = None) -> Request:
        """Return the request for an article page, addressed by its canonical URL."""
        return Request(
            canonical_url(url),
            callback=self.parse_article,
            errback=self.on_error,
            meta={"article": True, "hints": hints or {}},
        )

    def follow_article(self, url: str, hints: dict[str, Any] | None = None) -> Iterator[Request]:
        """Yield the article request for url, or nothing (counted) when it is not a web URL."""
        if self.web_url(url):
            yield self.article_request(url, hints)

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

    def skip(self, reason: str, url: str, detail: str = "") -> None:
        """Log and count a URL that yields no article."""
        self.crawler.stats.inc_value(SKIP_PREFIX + reason)
        log.warning("skipped %s: %s%s", url, reason, f" ({detail})" if detail else "")

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        self.skip(reason_for_failure(failure), url, str(failure.value)[:200])

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        text = self._page_text(response)
        if text is None or not isinstance(response, TextResponse):  # _page_text checked it
            return
        extracted = extract_article(text, response.url, default_language=self.source.language)
        extracted = self.refine(response, extracted)
        self.crawler.stats.inc_value("briefing/extracted")
        yield ArticleItem(
            source=self.source.name,
            url=response.url,
            requested_url=response.request.url if response.request else response.url,
            title=extracted.title,
            text=extracted.text,
            authors=list(extracted.authors),
            published_at=extracted.published_at,
            language=extracted.language,
            canonical_url=extracted.canonical_url,
            page_type=extracted.page_type,
            fetched_at=datetime.now(UTC),
            hints=dict(response.meta.get("hints") or {}),
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
