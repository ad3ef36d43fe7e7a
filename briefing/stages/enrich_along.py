"""Enrichment in step with the crawl: articles are parsed while the crawl is still fetching.

The crawl is network-bound for much of its time and leaves a core idle; spaCy enrichment,
run after it, was most of the daily run. Here a spawned child process enriches the articles
the crawl has stored (the same `enrich_pending` as `briefing group`, one chunk at a time)
until the crawl ends, then makes a final pass over whatever is left, so grouping only has
to group. The daily run (`briefing run`) and the daemon's crawl job call crawl_and_enrich;
`[nlp] enrich_with_crawl = false` gives the old crawl alone.

Nothing is ever lost: the child writes each chunk's results in one transaction, and what it
has not enriched when it stops (killed, failed, time limit) stays pending for the next
`briefing group` (the daily run's group stage). The store's enrichment lock keeps the child
and `briefing group` from parsing the same articles at once.

The child leads its own process group (it and its spaCy workers): stopping it kills the
whole group; it kills itself and its workers when its parent dies; errors come back to the
parent, which logs them and says so in the crawl summary.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from briefing.config import Config
from briefing.processes import STOPPING
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp
from scraper.runtime import CrawlSummary, EnrichmentCounts

if TYPE_CHECKING:  # the parent never imports spaCy: only the child enriches
    from rich.console import Console

    from briefing.stages.group import EnrichReport

log = logging.getLogger(__name__)
POLL_SECONDS = 0.3  # how often the child looks for newly stored articles
WATCHDOG_SECONDS = 0.5  # how often the child checks that its parent is still there
STOP_GRACE_SECONDS = 3.0
# After the crawl, a backlog this large is worth a second spaCy worker (loading its model
# takes a few seconds); smaller ones are left to the worker already running.
SPREAD_FROM = 200
# Statuses after which the final pass runs; a crawl stopped by its time limit or a signal
# leaves the rest to the next `briefing group` instead of making the stop wait.
FINAL_PASS_AFTER = frozenset({"finished", "failed"})


def crawl_and_enrich(
    config: Config,
    sources: list[str] | None = None,
    *,
    workers: int = 1,
    seed: bool = True,
    console: Console | None = None,
    time_limit: float | None = None,
    settings: dict[str, Any] | None = None,
) -> CrawlSummary:
    """Crawl (as crawl_and_record) while a child process enriches what the crawl stores.

    Returns the crawl's summary with summary.enrichment filled in. With
    `[nlp] enrich_with_crawl = false`, only crawls.
    """

    # Imported here: the enrichment child imports this module, and needs no Scrapy.
    from briefing.stages.crawl import crawl_and_record, open_store

    def crawl() -> CrawlSummary:
        return crawl_and_record(
            config,
            sources,
            workers=workers,
            seed=seed,
            console=console,
            time_limit=time_limit,
            settings=settings,
        )

    if not config.nlp.enrich_with_crawl:
        return crawl()
    open_store(config.store.url).close()  # migrate now: two processes must not both try
    along = AlongEnrichment(config)
    along.start()
    try:
        summary = crawl()
        if summary.status in FINAL_PASS_AFTER:
            if console is not None:
                console.print("enriching the last articles…", highlight=False)
            summary.enrichment = along.finish()
        else:
            summary.enrichment = along.stop(f"the crawl ended {summary.status}")
    except BaseException:  # an error, Ctrl-C or SIGTERM: the child must not outlive this
        along.stop("the crawl stopped early")
        raise
    log.info("%s", summary.enrichment.describe())
    return summary


class AlongEnrichment:
    """The parent's side of the enrichment child: start it, tell it the crawl ended, stop it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        context = multiprocessing.get_context("spawn")
        self.crawl_over = context.Event()
        self.channel: Any = context.Queue()
        # Not a daemon process: daemon processes may not start the spaCy worker processes.
        self.child = context.Process(
            target=_enrich_child,
            args=(config, os.getpid(), self.crawl_over, self.channel),
            name="briefing-enrich-along",
        )
        self.counts = EnrichmentCounts()
        self.finished = False

    def start(self) -> None:
        self.child.start()

    def finish(self) -> EnrichmentCounts:
        """Tell the child the crawl has ended and wait for its final pass."""
        self.crawl_over.set()
        while not self.finished:
            try:
                message = self.channel.get(timeout=0.5)
            except queue.Empty:
                if not self.child.is_alive():
                    self._drain()
                    if not self.finished and STOPPING.is_set():  # stopped with the daemon
                        self.stop("the process was asked to stop")
                    elif not self.finished:
                        code = self.child.exitcode
                        self._failed(f"the enrichment process died (exit code {code})")
                continue
            self._read(message)
        self.child.join(timeout=STOP_GRACE_SECONDS)
        if self.child.is_alive():  # done, but slow to exit: its work is all written
            _kill_group(self.child)
        return self.counts

    def stop(self, why: str) -> EnrichmentCounts:
        """Kill the child and its workers (if still running); what they left stays pending."""
        if self.child.pid is not None and self.child.is_alive():
            _kill_group(self.child)
            if not self.finished:
                log.warning("enrichment alongside the crawl stopped: %s", why)
        self._drain()
        if not self.finished:
            self.finished = True
            self.counts.error = self.counts.error or why
        return self.counts

    def _drain(self) -> None:
        while True:
            try:
                self._read(self.channel.get_nowait())
            except (queue.Empty, OSError, ValueError):
                return

    def _read(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "crawling":
            self.counts.while_crawling = message[1]
        elif kind == "done":
            _, self.counts.after_crawl, self.counts.seconds_after = message
            self.finished = True
        elif kind == "failed":  # one article skipped; the rest go on
            log.warning("%s", message[1])
        elif kind == "error":
            self._failed(message[1])

    def _failed(self, why: str) -> None:
        log.error(
            "enrichment alongside the crawl failed (the next `briefing group` enriches what it "
            "left): %s",
            why,
        )
        self.counts.error = why.strip().splitlines()[-1] if why.strip() else "failed"
        self.finished = True


def _kill_group(child: Any) -> None:
    """SIGTERM the child's process group (it and its spaCy workers), then SIGKILL it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)
        child.join(timeout=STOP_GRACE_SECONDS)
        if not child.is_alive():
            return


def _enrich_child(config: Config, parent: int, crawl_over: Any, channel: Any) -> None:
    """Child process body: enrich newly stored articles until the crawl ends, then the rest."""
    from briefing.nlp.enrich import Enricher
    from briefing.stages.group import enrich_pending

    # Own process group: the parent stops this process and its workers in one signal, and a
    # terminal's Ctrl-C reaches only the parent, which then stops the group once.
    os.setpgrp()
    signal.signal(signal.SIGTERM, _die_with_workers)
    with contextlib.suppress(OSError):  # named in ps and top (Linux; 15 characters at most)
        Path("/proc/self/comm").write_text("briefing-enrich")
    _watch_parent(parent)
    enricher = None
    try:
        store = Store(config.store.url, auto_migrate=False)
        # While the crawl runs it takes a core: this process enriches beside it, with the
        # model loaded here (a worker process of its own would cost ~280 MB more for the
        # same core). The final pass spreads a large backlog over worker processes.
        enricher = Enricher(config.nlp.model, aliases=config.nlp.aliases or None, n_process=1)
        # Load the model while the crawl fetches its feeds.
        list(enricher.enrich_many([("Warm-up", "The model loads before the first article.")]))
        done = 0
        while not crawl_over.is_set():
            if _pending(store, limit=1):
                chunk = enrich_pending(store, config, enricher, limit=1)  # one chunk
                done += chunk.enriched
                _report_failures(channel, chunk)
            else:
                crawl_over.wait(POLL_SECONDS)
        channel.put(("crawling", done))
        started = time.monotonic()
        if config.nlp.processes > 1 and _pending(store, limit=SPREAD_FROM) >= SPREAD_FROM:
            # The crawl has ended and freed its core: this process keeps its model and parses
            # a share of the backlog beside processes - 1 workers.
            enricher.share_with_workers(config.nlp.processes)
        after = enrich_pending(store, config, enricher)
        _report_failures(channel, after)
        channel.put(("done", after.enriched, round(time.monotonic() - started, 2)))
    except BaseException:
        channel.put(("error", traceback.format_exc()))
        raise SystemExit(1) from None
    finally:
        if enricher is not None:
            enricher.close()
        channel.close()
        channel.join_thread()


def _report_failures(channel: Any, report: EnrichReport) -> None:
    """Send the parent one line per article that could not be enriched (stored, skipped)."""
    from briefing.stages.group import failure_lines

    for line in failure_lines(report.failures, shown=len(report.failures)):
        channel.put(("failed", line))


def _pending(store: Store, limit: int) -> int:
    """Count the articles without NLP results, up to limit (cheaply, without the lock)."""
    query = (
        select(Article.id)
        .outerjoin(ArticleNlp, ArticleNlp.article_id == Article.id)
        .where(ArticleNlp.article_id.is_(None))
        .limit(limit)
    )
    with store.session() as session:
        return len(session.execute(query).all())


def _die_with_workers(_signum: int, _frame: Any) -> None:
    """Stop this process and its spaCy workers at once: their unwritten work stays pending."""
    os.killpg(os.getpid(), signal.SIGKILL)


def _watch_parent(parent: int) -> None:
    """Kill this process group if the parent dies: the child must never outlive it."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_SECONDS)
        os.killpg(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
