"""Run a crawl of some sources in a child process and report what happened.

The Twisted reactor cannot be restarted within one process, so every crawl runs in a fresh
child (spawned, not forked: the parent may hold threads and database connections). The
child streams its running totals back for a live progress display. A distributed crawl
([crawl] redis_url) may run several children, "workers", sharing one frontier.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from briefing.config import Config, ConfigError
from briefing.processes import stop_processes
from scraper.skips import SKIP_PREFIX

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 0.5
STOP_GRACE_SECONDS = 30.0  # an interrupted worker finishes its downloads, then returns the rest


@dataclass(slots=True)
class EnrichmentCounts:
    """What the enrichment alongside a crawl did: during it, then after it ended."""

    while_crawling: int = 0
    after_crawl: int = 0
    seconds_after: float = 0.0  # from the crawl's end until every stored article was enriched
    error: str = ""  # why it stopped early; what it left, the next `briefing group` enriches

    @property
    def total(self) -> int:
        return self.while_crawling + self.after_crawl

    def describe(self) -> str:
        """Say it in one line, e.g. for the crawl summary and `briefing run`."""
        return (
            f"enriched {self.total} articles: {self.while_crawling} while crawling, "
            f"{self.after_crawl} after it ({self.seconds_after:.1f} s)"
            + (f"; stopped early: {self.error}" if self.error else "")
        )


@dataclass(slots=True)
class CrawlSummary:
    """Totals of one crawl, overall and per source."""

    per_source: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    status: str = "finished"
    workers: int = 1
    lost_workers: int = 0  # worker processes that died; the others finished their work
    per_worker: dict[int, int] = field(default_factory=dict)  # pages fetched by each worker
    # Enrichment in step with the crawl (briefing.stages.enrich_along); None when not used.
    enrichment: EnrichmentCounts | None = None

    @property
    def total(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for stats in self.per_source.values():
            counts.update(stats)
        return dict(counts)

    def every_seed_failed(self) -> bool:
        """Tell whether no source got anywhere: no link found, nothing stored, only skips."""
        return bool(self.per_source) and all(
            not stats.get("links") and not stats.get("stored") and not stats.get("already_stored")
            and any(key.startswith("skipped/") for key in stats)
            for stats in self.per_source.values()
        )  # fmt: skip

    def skipped(self) -> dict[str, int]:
        """Return skipped URLs counted by reason, across sources."""
        return {
            key.removeprefix("skipped/"): value
            for key, value in sorted(self.total.items())
            if key.startswith("skipped/")
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "total": self.total,
            "per_source": self.per_source,
            "workers": self.workers,
            "lost_workers": self.lost_workers,
            "per_worker": {str(index): count for index, count in self.per_worker.items()},
            **({"enrichment": asdict(self.enrichment)} if self.enrichment else {}),
        }


def summarise_stats(stats: dict[str, Any]) -> dict[str, int]:
    """Reduce one crawler's Scrapy stats to the figures a person wants to see."""
    summary = {
        "fetched": int(stats.get("downloader/response_count", 0)),
        "links": int(stats.get("briefing/links_found", 0)),
        "stored": int(stats.get("briefing/stored", 0)),
        # The same article under another URL, a wire copy, or a link listed twice.
        "duplicates": int(stats.get("briefing/duplicate_url", 0))
        + int(stats.get("briefing/duplicate_content", 0))
        + int(stats.get("briefing/duplicate_link", 0)),
        "already_stored": int(stats.get("briefing/already_stored", 0)),
        "repaired_encoding": int(stats.get("briefing/repaired_encoding", 0)),
    }
    for key, value in stats.items():
        if key.startswith(SKIP_PREFIX):
            summary["skipped/" + key.removeprefix(SKIP_PREFIX)] = int(value)
    return summary


def _crawl_child(
    config: Config, names: list[str], channel: Any, overrides: dict[str, Any], index: int = 0
) -> None:
    """Child process body: run the spiders, send progress and the final stats."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from twisted.internet import task

    from scraper.addon import CONFIG_OBJECT
    from scraper.language import load_in_background

    # Own process group: a terminal's Ctrl-C reaches the parent, which stops each child once.
    os.setpgrp()
    parent = os.getppid()
    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.set(CONFIG_OBJECT, config, priority="cmdline")
    # Skipped URLs are logged at WARNING; Scrapy's INFO chatter would drown the progress.
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    settings.setdict(overrides, priority="cmdline")
    # The extractors warn about every short or empty page; our own skip line says it once.
    for name in ("trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.ERROR)
    process = CrawlerProcess(settings)
    crawlers = []
    for name in names:
        crawler = process.create_crawler(name)
        crawlers.append(crawler)
        process.crawl(crawler)

    def report(kind: str) -> None:
        stats = {
            c.spider.name if c.spider else "?": summarise_stats(c.stats.get_stats())
            for c in crawlers
        }
        channel.put((index, kind, stats))

    def tick() -> None:
        report("progress")
        if os.getppid() != parent:  # orphaned: the parent was killed
            log.error("crawl parent %d is gone; stopping", parent)
            process.stop()

    ticker = task.LoopingCall(tick)
    ticker.start(PROGRESS_SECONDS, now=False)
    load_in_background()  # the language model, while the first feeds are fetched
    process.start(stop_after_crawl=True)
    report("done")


def run_crawl(
    config: Config,
    sources: list[str] | None = None,
    *,
    workers: int = 1,
    seed: bool = True,
    on_progress: Callable[[dict[str, dict[str, int]]], None] | None = None,
    time_limit: float | None = None,
    settings: dict[str, Any] | None = None,
) -> CrawlSummary:
    """Crawl the named sources (all enabled ones by default) and return the summary.

    workers > 1 starts that many processes on one shared frontier (needs [crawl] redis_url);
    seed=False leaves reading feeds and sitemaps to another process (`briefing worker`).
    """
    names = sources or [s.name for s in config.sources if s.enabled]
    for name in names:
        config.source(name)  # raises ConfigError for an unknown name
    if not names:
        raise ConfigError("no sources to crawl: add [[sources]] to the config")
    overrides = dict(settings or {})
    if config.crawl.redis_url:
        _prepare_frontier(config, names, overrides, seed)
    elif workers > 1 or not seed:
        raise ConfigError("several workers need [crawl] redis_url: they share its frontier")
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    children = [
        context.Process(
            target=_crawl_child,
            args=(config, names, channel, {**overrides, "BRIEFING_SEED": seed and i == 0}, i),
            daemon=True,
        )
        for i in range(workers)
    ]
    summary = CrawlSummary(per_source={name: {} for name in names}, workers=workers)
    started = time.monotonic()
    for child in children:
        child.start()
    try:
        _follow(children, channel, summary, on_progress, time_limit)
    except KeyboardInterrupt:
        log.warning("interrupted: stopping %d worker(s)", len(children))
        summary.status = "interrupted"
        stop_processes(children, grace=STOP_GRACE_SECONDS)
    summary.seconds = time.monotonic() - started
    return summary


def _prepare_frontier(
    config: Config, names: list[str], overrides: dict[str, Any], seed: bool
) -> None:
    """Check Redis, fix the frontier's key prefix, and announce the seeds."""
    from scraper.addon import redis_prefix
    from scraper.distributed import PREFIX, announce_seeds, check_redis

    try:
        check_redis(config.crawl.redis_url)
    except ConnectionError as exc:
        raise ConfigError(f"crawl.redis_url: {exc}") from None
    overrides[PREFIX] = redis_prefix(config, overrides)
    if seed:
        announce_seeds(config.crawl.redis_url, overrides[PREFIX], names)


def _follow(
    children: list[Any],
    channel: Any,
    summary: CrawlSummary,
    on_progress: Callable[[dict[str, dict[str, int]]], None] | None,
    time_limit: float | None,
) -> None:
    """Collect the children's progress until each has finished or died; set the status."""
    started = time.monotonic()
    latest: dict[int, dict[str, dict[str, int]]] = {}
    done: set[int] = set()
    while len(done) < len(children):
        if time_limit is not None and time.monotonic() - started > time_limit:
            log.error("crawl exceeded its time limit of %.0f s; stopping it", time_limit)
            stop_processes(children, grace=10)
            summary.status = "timed_out"
            return
        alive = any(c.is_alive() for i, c in enumerate(children) if i not in done)
        try:
            # Once a child has exited, whatever it sent last is still in the pipe: drain it.
            index, kind, stats = channel.get(timeout=0.2 if alive else 1.0)
        except queue.Empty:
            if not alive:
                break
            continue
        latest[index] = stats
        summary.per_worker[index] = sum(s.get("fetched", 0) for s in stats.values())
        done |= {index} if kind == "done" else set()
        summary.per_source.update(_merge(latest))
        if on_progress is not None:
            on_progress(summary.per_source)
    for child in children:
        child.join(timeout=10)
    stop_processes(children, grace=0)
    summary.lost_workers = len(children) - len(done)
    if not done:
        summary.status = "failed"
    elif summary.lost_workers:
        log.warning(
            "%d of %d workers died; the others finished the crawl",
            summary.lost_workers,
            len(children),
        )


def _merge(latest: dict[int, dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """Add up the workers' per-source figures."""
    merged: dict[str, Counter[str]] = {}
    for per_source in latest.values():
        for name, stats in per_source.items():
            merged.setdefault(name, Counter()).update(stats)
    return {name: dict(counts) for name, counts in merged.items()}
