"""Enrichment in step with the crawl: articles are parsed while the crawl fetches, a killed
run leaves nothing half-done, two enrichments never parse the same articles at once, and
`[nlp] enrich_with_crawl = false` keeps the crawl alone."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from support.config import make_config, write_config
from synthetic_site import SiteTruth, serve_site

from briefing.config import Config
from briefing.nlp.enrich import Enricher, Enrichment
from briefing.stages import crawl as crawl_stage
from briefing.stages import enrich_along
from briefing.stages.enrich_along import crawl_and_enrich
from briefing.stages.group import enrich_pending, group_pending
from briefing.store.articles import ArticleRecord, save_article
from briefing.store.engine import Store
from briefing.store.locking import ENRICH_LOCK, store_lock
from briefing.store.models import Article, ArticleNlp
from scraper.runtime import CrawlSummary

PAGES = 120
# Slow answers on few connections: the crawl lasts long enough for the enrichment child to
# start, load its model and parse articles before the crawl ends.
SLOW_SITE = SiteTruth(PAGES, {}, delay_seconds=0.15)


def sections(base: str, **nlp: Any) -> dict[str, Any]:
    crawl = {"autothrottle": False, "download_timeout": 10, "retries": 1, "concurrency": 2}
    return {
        "crawl": {**crawl, "concurrency_per_domain": 2},
        "sources": [{"name": "synthetic", "sitemaps": [f"{base}/sitemap.xml"]}],
        "nlp": {"processes": 1, **nlp},  # one process: the test machine has other work
    }


def counts(store: Store) -> tuple[int, int]:
    """Return how many articles are stored and how many of them have NLP results."""
    with store.session() as session:
        articles = session.scalar(select(func.count()).select_from(Article)) or 0
        parsed = session.scalar(
            select(func.count()).select_from(ArticleNlp).join(Article)
        )  # fmt: skip
    return articles, parsed or 0


def enrichment_children() -> list[Any]:
    return [c for c in multiprocessing.active_children() if c.name == "briefing-enrich-along"]


@pytest.mark.slow
def test_articles_are_enriched_while_the_crawl_is_still_fetching(tmp_path: Path) -> None:
    with serve_site(SLOW_SITE) as (base, _site):
        config = make_config(tmp_path, **sections(base))
        summary = crawl_and_enrich(config, time_limit=300)
    assert summary.status == "finished"
    found = summary.enrichment
    assert found is not None and found.error == ""
    assert found.while_crawling > 0, "nothing was enriched before the crawl ended"
    store = Store(config.store.url)
    assert counts(store) == (PAGES, PAGES)
    assert found.total == PAGES
    assert summary.to_dict()["enrichment"]["while_crawling"] == found.while_crawling
    assert enrichment_children() == []
    # Grouping is left with nothing to enrich, and groups everything.
    report = group_pending(store, config)
    assert (report.enriched, report.grouped) == (0, PAGES)


@pytest.mark.slow
def test_a_dead_enrichment_child_is_reported_and_group_enriches_the_rest(tmp_path: Path) -> None:
    with serve_site(SLOW_SITE) as (base, _site):
        config = make_config(tmp_path, **sections(base))
        store = Store(config.store.url)
        killer = threading.Thread(target=kill_child_once_it_has_enriched, args=(store,))
        killer.start()
        summary = crawl_and_enrich(config, time_limit=300)
        killer.join()
    assert summary.status == "finished"  # the crawl does not depend on the enrichment
    found = summary.enrichment
    assert found is not None and "died" in found.error
    stored, parsed = counts(store)
    assert stored == PAGES and 0 < parsed < PAGES
    report = group_pending(store, config)
    assert report.enriched == PAGES - parsed
    assert report.grouped == PAGES and counts(store) == (PAGES, PAGES)


def kill_child_once_it_has_enriched(store: Store) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        children = enrichment_children()
        if children and counts(store)[1] > 0:
            os.kill(cast(int, children[0].pid), signal.SIGKILL)
            return
        time.sleep(0.05)


CRAWL_AND_ENRICH = """
import sys
from briefing.config import load_config
from briefing.stages.enrich_along import crawl_and_enrich
crawl_and_enrich(load_config(sys.argv[1]))
"""


@pytest.mark.slow
def test_a_killed_run_leaves_nothing_half_done_and_the_next_group_completes(
    tmp_path: Path,
) -> None:
    with serve_site(SiteTruth(PAGES, {}, delay_seconds=0.3)) as (base, _site):
        path = write_config(tmp_path, **sections(base))
        config_db = tmp_path / "data" / "briefing.db"
        run = subprocess.Popen(
            [sys.executable, "-c", CRAWL_AND_ENRICH, str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        tree: list[int] = []
        try:
            wait_for_parsed(run, config_db)
            tree = descendants(run.pid)
            assert len(tree) >= 2, "expected the crawl child and the enrichment child"
            run.kill()  # the parent only: its children must notice and stop by themselves
            run.wait(timeout=30)
            deadline = time.monotonic() + 30
            while (left := [p for p in tree if alive(p)]) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            run.kill()
            for pid in [p for p in tree if alive(p)]:
                os.kill(pid, signal.SIGKILL)
        config = make_config(tmp_path, **sections(base))
    assert left == [], f"processes outlived their killed parent: {left}"
    store = Store(config.store.url)
    stored, parsed = counts(store)
    assert 0 < parsed <= stored
    with store.session() as session:  # every result belongs to a stored article
        orphans = session.scalar(
            select(func.count())
            .select_from(ArticleNlp)
            .outerjoin(Article, Article.id == ArticleNlp.article_id)
            .where(Article.id.is_(None))
        )
    assert orphans == 0
    report = group_pending(store, config)
    assert report.enriched == stored - parsed
    assert report.grouped == stored and counts(store) == (stored, stored)


def wait_for_parsed(run: subprocess.Popen[bytes], db: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert run.poll() is None, "the run ended before it could be killed"
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
                    if connection.execute("SELECT count(*) FROM article_nlp").fetchone()[0]:
                        return
            except sqlite3.OperationalError:  # not migrated yet
                pass
        time.sleep(0.1)
    raise AssertionError("nothing was enriched in 240 s")


def descendants(pid: int) -> list[int]:
    """Return every process below pid (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                kids = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class SlowCounting:
    """An enricher that counts what it is given and takes its time over each article."""

    def __init__(self, seen: Counter[str]) -> None:
        self.seen = seen

    def enrich_many(self, docs: Iterable[tuple[str, str]]) -> Iterator[Enrichment]:
        for title, _text in docs:
            self.seen[title] += 1
            time.sleep(0.01)
            yield Enrichment(model="counting")


def stored_articles(tmp_path: Path, count: int) -> tuple[Config, Store]:
    config = make_config(tmp_path, sources=[])
    store = Store(config.store.url)
    with store.session() as session:
        for n in range(count):
            record = ArticleRecord(
                url=f"https://example.org/{n}", source="example", title=f"Article {n}",
                text=f"Text number {n}.",
            )  # fmt: skip
            save_article(session, record)
    return config, store


def test_two_enrichments_at_once_never_parse_the_same_article_twice(tmp_path: Path) -> None:
    config, store = stored_articles(tmp_path, 60)
    seen: Counter[str] = Counter()
    done: list[int] = []

    def enrich() -> None:
        done.append(enrich_pending(store, config, cast(Enricher, SlowCounting(seen))).enriched)

    racers = [threading.Thread(target=enrich) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert sorted(done) == [0, 0, 60]
    assert len(seen) == 60 and set(seen.values()) == {1}


def test_an_enrichment_waits_for_the_lock_holder(tmp_path: Path) -> None:
    config, store = stored_articles(tmp_path, 5)
    seen: Counter[str] = Counter()
    done: list[int] = []
    lock = store_lock(store.url, ENRICH_LOCK)
    with lock.held():
        waiting = threading.Thread(
            target=lambda: done.append(
                enrich_pending(store, config, cast(Enricher, SlowCounting(seen))).enriched
            )
        )
        waiting.start()
        time.sleep(1.0)
        assert not seen and waiting.is_alive(), "enriched while another held the lock"
    waiting.join(timeout=30)
    assert done == [5] and len(seen) == 5


def test_enrich_with_crawl_false_keeps_the_crawl_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, sources=[], nlp={"enrich_with_crawl": False})
    crawled = CrawlSummary(per_source={"example": {"stored": 3}})
    monkeypatch.setattr(crawl_stage, "crawl_and_record", lambda *a, **k: crawled)

    def no_child(*args: object) -> None:
        raise AssertionError("an enrichment child was started")

    monkeypatch.setattr(enrich_along.AlongEnrichment, "start", no_child)
    summary = crawl_and_enrich(config, time_limit=60)
    assert summary is crawled and summary.enrichment is None
    assert "enrichment" not in summary.to_dict()
    assert make_config(tmp_path, sources=[]).nlp.enrich_with_crawl  # on by default
