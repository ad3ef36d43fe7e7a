"""A restart during the daily send: the day's unfinished deliveries resume by themselves.

1,000 subscribers, a real SMTP server on loopback (aiosmtpd), and the real programs: the
`briefing schedule` daemon stopped (SIGTERM, as `systemctl restart` does) or killed
(SIGKILL) mid-send and started again, and a `briefing run` killed mid-send and run again.
Everyone must end up with the briefing, each under one Message-ID.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from reliability_support import report_figure
from sqlalchemy import func, select
from support.config import SENDER, smtp_section
from support.config import write_config as support_write_config

from briefing.config import load_config
from briefing.schedule.jobs import JOB_TABLE, declare_jobs, open_scheduler
from briefing.store.engine import Store
from briefing.store.models import Delivery

pytestmark = pytest.mark.slow
SUBSCRIBERS = 1000
KILL_AFTER = 300  # messages received before the stop
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps (recipient, Message-ID) of every message accepted."""

    got: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        found = MESSAGE_ID.search(envelope.original_content or envelope.content)
        message_id = found[1].decode() if found else ""
        self.got.extend((recipient, message_id) for recipient in envelope.rcpt_tos)
        return "250 2.0.0 accepted"


class LoopbackSmtp(Controller):
    """aiosmtpd's Controller on a free loopback port."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = LoopbackSmtp(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def write_config(folder: Path, port: int) -> Path:
    return support_write_config(
        folder,
        timezone="Asia/Seoul",
        briefing={"title": "Morning Briefing"},
        mail={"sender": SENDER, "attach_pdf": False, "smtp": smtp_section(port, timeout=10)},
        subscribers=[{"email": f"reader{n:04d}@example.org"} for n in range(SUBSCRIBERS)],
    )


def daily_due_now(config_file: Path) -> None:
    """Leave the daily job due a minute ago, as after a start just past 07:00."""
    config = load_config(config_file)
    scheduler = open_scheduler(config)
    scheduler.start(paused=True)
    declare_jobs(scheduler, config, config_file)
    scheduler.shutdown()
    store = Store(config.store.url)
    jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)
    jobstore.start(BackgroundScheduler(timezone=config.tz), "default")
    job = jobstore.lookup_job("daily")
    job.next_run_time = datetime.now(config.tz) - timedelta(minutes=1)
    jobstore.update_job(job)
    store.close()


def start(config_file: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "briefing", "--config", str(config_file), *args],
        cwd=config_file.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.05)


def statuses(config_file: Path) -> Counter[str]:
    store = Store(load_config(config_file).store.url)
    try:
        with store.session() as session:
            query = select(Delivery.status, func.count()).group_by(Delivery.status)
            return Counter({status: int(n) for status, n in session.execute(query)})
    finally:
        store.close()


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    return out, err


def check_everyone_once(handler: Inbox, sig: signal.Signals) -> int:
    """Assert each subscriber got the briefing under one Message-ID; return the repeats."""
    ids: dict[str, set[str]] = {}
    for recipient, message_id in handler.got:
        ids.setdefault(recipient, set()).add(message_id)
    assert len(ids) == SUBSCRIBERS, f"{SUBSCRIBERS - len(ids)} subscribers got nothing"
    assert all(len(found) == 1 and "" not in found for found in ids.values())
    repeats = len(handler.got) - SUBSCRIBERS
    # SIGTERM stops between two messages: nothing is repeated. SIGKILL may land between the
    # server's "250" and our commit: that one message goes again, same Message-ID (RFC 1047).
    assert repeats == 0 if sig == signal.SIGTERM else repeats <= 1, repeats
    return repeats


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_daemon_restarted_mid_send_resumes_the_day(
    tmp_path: Path, inbox: tuple[Inbox, int], sig: signal.Signals
) -> None:
    handler, port = inbox
    config_file = write_config(tmp_path, port)
    daily_due_now(config_file)
    started = time.monotonic()
    daemon = start(config_file, "schedule")
    try:
        wait_for(lambda: len(handler.got) >= KILL_AFTER or daemon.poll() is not None, 120, "send")
        _, first_log = stop(daemon, sig)
        at_stop = len(handler.got)
        assert 0 < at_stop < SUBSCRIBERS, first_log[-2000:]
        left = statuses(config_file)
        if sig == signal.SIGTERM:
            assert "stopping (SIGTERM)" in first_log and left["sending"] == 0, first_log[-2000:]
        daemon = start(config_file, "schedule")  # the restart: nothing else is done by hand
        wait_for(lambda: statuses(config_file)["sent"] == SUBSCRIBERS, 120, "resume")
        _, second_log = stop(daemon, signal.SIGTERM)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    elapsed = time.monotonic() - started
    repeats = check_everyone_once(handler, sig)
    assert statuses(config_file) == Counter({"sent": SUBSCRIBERS})
    assert "was not sent to everyone" in second_log and "resuming it now" in second_log
    assert "resumed the send of" in second_log, second_log[-2000:]
    report_figure(
        f"daemon {sig.name} mid-send",
        f"{SUBSCRIBERS} subscribers, stopped after {at_stop} received "
        f"({left['pending']} pending, {left['sending']} sending); restart resumed the rest: "
        f"{SUBSCRIBERS} delivered, {repeats} repeated (same Message-ID), {elapsed:.0f} s in all",
    )


def test_a_killed_briefing_run_resumes_when_run_again(
    tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    config_file = write_config(tmp_path, port)
    started = time.monotonic()
    run = start(config_file, "run", "--no-crawl")
    try:
        wait_for(lambda: len(handler.got) >= KILL_AFTER or run.poll() is not None, 120, "send")
        stop(run, signal.SIGKILL)
    finally:
        if run.poll() is None:
            run.kill()
    at_kill = len(handler.got)
    assert 0 < at_kill < SUBSCRIBERS
    again = subprocess.run(
        [sys.executable, "-m", "briefing", "--config", str(config_file), "run", "--no-crawl"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed the interrupted send of the briefing of" in again.stdout, again.stdout
    repeats = check_everyone_once(handler, signal.SIGKILL)
    assert statuses(config_file) == Counter({"sent": SUBSCRIBERS})
    report_figure(
        "briefing run SIGKILL mid-send",
        f"{SUBSCRIBERS} subscribers, killed after {at_kill} received; run again: "
        f"{SUBSCRIBERS} delivered, {repeats} repeated (same Message-ID), {elapsed:.0f} s in all",
    )


def test_sigterm_to_briefing_run_stops_between_two_messages(
    tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    config_file = write_config(tmp_path, port)
    run = start(config_file, "run", "--no-crawl")
    try:
        wait_for(lambda: len(handler.got) >= KILL_AFTER or run.poll() is not None, 120, "send")
        _, err = stop(run, signal.SIGTERM)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 128 + signal.SIGTERM.value, err[-2000:]
    assert "stay pending" in err and "Traceback" not in err
    left = statuses(config_file)
    assert left["sending"] == 0 and left["sent"] == len(handler.got) and left["pending"] > 0
