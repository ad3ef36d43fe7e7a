"""The scheduler daemon's process shell: the store's lock, clean stops, no child left behind.

The shell owns what only a process's main thread can do: take the store's lock for the
daemon's lifetime, turn SIGTERM and SIGINT into a clean stop, and leave no child behind.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.base import run_job as execute_job
from apscheduler.job import Job

from briefing.config import load_config
from briefing.processes import STOPPING, on_signals, request_stop, stop_children
from briefing.schedule.jobs import JobTargets, start_scheduler
from briefing.store.locking import SCHEDULE_LOCK, store_lock

log = logging.getLogger(__name__)


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
    stopping = stop or threading.Event()
    executor = DaemonThreadExecutor()
    received: list[str] = []

    def on_stop(sig: signal.Signals) -> None:
        received.append(sig.name)
        request_stop()  # a send in progress stops after its current message
        stopping.set()

    STOPPING.clear()

    with store_lock(config.store.url, SCHEDULE_LOCK).held() as lock, on_signals(on_stop):
        scheduler = start_scheduler(config, path, targets, crawl_now=crawl_now, executor=executor)
        log.info("scheduler running (pid %d); SIGTERM or Ctrl-C stops it", os.getpid())
        code = 0
        try:
            while not stopping.wait(check_every):
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
