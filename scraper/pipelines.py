"""Item pipelines, in order: validate → canonical URL → duplicate check → store."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from briefing.limits import clip_authors, clip_body, clip_title
from briefing.store.articles import MAX_URL_LENGTH, ArticleRecord, save_article
from scraper.addon import crawl_fingerprints, crawl_store
from scraper.dates import parse_listed_time
from scraper.fingerprint import simhash
from scraper.items import ArticleItem
from scraper.language import count_words
from scraper.prose import LISTING_TYPES, reads_as_article
from scraper.skips import SKIP_PREFIX
from scraper.urls import canonical_url, same_site, url_problem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)
# Page types that need three times the minimum length to be taken for an article anyway.
NON_ARTICLE_TYPES = LISTING_TYPES | {"website", "webpage"}


class _Stage:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _Stage:
        return cls(crawler)

    def drop(self, reason: str, item: ArticleItem, detail: str = "") -> DropItem:
        self.crawler.stats.inc_value(SKIP_PREFIX + reason)
        return DropItem(f"{reason}: {item.url}{f' ({detail})' if detail else ''}")


class ValidatePipeline(_Stage):
    """Drop pages that are not articles: no title, too little text, or a listing page."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        min_words = self.crawler.settings.getint("BRIEFING_MIN_WORDS", 40)
        item.title = clip_title((item.title or item.hints.get("title") or "").strip())
        item.authors = clip_authors(item.authors or [])
        item.text = clip_body(item.text or "")
        # Words in any script: Chinese and Japanese count by characters, not by spaces.
        words = count_words(item.text)
        kind = (item.page_type or "").lower()
        if kind in NON_ARTICLE_TYPES and words < min_words * 3:
            raise self.drop("not_article", item, f"page type {item.page_type}")
        if words < min_words:
            raise self.drop("not_article", item, f"{words} words")
        if not item.title:
            raise self.drop("not_article", item, "no title")
        # A page that shows neither a date nor article markup must read as an article:
        # paragraphs of running prose, not an "About us" blurb, a landing page or a list.
        # Many publishers and press releases declare neither, in every language.
        if item.published_at is None and kind != "article" and not _reads_as_article(item):
            raise self.drop("not_article", item, "no date, no article markup, no running prose")
        if item.published_at is None and item.hints.get("published"):
            item.published_at = parse_listed_time(item.hints["published"])
        return item


class CanonicalUrlPipeline(_Stage):
    """Address the article by one canonical URL and keep the others as aliases."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        fetched = canonical_url(item.url)
        declared = _declared_canonical(item.canonical_url)
        # A page may only claim a canonical URL on its own site (host and port); otherwise
        # it could hijack one.
        canonical = declared if declared and same_site(declared, fetched) else fetched
        requested = canonical_url(item.requested_url)
        others = {requested, fetched}
        if len(canonical) > MAX_URL_LENGTH:
            # A redirect or a claim can make a URL of any length; the store keeps 2,048
            # characters: address the article by the URL that led to it instead.
            fitting = [url for url in (requested, fetched) if len(url) <= MAX_URL_LENGTH]
            if not fitting:
                raise self.drop("url_too_long", item, f"{len(canonical)} characters")
            canonical = fitting[0]
        item.aliases = sorted(u for u in others if u != canonical and len(u) <= MAX_URL_LENGTH)
        item.url = canonical
        return item


class DuplicatePipeline(_Stage):
    """Recognise an article already stored under another URL, or as a wire copy."""

    def process_item(self, item: ArticleItem) -> ArticleItem:
        # A URL already stored is found by save_article, first thing in its transaction: a
        # look-up here too cost a session and a query per article.
        item.fingerprint = simhash(item.text)
        if item.fingerprint is not None:
            item.duplicate_of = crawl_fingerprints(self.crawler).nearest(item.fingerprint)
        return item


class StorePipeline(_Stage):
    """Write the article (or its extra URLs) to the store, one transaction per item."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stored_sources: set[str] = set()  # whose row is committed: not written again

    def process_item(self, item: ArticleItem) -> ArticleItem:
        record = ArticleRecord(
            url=item.url,
            source=item.source,
            title=item.title or "",
            text=item.text,
            authors=item.authors,
            published_at=item.published_at,
            fetched_at=item.fetched_at,
            language=item.language,
            fingerprint=item.fingerprint,
            aliases=item.aliases,
        )
        store = crawl_store(self.crawler)
        known = item.source in self.stored_sources
        result = store.run(
            lambda session: save_article(session, record, item.duplicate_of, source_known=known)
        )
        if result.status == "stored":
            self.stored_sources.add(item.source)
        self.crawler.stats.inc_value(f"briefing/{result.status}")
        if result.status == "stored" and item.fingerprint is not None:
            crawl_fingerprints(self.crawler).add(result.article_id, item.fingerprint)
        elif result.status != "stored":
            log.info(
                "%s is a duplicate (%s) of article %s", item.url, result.status, result.article_id
            )
        return item


def _reads_as_article(item: ArticleItem) -> bool:
    """Tell an undated page that declares no listing type and reads as prose."""
    return (item.page_type or "").lower() not in LISTING_TYPES and reads_as_article(item.text)


def _declared_canonical(url: str | None) -> str | None:
    """Return the canonical form of the page's own claim, or None when it is not a web URL."""
    if not url or url_problem(url):  # a malformed <link rel=canonical> must not be used
        return None
    return canonical_url(url)
