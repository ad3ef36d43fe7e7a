"""Whole crawls of the demo site on loopback, with every kind of failing page switched on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from briefing.config import Config, parse_config
from briefing.demo.site import DemoSite, demo_sources, serve_demo_site
from briefing.stages.crawl import crawl_and_record
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleUrl, CrawlRun
from scraper.runtime import CrawlSummary

pytestmark = pytest.mark.slow
FAULT_DELAY = 15.0  # seconds the timeout page waits; the crawl gives up after 5


@dataclass
class Crawled:
    site: DemoSite
    config: Config
    store: Store
    first: CrawlSummary
    second: CrawlSummary
    first_requests: list[tuple[str, str, int]]
    second_requests: list[tuple[str, str, int]]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    workdir = tmp_path_factory.mktemp("crawl")
    with serve_demo_site(faults=True, fault_delay=FAULT_DELAY) as (base, site):
        config = parse_config(
            {
                "crawl": {
                    "download_timeout": 5,
                    "retries": 1,
                    "max_page_mb": 2,
                    "autothrottle": False,
                    "concurrency_per_domain": 16,
                },
                "sources": demo_sources(base, faults=True),
            },
            base_dir=Path(workdir),
        )
        first = crawl_and_record(config, time_limit=120)
        first_requests = list(site.requests)
        second = crawl_and_record(config, time_limit=120)
        second_requests = site.requests[len(first_requests) :]
        yield Crawled(
            site,
            config,
            Store(config.store.url),
            first,
            second,
            first_requests,
            list(second_requests),
        )


def stored(crawled: Crawled) -> dict[str, Article]:
    with crawled.store.session() as session:
        return {a.url.split("/", 3)[3]: a for a in session.scalars(select(Article))}


def test_every_good_article_is_stored_once(crawled: Crawled) -> None:
    originals = [a for a in crawled.site.articles if not a.copy_of]
    articles = stored(crawled)
    titles = sorted(a.title for a in articles.values() if "faults" not in a.url)
    assert titles == sorted(a.title for a in originals)
    assert crawled.first.status == "finished"


def test_every_spider_type_stores_articles(crawled: Crawled) -> None:
    per_source = crawled.first.per_source
    # RSS 2.0, Atom, RSS 1.0, news sitemap index, section pages, and the Yonhap site spider.
    for source in ("northgate", "eastwind", "meridian", "courier", "continental", "yonhap"):
        assert per_source[source]["stored"] >= 3, source


def test_wire_copy_becomes_one_article_with_every_url(crawled: Crawled) -> None:
    copies = [a for a in crawled.site.articles if a.copy_of]
    assert copies
    with crawled.store.session() as session:
        for copy in copies:
            urls = {
                u.url.split("/", 3)[3]: u.article_id for u in session.scalars(select(ArticleUrl))
            }
            assert urls[copy.path.lstrip("/")] == urls[copy.copy_of.lstrip("/")]
    assert crawled.first.total["duplicates"] >= len(copies)


@pytest.mark.parametrize("path", sorted(DemoSite(faults=True).expected_skips))
def test_failing_pages_are_skipped_with_their_reason(crawled: Crawled, path: str) -> None:
    reason = crawled.site.expected_skips[path]
    if reason == "wrong_encoding":
        pytest.skip("repaired, not skipped: see test_mislabelled_encoding_is_repaired_then_judged")
    assert crawled.first.skipped().get(reason, 0) >= 1, (reason, crawled.first.skipped())
    assert not any(path in a.url for a in stored(crawled).values())


def test_mislabelled_encoding_is_repaired_then_judged(crawled: Crawled) -> None:
    # UTF-8 declared as ISO-8859-1 is decoded as UTF-8 (logged), never stored as mojibake;
    # the repaired page is then judged like any other (the About pages are not_article).
    assert crawled.first.total["repaired_encoding"] >= 1
    assert crawled.first.skipped().get("not_article", 0) >= 1
    assert not [a for a in stored(crawled).values() if "ë" in a.title or "ì" in a.text]


def test_robots_txt_exclusions_are_never_fetched(crawled: Crawled) -> None:
    assert crawled.site.private_articles
    assert not [r for r in crawled.first_requests + crawled.second_requests if "/private/" in r[1]]
    assert crawled.first.skipped().get("robots_txt", 0) >= 1


def test_second_crawl_downloads_no_stored_article(crawled: Crawled) -> None:
    article_paths = {a.path for a in crawled.site.articles}
    again = [path for _, path, _ in crawled.second_requests if path in article_paths]
    assert again == []
    assert crawled.second.total["stored"] == 0
    assert crawled.second.total["already_stored"] >= len(article_paths) - 1


def test_crawl_runs_are_recorded_with_stats(crawled: Crawled) -> None:
    with crawled.store.session() as session:
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    assert [r.status for r in runs] == ["finished", "finished"]
    assert runs[0].stats["total"]["stored"] == crawled.first.total["stored"]
    assert runs[0].finished_at is not None


def test_yonhap_site_spider_reads_korean_time_and_byline(crawled: Crawled) -> None:
    yonhap = [a for a in crawled.site.articles if a.outlet == "yonhap"]
    articles = stored(crawled)
    for expected in yonhap:
        article = articles[expected.path.lstrip("/")]
        assert article.published_at == expected.published_at.astimezone(UTC)
        assert article.authors == list(expected.authors)
        assert not article.text.startswith("SEOUL")
    seoul = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Seoul")).utcoffset()
    assert seoul is not None and seoul.total_seconds() == 9 * 3600


def test_scrapy_list_shows_the_configured_sources(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "briefing.toml"
    config.write_text(
        '[[sources]]\nname = "wire"\nfeeds = ["https://example.org/feed.xml"]\n'
        '[[sources]]\nname = "yonhap"\nstart_urls = ["https://example.org/nk"]\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "scrapy", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
        env={**__import__("os").environ, "BRIEFING_CONFIG": str(config)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wire", "yonhap"]


def test_every_source_in_a_process_shares_one_fingerprint_index(tmp_path: Path) -> None:
    # A wire copy on one source must find the original another source just stored.
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from scraper.addon import CONFIG_OBJECT, crawl_fingerprints

    config = parse_config(
        {"sources": [{"name": "a", "feeds": ["https://a.example/f"]}]}, base_dir=tmp_path
    )
    first, second = (get_crawler(Spider, {CONFIG_OBJECT: config}) for _ in range(2))
    crawl_fingerprints(first).add("original", 12345)
    assert crawl_fingerprints(second).nearest(12345) == "original"


def test_scrapy_remote_control_is_off() -> None:
    """No crawl child opens Scrapy's code-executing HTTP server (one per source crawler)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    assert not settings.getbool("REMOTE_CONTROL_ENABLED")


def test_no_spider_callback_is_a_generator_returning_a_value() -> None:
    """Scrapy's own check of this reads every callback's source in every crawl: it is off."""
    from scrapy.utils.misc import is_generator_with_return_value

    from scraper.spiders import SITE_SPIDERS, SourceSpider

    for spider in (SourceSpider, *SITE_SPIDERS.values()):
        callbacks = [getattr(spider, name) for name in dir(spider) if name.startswith("parse")]
        assert callbacks
        assert not any(is_generator_with_return_value(c) for c in [*callbacks, spider.on_error])
