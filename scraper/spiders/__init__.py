"""Spiders: generic ones built from each configured source, and site spiders by name."""

from __future__ import annotations

from scraper.spiders.source import SourceSpider
from scraper.spiders.yonhap import YonhapSpider

# Site spiders by the name a source gives in `spider = "…"`; each has golden pages in tests.
SITE_SPIDERS: dict[str, type[SourceSpider]] = {"yonhap": YonhapSpider}

__all__ = ["SITE_SPIDERS", "SourceSpider"]
