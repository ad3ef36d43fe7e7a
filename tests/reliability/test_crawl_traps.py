"""Trap links, end to end: none drops its neighbours, none reaches a private service.

One crawl of the trap site (trap_site.py): a feed, a robots.txt → sitemap index → sitemap
chain and a section page, each mixing good articles with malformed links, links to a
private server on another port (in five spellings, by redirect and by meta refresh),
compression bombs, UTF-16 pages, over-long URLs, a canonical claim on another port and a
date past datetime's range. A second crawl allows the private server and fetches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from reliability_support import report_figure
from sqlalchemy import select
from trap_site import Outlet, PrivateService, serve_trap_sites

from briefing.config import Config, parse_config
from briefing.stages.crawl import crawl_and_record
from briefing.store.engine import Store
from briefing.store.models import Article
from scraper.runtime import CrawlSummary
from scraper.skips import REASONS

pytestmark = pytest.mark.slow
CRAWL = {"autothrottle": False, "download_timeout": 5, "retries": 0, "max_page_mb": 2}
# Skips of feeds, sitemaps and robots.txt lines themselves, not of article links.
SEED_LEVEL = {"maps": {"bad_url": 2, "not_allowed": 2, "private_address": 1, "http_404": 1}}


@dataclass
class Trapped:
    a: str
    b: str
    outlet: Outlet
    service: PrivateService
    config: Config
    summary: CrawlSummary
    articles: dict[str, Article]
    private_requests_after_first: int
    allowed: CrawlSummary


@pytest.fixture(scope="module")
def trapped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trapped]:
    with serve_trap_sites() as (a, outlet, b, service):
        sources = [
            {"name": "feeds", "feeds": [f"{a}/feed.xml"], "deny": ["/denied/"]},
            {"name": "maps", "sitemaps": [f"{a}/robots.txt"], "allow": ["/s/"]},
            {"name": "sections", "start_urls": [f"{a}/section.html"], "allow": ["/sec/"]},
            {"name": "byname", "feeds": [f"{a.replace('127.0.0.1', 'localhost')}/feed-a.xml"]},
        ]
        folder = tmp_path_factory.mktemp("traps")
        config = parse_config({"crawl": CRAWL, "sources": sources}, base_dir=folder)
        summary = crawl_and_record(config, time_limit=120)
        private_requests = sum(service.requests.values())
        store = Store(config.store.url)
        with store.session() as session:
            articles = {row.url.removeprefix(a): row for row in session.scalars(select(Article))}
            session.expunge_all()
        store.close()
        allowed = parse_config(
            {
                "crawl": {**CRAWL, "allow_private": [b.removeprefix("http://")]},
                "sources": [{"name": "internal", "feeds": [f"{a}/feed-b.xml"]}],
            },
            base_dir=tmp_path_factory.mktemp("allowed"),
        )
        allowed_summary = crawl_and_record(allowed, time_limit=120)
        yield Trapped(
            a, b, outlet, service, config, summary, articles, private_requests, allowed_summary
        )


def skipped(summary: CrawlSummary, source: str) -> dict[str, int]:
    stats = summary.per_source[source]
    return {k.removeprefix("skipped/"): v for k, v in stats.items() if k.startswith("skipped/")}


def test_every_good_article_is_stored_whatever_its_neighbours(trapped: Trapped) -> None:
    assert trapped.summary.status == "finished"
    expected = {"/a/1.html", "/a/2.html", "/a/3.html", "/s/1.html", "/s/2.html", "/s/3.html"}
    expected |= {"/sec/1.html", "/sec/2.html", "/sec/3.html"}
    assert expected <= set(trapped.articles)
    # One malformed link is counted, once per list, and the links after it still count.
    assert skipped(trapped.summary, "feeds")["bad_url"] == 1
    assert skipped(trapped.summary, "sections")["bad_url"] == 1
    assert skipped(trapped.summary, "maps")["bad_url"] == 3  # robots.txt, index, sitemap


def test_no_request_ever_reaches_the_private_service(trapped: Trapped) -> None:
    assert trapped.private_requests_after_first == 0
    # [::1], 127.0.0.1, 0x7f000001, 2130706433, full-width localhost, a redirect, a refresh.
    assert skipped(trapped.summary, "feeds")["private_address"] == 7
    assert not [path for path in trapped.articles if "/secret" in path]
    assert skipped(trapped.summary, "maps")["private_address"] == 1  # robots.txt's Sitemap:
    assert not [url for url in trapped.articles if trapped.b in url or "secret" in url]


def test_a_seed_named_by_host_name_may_use_its_address(trapped: Trapped) -> None:
    stats = trapped.summary.per_source["byname"]
    assert stats["stored"] == 1, stats  # 127.0.0.1:A is localhost:A, the seed's server
    assert skipped(trapped.summary, "byname") == {"private_address": 1}  # but not B


def test_the_private_service_is_fetched_once_allow_private_names_it(trapped: Trapped) -> None:
    stats = trapped.allowed.per_source["internal"]
    assert stats["stored"] + stats["duplicates"] == 2, stats  # the link and the redirect
    assert "skipped/private_address" not in stats
    assert trapped.service.requests["/article.html"] >= 1


def test_allow_and_deny_hold_for_feed_links_and_sitemap_lines(trapped: Trapped) -> None:
    assert skipped(trapped.summary, "feeds")["not_allowed"] == 1  # /denied/1.html
    assert trapped.outlet.requests["/denied/1.html"] == 0
    # robots.txt and the index each name a sitemap on another host that `allow` lacks.
    assert skipped(trapped.summary, "maps")["not_allowed"] == 2


def test_every_link_found_ends_stored_duplicate_or_skipped_with_a_reason(
    trapped: Trapped,
) -> None:
    for source, stats in trapped.summary.per_source.items():
        reasons = skipped(trapped.summary, source)
        assert set(reasons) <= set(REASONS) | {"http_404"}, reasons
        seed_level = SEED_LEVEL.get(source, {})
        article_skips = sum(reasons.values()) - sum(seed_level.values())
        ends = stats["stored"] + stats["duplicates"] + stats["already_stored"] + article_skips
        assert stats["links"] == ends, (source, stats)


def test_bombs_long_links_and_bad_compression_have_their_own_reasons(trapped: Trapped) -> None:
    reasons = skipped(trapped.summary, "feeds")
    assert reasons["decompression_bomb"] == 1
    assert reasons["bad_compression"] == 1
    assert reasons["url_too_long"] == 1  # the 2,100-character link, counted and logged
    assert all(len(url) <= 2048 for url in trapped.articles)


def test_a_redirect_to_an_overlong_url_is_stored_under_the_url_that_led_to_it(
    trapped: Trapped,
) -> None:
    article = trapped.articles["/to-long"]
    assert article.title.startswith("Story 45:")


def test_utf16_pages_are_decoded_not_refused_as_binary(trapped: Trapped) -> None:
    for path, number in (
        ("/utf16-le-bom.html", 40),
        ("/utf16-be-declared.html", 41),
        ("/utf16-le-plain.html", 42),
    ):
        assert trapped.articles[path].title.startswith(f"Story {number}:"), path
    assert "binary_body" not in skipped(trapped.summary, "feeds")


def test_a_date_past_the_calendar_costs_the_date_not_the_article(trapped: Trapped) -> None:
    assert trapped.articles["/s/2.html"].published_at is None


def test_nul_is_stripped_and_a_canonical_on_another_port_is_not_believed(
    trapped: Trapped,
) -> None:
    assert trapped.articles["/nul-author.html"].authors == ["Kim Lee"]
    assert "/hijack.html" in trapped.articles  # not filed under the other port's URL
    reasons = ", ".join(f"{k} {v}" for k, v in trapped.summary.skipped().items())
    report_figure(
        "trap links",
        f"{sum(s['links'] for s in trapped.summary.per_source.values())} links, "
        f"{trapped.summary.total['stored']} stored; skipped: {reasons}; "
        f"requests reaching the private service: {trapped.private_requests_after_first}",
    )
