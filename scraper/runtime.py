"""Run a crawl of some sources in a child process and report what happened.

The Twisted reactor cannot be restarted within one process, so every crawl runs in a fresh
child (spawned, not forked: the parent may hold threads and database connections). The
child streams its running totals back for a live progress display.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from briefing.config import Config, ConfigError
from scraper.skips import SKIP_PREFIX

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 0.5


@dataclass(slots=True)
class CrawlSummary:
    """Totals of one crawl, overall and per source."""

    per_source: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    status: str = "finished"

    @property
    def total(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for stats in self.per_source.values():
            counts.update(stats)
        return dict(counts)

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
        }


def summarise_stats(stats: dict[str, Any]) -> dict[str, int]:
    """Reduce one crawler's Scrapy stats to the figures a person wants to see."""
    summary = {
        "fetched": int(stats.get("downloader/response_count", 0)),
        "stored": int(stats.get("briefing/stored", 0)),
        "duplicates": int(stats.get("briefing/duplicate_url", 0))
        + int(stats.get("briefing/duplicate_content", 0)),
        "already_stored": int(stats.get("briefing/already_stored", 0)),
        "repaired_encoding": int(stats.get("briefing/repaired_encoding", 0)),
    }
    for key, value in stats.items():
        if key.startswith(SKIP_PREFIX):
            summary["skipped/" + key.removeprefix(SKIP_PREFIX)] = int(value)
    return summary


def _crawl_child(config: Config, names: list[str], channel: Any, overrides: dict[str, Any]) -> None:
    """Child process body: run the spiders, send progress and the final stats."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from twisted.internet import task

    from scraper.addon import CONFIG_OBJECT

    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.set(CONFIG_OBJECT, config, priority="cmdline")
    # Skipped URLs are logged at WARNING; Scrapy's INFO chatter would drown the progress.
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    settings.setdict(overrides, priority="cmdline")
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
        channel.put((kind, stats))

    ticker = task.LoopingCall(report, "progress")
    ticker.start(PROGRESS_SECONDS, now=False)
    process.start(stop_after_crawl=True)
    report("done")


def run_crawl(
    config: Config,
    sources: list[str] | None = None,
    *,
    on_progress: Callable[[dict[str, dict[str, int]]], None] | None = None,
    time_limit: float | None = None,
    settings: dict[str, Any] | None = None,
) -> CrawlSummary:
    """Crawl the named sources (all enabled ones by default) and return the summary."""
    names = sources or [s.name for s in config.sources if s.enabled]
    for name in names:
        config.source(name)  # raises ConfigError for an unknown name
    if not names:
        raise ConfigError("no sources to crawl: add [[sources]] to the config")
    context = multiprocessing.get_context("spawn")
    channel = context.Queue()
    child = context.Process(
        target=_crawl_child, args=(config, names, channel, settings or {}), daemon=True
    )
    started = time.monotonic()
    child.start()
    summary = CrawlSummary(per_source={name: {} for name in names})
    done = False
    while not done:
        if time_limit is not None and time.monotonic() - started > time_limit:
            log.error("crawl exceeded its time limit of %.0f s; stopping it", time_limit)
            child.terminate()
            summary.status = "timed_out"
            break
        try:
            # Once the child has exited, whatever it sent last is still in the pipe: drain it.
            kind, stats = channel.get(timeout=0.2 if child.is_alive() else 1.0)
        except queue.Empty:
            if not child.is_alive():
                summary.status = "failed" if child.exitcode else summary.status
                break
            continue
        summary.per_source.update(stats)
        done = kind == "done"
        if on_progress is not None:
            on_progress(stats)
    child.join(timeout=10)
    if child.is_alive():
        child.kill()
    summary.seconds = time.monotonic() - started
    if child.exitcode and summary.status == "finished" and not done:
        summary.status = "failed"
    return summary
