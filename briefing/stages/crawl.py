"""Crawl on demand: run the spiders, show progress, and record the run in the store."""

from __future__ import annotations

import logging
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from briefing.config import Config, ConfigError
from briefing.stages.health import check_sources
from briefing.store.engine import Store, StoreError
from briefing.store.models import CrawlRun, utcnow
from scraper.loader import spider_class
from scraper.runtime import CrawlSummary, run_crawl

log = logging.getLogger(__name__)
COLUMNS = ("fetched", "stored", "duplicates", "already_stored")


def crawl_and_record(
    config: Config,
    sources: list[str] | None = None,
    *,
    workers: int = 1,
    seed: bool = True,
    console: Console | None = None,
    time_limit: float | None = None,
    settings: dict[str, Any] | None = None,
) -> CrawlSummary:
    """Crawl sources (all by default), with live progress on console, and store the stats.

    With [crawl] redis_url set, `workers` processes share the frontier with every other
    worker of the deployment; seed=False only works on it, leaving feeds and sitemaps to
    the crawl that seeds (`briefing worker`).
    """
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if (workers > 1 or not seed) and not config.crawl.redis_url:
        raise ConfigError("--workers > 1 needs [crawl] redis_url (workers share its frontier)")
    names = sources or [s.name for s in config.sources if s.enabled]
    if not names:
        raise ConfigError("no sources to crawl: add [[sources]] to the config")
    for name in names:  # mistakes are config errors, before anything is recorded
        source = config.source(name)
        if not source.enabled:
            raise ConfigError(f"sources[{name}]: disabled (enabled = false); enable it to crawl it")
        spider_class(source)  # a site spider that does not exist
    store = open_store(config.store.url)
    with store.session() as session:
        run = CrawlRun(sources=names, started_at=utcnow())
        session.add(run)
        session.flush()
        run_id = run.id
    live = Live(console=console, transient=True, refresh_per_second=4) if console else None

    def show(stats: dict[str, dict[str, int]]) -> None:
        if live is not None:
            live.update(summary_table(CrawlSummary(per_source=stats), title="crawling…"))

    try:
        if live is not None:
            live.start()
        summary = run_crawl(
            config,
            sources,
            workers=workers,
            seed=seed,
            on_progress=show,
            time_limit=time_limit,
            settings=settings,
        )
    finally:
        if live is not None:
            live.stop()
    if seed and summary.status == "finished" and summary.every_seed_failed():
        summary.status = "failed"  # a crawl that reached nothing must not end "finished"
        log.error("no feed, sitemap or section page of any source could be read")
    with store.session() as session:
        finished = session.get(CrawlRun, run_id)
        if finished is not None:
            finished.finished_at = utcnow()
            finished.status = summary.status
            finished.stats = summary.to_dict()
    _check_health(store, config)
    store.close()
    return summary


def _check_health(store: Store, config: Config) -> None:
    """Judge each source after the crawl; a failed check must not fail the crawl itself."""
    try:
        for verdict in check_sources(store, config):
            if verdict.status != "healthy":
                log.warning("source %s is %s: %s", verdict.source, verdict.status, verdict.reason)
    except (StoreError, SQLAlchemyError) as exc:
        log.error("could not check the sources' health: %s", exc)


def open_store(url: str) -> Store:
    """Open (and migrate) the store; on PostgreSQL one process at a time migrates it.

    Workers on several machines may start together on a new database: without the lock,
    two would create the same tables at once and one would fail.
    """
    try:
        return Store(url)  # Store.migrate serialises concurrent migrations on PostgreSQL
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store: {exc}") from None


def summary_table(summary: CrawlSummary, title: str = "crawl summary") -> Table:
    """Return a table of per-source figures with a total row."""
    table = Table(title=title, title_justify="left")
    table.add_column("source")
    for column in (*COLUMNS, "skipped"):
        table.add_column(column.replace("_", " "), justify="right")
    rows = {**summary.per_source, "TOTAL": summary.total}
    for name, stats in rows.items():
        skipped = sum(v for k, v in stats.items() if k.startswith("skipped/"))
        table.add_row(name, *(str(stats.get(c, 0)) for c in COLUMNS), str(skipped))
    return table


def print_summary(summary: CrawlSummary, console: Console) -> None:
    """Print the final summary: the table, then skipped URLs by reason."""
    console.print(summary_table(summary))
    skipped = summary.skipped()
    if skipped:
        reasons = ", ".join(f"{reason} {count}" for reason, count in skipped.items())
        console.print(f"skipped by reason: {reasons}", highlight=False)
    if summary.status == "failed" and summary.every_seed_failed():
        console.print("no feed, sitemap or section page of any source could be read", style="red")
    console.print(f"{summary.status} in {summary.seconds:.1f} s", highlight=False)
    if summary.enrichment is not None:
        console.print(summary.enrichment.describe(), highlight=False, markup=False)
