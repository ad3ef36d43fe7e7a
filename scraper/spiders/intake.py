"""Links found on feeds, sitemaps and section pages: each checked, counted and bounded alone.

A feed, sitemap or page is untrusted and may be huge. Each link is handled on its own, so
a malformed one is counted and the rest carry on; every link ends as a request, or as
already stored, a duplicate, or a skip with its reason. The work is bounded: 50,000 links
per list (the sitemaps.org limit), [crawl] max_urls_per_source new articles per crawl,
a few hundred sitemaps per source, sitemap indexes nested at most MAX_SITEMAP_DEPTH deep.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response
from w3lib.url import safe_url_string

from briefing.config import SourceConfig
from briefing.store.articles import MAX_URL_LENGTH, known_urls
from scraper.addon import config_from_settings, crawl_store
from scraper.skips import SKIP_PREFIX
from scraper.urls import canonical_url, url_problem

log = logging.getLogger(__name__)
Found = tuple[str, dict[str, Any]]  # a link as written on the page, and what it says of it
MAX_URLS_PER_LIST = 50_000  # sitemaps.org: one sitemap lists at most 50,000 URLs
MAX_SITEMAPS_PER_SOURCE = 500
MAX_SITEMAP_DEPTH = 3  # an index of indexes of indexes of sitemaps; deeper is a trap
MAX_HINT_CHARS = 1000  # a feed's title for an article travels in the request: keep it small
LOOKUP_BATCH = 500
# Skips that come by the thousand (a site-wide sitemap, a limit reached): one log line each.
QUIET = {"not_allowed", "source_limit", "too_deep", "too_many_sitemaps"}


class LinkIntake:
    """Mixin of the source spiders: turn found links into requests, one link at a time.

    Counts go to a tally that reaches the crawl's stats every batch and at the end of each
    list: stats are shared and slow to touch 600,000 times.
    """

    crawler: Any
    source: ClassVar[SourceConfig]

    def skip(self, reason: str, url: str, detail: str = "", *, count: int = 1) -> None:
        """Log and count a URL that yields no article (ArticleSpider defines it)."""
        raise NotImplementedError

    def article_url(self, url: str) -> str:
        """Return the URL an article link is fetched at (ArticleSpider defines it)."""
        raise NotImplementedError

    def article_request(self, url: str, hints: dict[str, Any]) -> Request:
        """Return the request for an article at url (ArticleSpider defines it)."""
        raise NotImplementedError

    def sitemap_request(self, url: str, depth: int) -> Request:
        """Return the request for a sitemap depth levels down (ArticleSpider defines it)."""
        raise NotImplementedError

    def follow_links(self, response: Response, found: Iterable[Found]) -> Iterator[Request]:
        """Yield requests for the article links found on response, filtered by allow/deny."""
        pending: list[tuple[str, str, dict[str, Any]]] = []
        seen = self._seen("articles")
        limit = self._limit()

        def full() -> bool:  # pending links may be stored ones: a batch more is looked at
            return self._tally_total("briefing/queued") >= limit

        try:
            links = self._checked(response, found, self.link_filter(), self.article_url, full)
            for url, hints in links:
                if url in seen:
                    self._count("briefing/duplicate_link")
                    continue
                seen.add(url)
                pending.append((safe_url_string(url), url, hints))
                if len(pending) >= LOOKUP_BATCH:
                    yield from self._not_stored(pending)
                    pending = []
            yield from self._not_stored(pending)
        finally:
            self._flush()

    def follow_sitemaps(self, response: Response, found: Iterable[Found]) -> Iterator[Request]:
        """Yield requests for the sitemaps an index or robots.txt lists, within the bounds."""
        depth = int(response.meta.get("sitemap_depth", 0)) + 1
        seen = self._seen("sitemaps")
        seen.update(canonical_url(url) for url in self.source.sitemaps)  # a seed lists itself
        try:
            for url, _ in self._checked(response, found, self.sitemap_filter(), canonical_url):
                if depth > MAX_SITEMAP_DEPTH:
                    self._skip_quietly("too_deep", url)
                elif url in seen:
                    self._count("briefing/duplicate_sitemap")
                elif len(seen) >= MAX_SITEMAPS_PER_SOURCE:
                    self._skip_quietly("too_many_sitemaps", url)
                else:
                    seen.add(url)
                    yield self.sitemap_request(url, depth)
        finally:
            self._flush()

    def allow_rules(self) -> list[str]:
        """Return the regexes of article URLs (a site spider may have its own default)."""
        return list(self.source.allow)

    def link_filter(self) -> Callable[[str], bool]:
        """Return a test of article URLs: the source's allow/deny rules, when it has any."""
        allow = [re.compile(pattern) for pattern in self.allow_rules()]
        deny = [re.compile(pattern) for pattern in self.source.deny]

        def wanted(url: str) -> bool:
            if any(rule.search(url) for rule in deny):
                return False
            return not allow or any(rule.search(url) for rule in allow)

        return wanted

    def sitemap_filter(self) -> Callable[[str], bool]:
        """Return a test of sitemap URLs: never denied, and on a seed's host or allowed.

        `allow` names article URLs, so a site's own sitemaps rarely match it; a sitemap on
        another host must, as an article there would.
        """
        articles = self.link_filter()
        deny = [re.compile(pattern) for pattern in self.source.deny]
        seeds = [*self.source.feeds, *self.source.sitemaps, *self.source.start_urls]
        hosts = {_host(url) for url in seeds}

        def wanted(url: str) -> bool:
            if any(rule.search(url) for rule in deny):
                return False
            return _host(url) in hosts or articles(url)

        return wanted

    def _checked(
        self,
        response: Response,
        found: Iterable[Found],
        wanted: Callable[[str], bool],
        address: Callable[[str], str],
        full: Callable[[], bool] | None = None,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield (fetch URL, hints) of each usable link; count every other one.

        full (article links only) says the source's limit is reached: the links after
        that are counted as source_limit without being looked at.
        """
        beyond = 0
        for position, (href, hints) in enumerate(found):
            if position >= MAX_URLS_PER_LIST:
                beyond += 1
                continue
            if full is not None:  # each article link found ends stored, duplicate or skipped
                self._count("briefing/links_found")
                if full():
                    self._skip_quietly("source_limit", str(href))
                    continue
            try:
                url = self._link_url(response, href, address)
            except Exception as exc:  # one bad link must not stop the others
                log.exception("link %.200r on %s failed", href, response.url)
                self.skip("link_error", str(href)[:200], f"{type(exc).__name__}: {exc}"[:200])
                continue
            if url is None:
                continue
            if not wanted(url):
                self._skip_quietly("not_allowed", url)
                continue
            yield url, hints
        if beyond:
            self._count("briefing/links_found", beyond if full is not None else 0)
            detail = f"{beyond} links beyond the first {MAX_URLS_PER_LIST:,}"
            self.skip("too_many_urls", response.url, detail, count=beyond)

    def _link_url(self, response: Response, href: str, address: Callable[[str], str]) -> str | None:
        """Return the URL to fetch for href, or None after counting why there is none."""
        href = str(href).strip()
        try:
            joined = response.urljoin(href)
        except ValueError as exc:
            self.skip("bad_url", href[:200], str(exc))
            return None
        problem = url_problem(joined)
        if problem:
            self.skip("bad_url", joined[:200], problem)
            return None
        url = address(joined) if len(joined) < 4 * MAX_URL_LENGTH else joined
        if len(url) > MAX_URL_LENGTH:
            self.skip("url_too_long", url[:200] + "…", f"{len(url)} characters")
            return None
        return url

    def _not_stored(self, pending: list[tuple[str, str, dict[str, Any]]]) -> Iterator[Request]:
        """Yield requests for the links not stored yet, up to the source's limit."""
        if not pending:
            return
        try:
            with crawl_store(self.crawler).session() as session:
                stored = known_urls(session, [key for key, _, _ in pending])
        except Exception:  # the download middleware checks each URL again anyway
            log.warning("could not look up %d URLs in the store", len(pending), exc_info=True)
            stored = set()
        limit = self._limit()
        for key, url, hints in pending:
            if key in stored:
                self._count("briefing/already_stored")
            elif self._tally_total("briefing/queued") >= limit:
                self._skip_quietly("source_limit", url)
            else:
                try:
                    request = self.article_request(url, _clean_hints(hints))
                except Exception as exc:  # one bad link must not stop the others
                    self.skip("bad_url", url[:200], f"{type(exc).__name__}: {exc}"[:200])
                    continue
                self._count("briefing/queued")
                yield request
        self._flush()

    def _limit(self) -> int:
        if "_url_limit" not in self.__dict__:
            config = config_from_settings(self.crawler.settings)
            self.__dict__["_url_limit"] = config.crawl.max_urls_per_source
        return int(self.__dict__["_url_limit"])

    def _seen(self, kind: str) -> set[str]:
        """Return the URLs of kind this spider has requested in this crawl."""
        seen: dict[str, set[str]] = self.__dict__.setdefault("_seen_urls", {})
        return seen.setdefault(kind, set())

    def _tally(self) -> Counter[str]:
        tally: Counter[str] = self.__dict__.setdefault("_tally_counts", Counter())
        return tally

    def _count(self, key: str, amount: int = 1) -> None:
        self._tally()[key] += amount

    def _tally_total(self, key: str) -> int:
        return int(self.crawler.stats.get_value(key, 0)) + self._tally()[key]

    def _flush(self) -> None:
        """Add the tally to the crawl's stats."""
        tally = self._tally()
        for key, amount in tally.items():
            if amount:
                self.crawler.stats.inc_value(key, amount)
        tally.clear()

    def _skip_quietly(self, reason: str, url: str) -> None:
        """Count a skip that may happen thousands of times: the first is logged, not each."""
        key = SKIP_PREFIX + reason
        if not self._tally_total(key):
            log.warning("skipped %s: %s (more of these are counted, not logged)", url[:200], reason)
        self._count(key)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _clean_hints(hints: dict[str, Any]) -> dict[str, Any]:
    """Return hints with a bounded title and a published time in ISO 8601 (or None).

    "feed": the link came from an RSS/Atom item, whose time may date the page (extract.py).
    """
    title = hints.get("title")
    if title is not None:
        title = str(title).strip()[:MAX_HINT_CHARS] or None
    cleaned = {"title": title, "published": _iso_time(hints.get("published"))}
    return {**cleaned, "feed": True} if hints.get("feed") is True else cleaned


def _iso_time(value: Any) -> str | None:
    """Return value as an ISO 8601 UTC time, or None when it is not a usable one."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # "9999-12-31T23:00-05:00" is past datetime's range
        return None
    return moment.isoformat()
