"""`briefing schedule` (the daemon) and `briefing run` (once), and the daemon's process shell.

The shell owns what only a process's main thread can do: take the store's lock for the
daemon's lifetime, turn SIGTERM and SIGINT into a clean stop, and leave no child behind.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.base import run_job as execute_job
from apscheduler.job import Job
from rich.console import Console
from rich.table import Table

from briefing.config import Config, config_path, load_config
from briefing.schedule.jobs import JobTargets, ScheduleError, list_jobs, run_once, start_scheduler
from briefing.store.locking import SCHEDULE_LOCK, LockHeld, store_lock

log = logging.getLogger(__name__)
console = Console(stderr=True)
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default $BRIEFING_CONFIG or ./briefing.toml)"
    ),
]


class DaemonThreadExecutor(BaseExecutor):
    """Run each job in its own daemon thread, so a stuck job cannot keep the process alive."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[threading.Thread] = set()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def work() -> None:
            try:
                events = execute_job(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException as exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, events)
            finally:
                self.threads.discard(threading.current_thread())

        thread = threading.Thread(target=work, name=f"job {job.id}", daemon=True)
        self.threads.add(thread)
        thread.start()

    def wait(self, timeout: float) -> list[str]:
        """Wait up to timeout seconds for running jobs; return the names of any still running."""
        deadline = time.monotonic() + timeout
        for thread in list(self.threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return sorted(thread.name for thread in self.threads if thread.is_alive())


def stop_children(grace: float = 3.0) -> list[int]:
    """Terminate this process's multiprocessing children (crawls), killing any that linger."""
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()  # Scrapy's graceful stop can wait on slow downloads
            child.join(2)
    return [child.pid for child in children if child.pid is not None]


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[list[str]]:
    """Make SIGTERM and SIGINT set stop; yield the names of the signals received."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield received  # only the main thread may install handlers
        return

    def handler(signum: int, _frame: Any) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_daemon(
    path: str | Path,
    targets: JobTargets = JobTargets(),
    *,
    crawl_now: bool = False,
    stop: threading.Event | None = None,
    stop_grace: float = 5.0,
    check_every: float = 30.0,
) -> int:
    """Run the scheduler until SIGTERM, SIGINT or stop is set; return the exit code.

    Stopping takes at most stop_grace seconds: crawl children are terminated (then killed),
    and a job still running after that is abandoned (the deliveries record makes a resend
    safe).
    """
    config = load_config(path)
    stop = stop or threading.Event()
    executor = DaemonThreadExecutor()
    with (
        store_lock(config.store.url, SCHEDULE_LOCK).held() as lock,
        _stop_on_signals(stop) as received,
    ):
        scheduler = start_scheduler(config, path, targets, crawl_now=crawl_now, executor=executor)
        log.info("scheduler running (pid %d); SIGTERM or Ctrl-C stops it", os.getpid())
        code = 0
        try:
            while not stop.wait(check_every):
                if not lock.alive():
                    log.error("lost the store lock (database connection gone); stopping")
                    code = 1
                    break
        finally:
            log.info("stopping (%s)", ", ".join(received) or "asked to")
            deadline = time.monotonic() + stop_grace
            scheduler.shutdown(wait=False)
            stopped = stop_children(grace=min(3.0, stop_grace))
            left = executor.wait(max(0.0, deadline - time.monotonic()))
            if stopped:
                log.info("stopped child processes %s", stopped)
            if left:
                log.warning("abandoning job(s) still running: %s", ", ".join(left))
    return code


def exit_now(code: int) -> NoReturn:
    """Exit at once: ours is all stopped, and the interpreter's teardown of WeasyPrint and
    spaCy alone can take seconds, which a service manager's stop timeout counts."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextmanager
def _children_stopped() -> Iterator[None]:
    """Exit on SIGTERM like on Ctrl-C, and always end with no crawl child left running."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, handler) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        stop_children()


@contextmanager
def _boundary() -> Iterator[None]:
    """Turn library errors into one clear line and an exit code, as briefing.cli.main does."""
    from briefing.cli.main import (
        errors_to_exit,  # here, not above: briefing.cli.main imports this module
    )

    with errors_to_exit():
        try:
            yield
        except (LockHeld, ScheduleError) as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


def _daemon_logging() -> None:
    """Show the scheduler's INFO lines unless logging is already set up more verbosely."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("briefing.schedule.jobs", __name__):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def _print_jobs(config: Config) -> None:
    table = Table(title=f"scheduled jobs (times in {config.timezone})", title_justify="left")
    for column in ("job", "what", "schedule", "next run"):
        table.add_column(column)
    now = datetime.now(config.tz)
    for job in list_jobs(config, now):
        when = job.next_run.strftime("%Y-%m-%d %H:%M %Z") if job.next_run else "paused"
        if job.next_run and job.next_run <= now:
            when += " (overdue: runs at start if within the misfire grace)"
        table.add_row(job.id, job.what, job.schedule, when)
    Console().print(table)


def schedule(
    config: ConfigOption = None,
    list_: Annotated[
        bool, typer.Option("--list", help="Show each job and its next run time, then exit")
    ] = False,
    crawl_now: Annotated[
        bool, typer.Option("--crawl-now", help="Crawl at start instead of at the next due time")
    ] = False,
) -> None:
    """Run the scheduler daemon: crawl on schedule, build and send the briefing daily."""
    with _boundary():
        path = config_path(config)
        if list_:
            _print_jobs(load_config(path))
            return
        _daemon_logging()
        code = run_daemon(path, crawl_now=crawl_now)
    exit_now(code)


def run(
    config: ConfigOption = None,
    wait: Annotated[
        float, typer.Option(help="Minutes to wait for a run already in progress (0: fail now)")
    ] = 60,
    crawl: Annotated[bool, typer.Option("--crawl/--no-crawl", help="Crawl first")] = True,
) -> None:
    """Crawl, group, build and send once (for cron or a systemd timer)."""
    with _boundary(), _children_stopped():
        report = run_once(load_config(config_path(config)), wait=wait * 60, crawl=crawl)
    if report.crawl_error:
        console.print(
            f"[red]crawl failed:[/red] {report.crawl_error} (the briefing was built and sent"
            " from the articles already stored)",
            highlight=False,
        )
        raise typer.Exit(1)
    typer.echo(f"run finished: {'crawled, ' if crawl else ''}grouped, built and sent")
