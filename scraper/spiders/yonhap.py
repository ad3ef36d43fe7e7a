"""Yonhap News Agency, English edition: the worked example of a per-site override.

Sources are data (seeds, briefing.toml); a site spider exists only for what data cannot say.
Yonhap's pages need three things the generic extraction gets wrong:
- its times carry no zone: they are Korea Standard Time, not UTC;
- the byline sits in a writer box that is not marked up as an author;
- article URLs carry section and tracking queries: the AEN id alone names the article.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from scrapy.http import TextResponse

from scraper.extract import ExtractedArticle
from scraper.spiders.source import SourceSpider

ARTICLE_PATH = r"/view/AEN\d+"


class YonhapSpider(SourceSpider):
    """Yonhap English: KST times, writer-box bylines, and id-only article URLs."""

    local_zone: ClassVar[ZoneInfo] = ZoneInfo("Asia/Seoul")
    author_selector: ClassVar[str] = ".writer-zone .tit-name::text"
    published_selector: ClassVar[str] = (
        ".update-time::attr(data-published-time), .update-time::text"
    )
    dateline: ClassVar[re.Pattern[str]] = re.compile(
        r"^[A-Z][A-Z .,'-]*, [A-Z][a-z]{2}\.? \d{1,2} \(Yonhap\) -- "
    )

    def article_url(self, url: str) -> str:
        # The query (?section=..., ?input=...) never changes the article: drop it.
        return super().article_url(url.split("?", 1)[0])

    def allow_rules(self) -> list[str]:
        return list(self.source.allow) or [ARTICLE_PATH]

    def refine(self, response: TextResponse, extracted: ExtractedArticle) -> ExtractedArticle:
        return replace(
            extracted,
            authors=self.authors(response) or extracted.authors,
            published_at=self.published(response) or extracted.published_at,
            text=self.dateline.sub("", extracted.text, count=1),
        )

    def authors(self, response: TextResponse) -> list[str]:
        names = (name.strip() for name in response.css(self.author_selector).getall())
        return [name for name in names if name]

    def published(self, response: TextResponse) -> datetime | None:
        for value in response.css(self.published_selector).getall():
            try:
                moment = datetime.strptime(value.strip()[:16], "%Y-%m-%d %H:%M")
            except ValueError:
                continue
            return moment.replace(tzinfo=self.local_zone).astimezone(UTC)
        return None
