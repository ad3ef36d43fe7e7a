"""Why a URL was skipped: one reason per failure kind, logged and counted in the stats.

Every URL a crawl finds ends as stored, duplicate, already stored, or skipped for one of
REASONS (plus http_NNN, the status of a page that answered with an error). No exception
name is ever a reason: what nothing here foresaw is `download_error`, `callback_error` or
`pipeline_error`, with the exception in the log line.
"""

from __future__ import annotations

import gzip
import logging
import zlib

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionLost, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

log = logging.getLogger(__name__)
SKIP_PREFIX = "briefing/skipped/"

REASONS = {
    "already_stored": "the URL is in the store (counted as already stored, not as a skip)",
    "bad_compression": "the body's gzip/deflate/brotli encoding is corrupt",
    "bad_encoding": "the text is mostly undecodable in its declared charset",
    "bad_url": "not an http(s) URL, or not parseable (a stray bracket, a bad port)",
    "binary_body": "an HTML content type over a binary body",
    "callback_error": "the page's handler failed unexpectedly (the log has the error)",
    "connection_lost": "the connection broke before the whole answer arrived",
    "connection_refused": "nothing listens at that host and port",
    "decompression_bomb": "a compressed body that unpacks beyond the size limit",
    "dns": "the host name does not resolve",
    "download_error": "any other download failure (the log has the error)",
    "empty_body": "the answer had no content",
    "ignored": "a downloader component refused the request",
    "link_error": "a link on a feed, sitemap or page that failed unexpectedly (see the log)",
    "malformed_feed": "a feed with broken XML; the entries before the break are kept",
    "malformed_sitemap": "a sitemap that is not XML",
    "not_allowed": "a link outside the source's allow/deny rules",
    "not_article": "no title, too few words, a listing page, or no date and no markup",
    "not_html": "not a web page (PDF, image, JSON…)",
    "pipeline_error": "storing the article failed unexpectedly (the log has the error)",
    "private_address": "the host resolves to a private address the source may not use",
    "redirect_loop": "more redirects than [crawl] max_redirects",
    "robots_txt": "robots.txt disallows it",
    "source_limit": "beyond [crawl] max_urls_per_source this crawl; later crawls get them",
    "timeout": "no answer within [crawl] download_timeout",
    "too_deep": "sitemap indexes nested too deep, or a chain of pages too long",
    "too_large": "larger than [crawl] max_page_mb",
    "too_many_sitemaps": "more sitemaps than one source may read in one crawl",
    "too_many_urls": "beyond the 50,000 URLs one sitemap, feed or page may list",
    "url_too_long": "a URL longer than the store keeps (2,048 characters)",
}

_BY_EXCEPTION: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((DownloadCancelledError,), "too_large"),
    ((CannotResolveHostError, DNSLookupError), "dns"),
    ((DownloadConnectionRefusedError,), "connection_refused"),
    (
        (
            DownloadFailedError,
            ResponseDataLossError,
            ConnectionLost,
            ResponseFailed,
            ResponseNeverReceived,
        ),
        "connection_lost",
    ),
    ((gzip.BadGzipFile, zlib.error, EOFError), "bad_compression"),
)
_IGNORED = (
    ("robots", "robots_txt"),
    ("private address", "private_address"),
    ("during decompression", "decompression_bomb"),
    ("redirect", "redirect_loop"),
    ("already stored", "already_stored"),
)


def reason_for_failure(failure: Failure) -> str:
    """Map a download failure to a short, stable reason name (one of REASONS, or http_NNN)."""
    if isinstance(failure.value, HttpError):
        return f"http_{failure.value.response.status}"
    message = str(failure.value).lower()
    if failure.check(IgnoreRequest):
        return next((reason for text, reason in _IGNORED if text in message), "ignored")
    for kinds, reason in _BY_EXCEPTION:
        if failure.check(*kinds):
            return reason
    if "maxsize" in message or "max size" in message:
        return "too_large"
    return "download_error"
