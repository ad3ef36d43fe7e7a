"""Downloader middleware that makes crawls incremental."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from briefing.articles import known_url
from scraper.addon import crawl_store

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class SkipStoredUrlsMiddleware:
    """Do not download an article page whose URL is already in the store."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipStoredUrlsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("article"):
            return
        store = crawl_store(self.crawler)
        with store.session() as session:
            if known_url(session, request.url):
                self.crawler.stats.inc_value("briefing/already_stored")
                raise IgnoreRequest("already stored")
