"""The item a spider yields for each article page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class ArticleItem:
    """One fetched article page, extracted; pipelines validate, canonicalise and store it."""

    source: str
    url: str  # where the page was finally fetched from, after redirects
    requested_url: str
    title: str | None
    text: str
    authors: list[str]
    published_at: datetime | None
    language: str | None
    canonical_url: str | None  # what the page itself declares (<link rel=canonical>, og:url)
    page_type: str | None
    fetched_at: datetime
    hints: dict[str, Any] = field(default_factory=dict)  # title/date a feed or sitemap gave
    aliases: list[str] = field(default_factory=list)
    fingerprint: int | None = None
    duplicate_of: str | None = None
