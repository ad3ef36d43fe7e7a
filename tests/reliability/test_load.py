"""Load with failures: 5,000 loopback pages, 5% failing in six ways; the counts match exactly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from reliability_support import report_figure
from sqlalchemy import func, select
from synthetic_site import article_path, mixed_failures, serve_site, title_of

from briefing.config import parse_config
from briefing.stages.crawl import crawl_and_record
from briefing.store.engine import Store
from briefing.store.models import Article

pytestmark = pytest.mark.slow
PAGES = 5000
# 250 failing pages (5%); only a few time out, since each costs two 2-second waits.
FAILURES = {
    "http_404": 70,
    "http_500": 60,
    "timeout": 6,
    "connection_lost": 50,
    "bad_encoding": 32,
    "not_article": 32,
}


def test_5000_page_crawl_with_5_percent_failures_matches_the_truth(tmp_path: Path) -> None:
    truth = mixed_failures(PAGES, FAILURES)
    assert sum(len(n) for n in truth.failing.values()) == PAGES // 20
    with serve_site(truth) as (base, site):
        config = parse_config(
            {
                "crawl": {
                    "download_timeout": 2,
                    "retries": 1,
                    "autothrottle": False,
                    "concurrency": 32,
                    "concurrency_per_domain": 32,
                },
                "sources": [{"name": "synthetic", "sitemaps": [f"{base}/sitemap.xml"]}],
            },
            base_dir=tmp_path,
        )
        started = time.monotonic()
        summary = crawl_and_record(config, time_limit=240)
        seconds = time.monotonic() - started
    total = summary.total
    assert summary.status == "finished"
    assert total["stored"] == len(truth.good) == PAGES - PAGES // 20
    assert summary.skipped() == truth.expected_skips()
    assert total.get("duplicates", 0) == 0

    store = Store(config.store.url)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == len(truth.good)
        stored = {
            url.split("/", 3)[3]: title
            for url, title in session.execute(select(Article.url, Article.title))
        }
    store.close()
    assert set(stored) == {article_path(n).lstrip("/") for n in truth.good}
    for number in sorted(truth.good)[::250]:  # spot-check the titles, messy pages included
        assert stored[article_path(number).lstrip("/")] == title_of(number)

    requests = site.article_requests()
    assert all(requests[n] == 1 for n in truth.good)  # every good page fetched exactly once
    for number in truth.failing["http_500"] | truth.failing["timeout"]:
        assert requests[number] == 2  # one retry, as configured
    kinds = ", ".join(f"{reason} {count}" for reason, count in FAILURES.items())
    report_figure(
        "load",
        f"{PAGES} pages, {PAGES // 20} failing ({kinds}); "
        f"{total['stored']} stored, {sum(summary.skipped().values())} skipped; "
        f"{total['fetched']} responses in {seconds:.1f} s = {PAGES / seconds:.0f} pages/s",
    )
