"""`briefing schedule` (the daemon) and `briefing run` (once, for cron or a systemd timer)."""

from __future__ import annotations

import logging
import signal
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from briefing.cli.common import console, current_config_path, output, plain
from briefing.config import Config, load_config
from briefing.errors import RunError
from briefing.processes import STOPPING, on_signals, request_stop, stop_children


def _daemon_logging() -> None:
    """Show the scheduler's INFO lines unless logging is already set up more verbosely."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("briefing.schedule", __name__):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def _print_jobs(config: Config) -> None:
    from briefing.schedule.jobs import list_jobs

    table = Table(title=f"scheduled jobs (times in {config.timezone})", title_justify="left")
    for column in ("job", "what", "schedule", "next run"):
        table.add_column(column)
    now = datetime.now(config.tz)
    for job in list_jobs(config, now):
        when = job.next_run.strftime("%Y-%m-%d %H:%M %Z") if job.next_run else "paused"
        if job.next_run and job.next_run <= now:
            when += " (overdue: runs at start if within the misfire grace)"
        table.add_row(*map(plain, (job.id, job.what, job.schedule, when)))
    output.print(table)


def schedule_command(
    list_: Annotated[
        bool, typer.Option("--list", help="Show each job and its next run time, then exit.")
    ] = False,
    crawl_now: Annotated[
        bool, typer.Option("--crawl-now", help="Crawl at start instead of at the next due time.")
    ] = False,
) -> None:
    """Run the scheduler daemon: crawl on schedule, build and send the briefing daily."""
    from briefing.schedule.daemon import exit_now, run_daemon

    path = current_config_path()
    if list_:
        _print_jobs(load_config(path))
        return
    _daemon_logging()
    exit_now(run_daemon(path, crawl_now=crawl_now))


def _exit_on_signal(sig: signal.Signals) -> None:
    """Exit as a shell reports a signal (128 + number), running every cleanup on the way.

    While mail is going out, the send stops after its current message instead, so that no
    delivery is left half-done; the command then exits the same way.
    """
    _received.append(sig)
    if not request_stop():
        raise SystemExit(128 + sig.value)


_received: list[signal.Signals] = []


def run_command(
    wait: Annotated[
        float,
        typer.Option(
            metavar="MINUTES", help="Minutes to wait for a run already in progress (0: fail now)."
        ),
    ] = 60,
    crawl: Annotated[bool, typer.Option("--crawl/--no-crawl", help="Crawl first.")] = True,
    draft: Annotated[
        bool, typer.Option("--draft", help="Build the next edition as a draft for review.")
    ] = False,
) -> None:
    """Crawl, group, build and send once (for cron or a systemd timer)."""
    from briefing.schedule.jobs import run_once

    config = load_config(current_config_path())
    STOPPING.clear()
    _received.clear()
    try:
        with on_signals(_exit_on_signal, [signal.SIGTERM]):
            report = run_once(config, wait=wait * 60, crawl=crawl, draft=draft)
    except RunError:
        if not _received:
            raise
    finally:
        stop_children()
    if _received:  # stopped at a safe point: what is left is pending, and a rerun sends it
        console.print("stopped: the deliveries not yet sent stay pending; run again to send them")
        raise SystemExit(128 + _received[-1].value)
    if report.resumed is not None:
        progress = report.resumed
        typer.echo(
            f"run finished: resumed the interrupted send of the briefing of {progress.day} "
            f"(before: {progress.describe()}), without crawling or rebuilding it"
        )
        return
    grouping = getattr(report.daily, "grouping", None)
    if grouping is not None:  # articles that could not be read were skipped, not lost
        for line in grouping.describe_failures():
            typer.echo(line, err=True)
    if report.crawl_error:
        console.print(
            f"crawl failed: {report.crawl_error} (the briefing was built and sent"
            " from the articles already stored)",
            markup=False,
        )
        raise typer.Exit(1)
    if draft:
        typer.echo(f"draft of {report.daily.day} built: {report.daily.paths.html}")
        return
    review = getattr(report.daily, "review", "")
    done = {"held": "grouped; held for review (nothing sent)"}.get(
        review, "grouped, built and sent"
    )
    enriched = getattr(report.crawl, "enrichment", None)
    crawled = f"crawled ({enriched.describe()}), " if enriched else "crawled, "
    typer.echo(f"run finished: {crawled if crawl else ''}{done}")
