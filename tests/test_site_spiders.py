"""Site spiders, checked on golden pages: a site spider exists only with pages that show why.

Sources are data; a site spider holds what data cannot say (Yonhap's zone-less times, its
writer box, its id-only URLs). Each one keeps saved pages in tests/spiders/<name>/ with the
record it must yield, and a site spider without them fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from briefing.config import SourceConfig
from scraper.loader import spider_class
from scraper.spiders import SITE_SPIDERS

SPIDER_PAGES = Path(__file__).parent / "spiders"
GOLDEN = sorted(SPIDER_PAGES.glob("*/*.html"))


@pytest.mark.parametrize("name", sorted(SITE_SPIDERS))
def test_every_site_spider_has_golden_pages(name: str) -> None:
    pages = sorted((SPIDER_PAGES / name).glob("*.html"))
    assert pages, f"site spider {name!r} has no golden page in tests/spiders/{name}/"
    for page in pages:
        assert page.with_suffix(".json").is_file(), f"{page.name} has no expected record"


def test_every_golden_folder_names_a_site_spider() -> None:
    folders = {page.parent.name for page in GOLDEN}
    assert folders <= set(SITE_SPIDERS), folders - set(SITE_SPIDERS)


@pytest.mark.parametrize("page", GOLDEN, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_site_spider_golden_page(page: Path) -> None:
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    name = page.parent.name
    source = SourceConfig(name=name, feeds=["https://example.org/feed.xml"], spider=name)
    spider_cls = spider_class(source)
    spider = spider_cls.from_crawler(get_crawler(spider_cls))
    request = spider.article_request(spider.article_url(expected["requested_url"]), {})
    assert request.url == expected["url"]
    response = HtmlResponse(
        url=request.url, body=page.read_bytes(), encoding="utf-8", request=request
    )
    [item] = list(spider.parse_article(response))
    assert item.title == expected["title"]
    assert item.authors == expected["authors"]
    published = item.published_at.isoformat() if item.published_at else None
    assert published == expected["published_at"]
    assert item.language == expected["language"]
    assert item.canonical_url == expected["canonical_url"]
    assert item.page_type == expected["page_type"]
    assert item.text.startswith(expected["text_starts_with"]), item.text[:200]
    for sentence in expected["text_contains"]:
        assert sentence in item.text
    for boilerplate in expected["text_excludes"]:
        assert boilerplate not in item.text
