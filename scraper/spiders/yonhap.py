"""Yonhap News Agency, English edition: the worked example of a per-site override."""

from __future__ import annotations

from scraper.spiders import SourceSpider


class YonhapSpider(SourceSpider):
    """Yonhap English: article ids in the path; placeholder until the demo layout lands."""
