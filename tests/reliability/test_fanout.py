"""Bounded work: a 600,000-URL .xml.gz sitemap, an endless chain of sitemap indexes and a
section page with 100,000 links, crawled together, finish in bounded time and memory.

The crawl runs as `briefing crawl` would, in a process of its own (measured_crawl.py) so
that the kernel's peak-memory figure is this crawl's alone. robots.txt refuses the article
pages, so the crawl measures reading and queueing, not downloading. The sources' limit is
2,000 URLs here to keep the test short; `python bench/fanout.py` measures the default.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fanout_site import (
    BIG_SITEMAP_URLS,
    CHAIN_FANOUT,
    SECTION_LINKS,
    fanout_sources,
    serve_fanout_site,
)
from reliability_support import report_figure
from support.config import write_config as support_write_config

from scraper.spiders.intake import MAX_SITEMAP_DEPTH, MAX_URLS_PER_LIST

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
LIMIT = 2000
MEMORY_MB = 500


def write_config(folder: Path, sources: list[dict[str, Any]]) -> Path:
    crawl = {"autothrottle": False, "max_urls_per_source": LIMIT}
    return support_write_config(folder, crawl=crawl, sources=sources)


def test_fan_out_inputs_are_read_within_bounds(tmp_path: Path) -> None:
    with serve_fanout_site() as (base, site):
        config = write_config(tmp_path, fanout_sources(base))
        finished = subprocess.run(
            [sys.executable, str(HERE / "measured_crawl.py"), str(config)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
        assert finished.returncode == 0, finished.stderr[-3000:]
        figures = json.loads(finished.stdout.strip().splitlines()[-1])
        chain_fetches, article_fetches = site.chain_requests(), site.article_requests()
    summary = figures["summary"]
    assert summary["status"] == "finished"
    assert figures["peak_rss_mb"] < MEMORY_MB, figures
    big, wide, chain = (summary["per_source"][name] for name in ("bigmap", "wide", "chain"))
    for stats, links in ((big, BIG_SITEMAP_URLS), (wide, SECTION_LINKS)):
        assert stats["links"] == links
        assert stats["skipped/too_many_urls"] == links - MAX_URLS_PER_LIST
        assert stats["skipped/robots_txt"] == LIMIT  # queued, then refused without a download
        assert stats["skipped/source_limit"] == MAX_URLS_PER_LIST - LIMIT
    # The chain is read down to the depth bound, and no further: 1 + 3 + 9 + 27 indexes.
    assert chain_fetches == sum(CHAIN_FANOUT**depth for depth in range(MAX_SITEMAP_DEPTH + 1))
    assert chain["skipped/too_deep"] > 0
    assert article_fetches == 0
    report_figure(
        "fan-out",
        f"600,000-URL .xml.gz sitemap + endless sitemap-index chain + 100,000-link section "
        f"page, limit {LIMIT}/source: {figures['seconds']} s ({figures['cpu_seconds']} s CPU), "
        f"peak {figures['peak_rss_mb']} MB; chain stopped after {chain_fetches} indexes",
    )
