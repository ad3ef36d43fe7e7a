"""The schedule: local-time triggers across DST, restarts, failures, the lock, clean stops."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from support.config import write_config as write_briefing_toml
from typer.testing import CliRunner

from briefing.cli import app as cli_app
from briefing.config import Config, ConfigError, load_config
from briefing.schedule.daemon import DaemonThreadExecutor
from briefing.schedule.jobs import (
    JOB_TABLE,
    JobTargets,
    _cron_weekdays,
    crawl_trigger,
    daily_trigger,
    declare_jobs,
    list_jobs,
    open_scheduler,
    plan_jobs,
    run_once,
    start_scheduler,
)
from briefing.store.engine import Store
from briefing.store.locking import RUN_LOCK, SCHEDULE_LOCK, LockHeld, store_lock

ROOT = Path(__file__).resolve().parents[1]
NEW_YORK = ZoneInfo("America/New_York")
WIRE = {"name": "wire", "feeds": ["https://wire.example/feed.xml"]}


# Job targets, named by "module:function" as the daemon names them.
def count_daily(config: Config, *, day: date) -> None:
    """Record a daily run, and prove it holds the run lock while it runs."""
    with pytest.raises(LockHeld):
        store_lock(config.store.url, RUN_LOCK).acquire(timeout=0)
    with (config.base_dir / "daily.log").open("a") as log:
        log.write(f"{day.isoformat()}\n")


def count_crawl(config: Config, sources: list[str] | None, *, time_limit: float) -> Any:
    with (config.base_dir / "crawl.log").open("a") as log:
        log.write(f"{sources} {time_limit:.0f}\n")
    return SimpleNamespace(status="finished")


def crash_first_crawl(config: Config, sources: list[str] | None, *, time_limit: float) -> Any:
    marker = config.base_dir / "crashed"
    if not marker.exists():
        marker.touch()
        raise RuntimeError("feed server exploded")
    return count_crawl(config, sources, time_limit=time_limit)


def timed_out_crawl(config: Config, sources: list[str] | None, *, time_limit: float) -> Any:
    return SimpleNamespace(status="timed_out")


TARGETS = JobTargets(crawl=f"{__name__}:count_crawl", daily=f"{__name__}:count_daily")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def write_config(
    tmp_path: Path,
    tz: str = "Asia/Seoul",
    daily: str = "07:00",
    grace: int = 120,
    sources: tuple[dict[str, Any], ...] = (WIRE,),
    **sections: Any,
) -> Path:
    return write_briefing_toml(
        tmp_path,
        timezone=tz,
        store={"url": "sqlite:///briefing.db"},
        schedule={"crawl": "every 2h", "daily": daily, "misfire_grace_minutes": grace},
        **({"sources": list(sources)} if sources else {}),
        **sections,
    )


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def schedulers() -> Iterator[list[Any]]:
    """Collect started schedulers and shut each one down after the test."""
    started: list[Any] = []
    yield started
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=True)


def fire_times(trigger: Any, now: datetime, count: int) -> list[str]:
    times, previous = [], None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        now = previous
        times.append(previous.astimezone(UTC).strftime("%m-%d %H:%M"))
    return times


# Triggers: the configured local time, in the configured zone, whatever the clocks do.
@pytest.mark.parametrize(
    ("tz", "daily", "start", "expected"),
    [
        # New York springs forward on 2026-03-08: 07:00 moves from 12:00 UTC to 11:00 UTC.
        ("America/New_York", "07:00", "2026-03-07T06:00", ["03-07 12:00", "03-08 11:00"]),
        # ...and falls back on 2026-11-01: from 11:00 UTC to 12:00 UTC.
        ("America/New_York", "07:00", "2026-10-31T06:00", ["10-31 11:00", "11-01 12:00"]),
        # 01:30 happens twice on 2026-11-01; the briefing goes out once.
        ("America/New_York", "01:30", "2026-10-31T06:00", ["11-01 05:30", "11-02 06:30"]),
        # 02:30 does not exist on 2026-03-08; it runs once, an hour later on the wall clock.
        ("America/New_York", "02:30", "2026-03-07T06:00", ["03-08 07:30", "03-09 06:30"]),
        ("Asia/Seoul", "07:00", "2026-03-07T06:00", ["03-06 22:00", "03-07 22:00"]),
    ],
)
def test_daily_runs_at_the_configured_local_time(tz, daily, start, expected, tmp_path) -> None:
    config = load_config(write_config(tmp_path, tz=tz, daily=daily))
    trigger = next(plan.trigger for plan in plan_jobs(config) if plan.id == "daily")
    now = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo(tz))
    assert fire_times(trigger, now, 2) == expected


def test_daily_trigger_fires_once_a_day_through_a_fall_back_week() -> None:
    trigger = daily_trigger(time_of_day(1, 30), NEW_YORK)
    times = fire_times(trigger, datetime(2026, 10, 28, tzinfo=NEW_YORK), 10)
    assert len({time[:5] for time in times}) == 10


def test_interval_crawl_counts_elapsed_hours_across_spring_forward() -> None:
    trigger = crawl_trigger("every 2h", NEW_YORK)
    midnight = datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK)
    upcoming = trigger.get_next_fire_time(midnight, midnight)
    assert upcoming.astimezone(UTC) - midnight.astimezone(UTC) == timedelta(hours=2)
    assert upcoming.astimezone(NEW_YORK).hour == 3  # 02:00 local does not exist that night


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-wed", "mon,tue,wed"),
        ("*", "*"),
    ],
)
def test_crontab_weekdays_keep_crons_numbering(field: str, names: str) -> None:
    assert _cron_weekdays(field) == names


def test_crontab_crawl_fires_on_cron_weekdays() -> None:
    trigger = crawl_trigger("0 6 * * 1-5", NEW_YORK)
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    assert trigger.get_next_fire_time(None, saturday).strftime("%a %H:%M") == "Mon 06:00"


@pytest.mark.parametrize("spec", ["every 0h", "0 6 * * funday", "61 * * * *"])
def test_bad_crawl_schedule_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"schedule\.crawl"):
        crawl_trigger(spec, NEW_YORK)


def test_plan_has_the_daily_run_and_one_crawl_of_every_enabled_source(config_file: Path) -> None:
    config = load_config(config_file)
    assert [(plan.id, plan.schedule) for plan in plan_jobs(config)] == [
        ("daily", "07:00 Asia/Seoul"),
        ("crawl", "every 2h"),
    ]
    disabled = [source.model_copy(update={"enabled": False}) for source in config.sources]
    quiet = config.model_copy(update={"sources": disabled})
    assert [plan.id for plan in plan_jobs(quiet)] == ["daily"]


def test_briefing_day_is_the_day_of_the_latest_daily_time(config_file: Path) -> None:
    config = load_config(config_file)
    seoul = ZoneInfo("Asia/Seoul")
    assert config.briefing_day(datetime(2026, 5, 2, 8, 30, tzinfo=seoul)) == date(2026, 5, 2)
    assert config.briefing_day(datetime(2026, 5, 2, 6, 59, tzinfo=seoul)) == date(2026, 5, 1)


# Persistence: what a restart does with a run it missed.
def leave_daily_overdue(config_file: Path, overdue: timedelta) -> None:
    """Leave the store as a daemon leaves it when it is down while the daily run falls due."""
    config = load_config(config_file)
    scheduler = open_scheduler(config)
    scheduler.start(paused=True)
    declare_jobs(scheduler, config, config_file, TARGETS)
    scheduler.shutdown()
    store = Store(config.store.url)
    jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)
    jobstore.start(BackgroundScheduler(timezone=config.tz), "default")
    job = jobstore.lookup_job("daily")
    job.next_run_time = datetime.now(config.tz) - overdue
    jobstore.update_job(job)
    store.close()


def test_restart_within_grace_sends_once_and_later_restarts_do_not_repeat(
    config_file: Path, schedulers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="briefing")
    leave_daily_overdue(config_file, timedelta(minutes=30))
    config = load_config(config_file)
    schedulers.append(start_scheduler(config, config_file, TARGETS))
    daily_log = config.base_dir / "daily.log"
    wait_for(lambda: lines(daily_log))
    schedulers[-1].shutdown(wait=True)

    for _ in range(2):  # restart twice: the run already made is not made again
        schedulers.append(start_scheduler(config, config_file, TARGETS))
        upcoming = schedulers[-1].get_job("daily").next_run_time.astimezone(config.tz)
        assert upcoming > datetime.now(config.tz)
        assert (upcoming.hour, upcoming.minute) == (7, 0)
        time.sleep(0.3)
        schedulers[-1].shutdown(wait=True)
    assert len(lines(daily_log)) == 1
    assert "MISSED" not in caplog.text


def test_restart_outside_grace_logs_the_missed_day_and_does_not_send(
    config_file: Path, schedulers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    leave_daily_overdue(config_file, timedelta(hours=3))  # grace is 120 minutes
    config = load_config(config_file)
    schedulers.append(start_scheduler(config, config_file, TARGETS))
    wait_for(lambda: "job daily MISSED its run" in caplog.text)
    assert schedulers[-1].get_job("daily").next_run_time > datetime.now(config.tz)
    assert not lines(config.base_dir / "daily.log")


def test_days_missed_while_down_are_each_logged(
    tmp_path: Path, schedulers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    # The daily time sits 4 h before now, so the latest run is outside the 2 h grace and
    # the stored run time is exactly three daily runs before it, whatever the time of day.
    zone = ZoneInfo("Asia/Seoul")
    latest = (datetime.now(zone) - timedelta(hours=4)).replace(second=0, microsecond=0)
    config_file = write_config(tmp_path, daily=f"{latest:%H:%M}")
    leave_daily_overdue(config_file, datetime.now(zone) - (latest - timedelta(days=3)))
    config = load_config(config_file)
    schedulers.append(start_scheduler(config, config_file, TARGETS))
    wait_for(lambda: "job daily MISSED its run" in caplog.text)
    assert "job daily: 3 run(s) due from" in caplog.text
    assert not lines(config.base_dir / "daily.log")


def test_restart_keeps_the_upcoming_crawl_instead_of_postponing_it(
    config_file: Path, schedulers: list[Any]
) -> None:
    config = load_config(config_file)
    schedulers.append(start_scheduler(config, config_file, TARGETS))
    first = schedulers[-1].get_job("crawl").next_run_time
    schedulers[-1].shutdown()
    time.sleep(0.05)
    schedulers.append(start_scheduler(config, config_file, TARGETS))
    assert schedulers[-1].get_job("crawl").next_run_time == first


def test_config_edits_apply_on_restart(tmp_path: Path, schedulers: list[Any]) -> None:
    path = write_config(tmp_path, daily="07:00")
    schedulers.append(start_scheduler(load_config(path), path, TARGETS))
    schedulers[-1].shutdown()
    write_config(tmp_path, daily="08:15", sources=())
    config = load_config(path)
    schedulers.append(start_scheduler(config, path, TARGETS))
    jobs = {job.id: job for job in schedulers[-1].get_jobs()}
    assert set(jobs) == {"daily"}  # the crawl left with the last source
    upcoming = jobs["daily"].next_run_time.astimezone(config.tz)
    assert (upcoming.hour, upcoming.minute) == (8, 15)


# Failures: logged with their reason; the daemon goes on.
def run_crawl_now(scheduler: Any, config: Config) -> None:
    scheduler.modify_job("crawl", next_run_time=datetime.now(config.tz))


def test_a_crashing_job_is_logged_and_the_next_run_happens(
    config_file: Path, schedulers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(config_file)
    targets = JobTargets(crawl=f"{__name__}:crash_first_crawl", daily=TARGETS.daily)
    scheduler = start_scheduler(config, config_file, targets, executor=DaemonThreadExecutor())
    schedulers.append(scheduler)
    run_crawl_now(scheduler, config)
    wait_for(lambda: "feed server exploded" in caplog.text)
    assert "job crawl (due" in caplog.text and "RuntimeError: feed server exploded" in caplog.text
    assert scheduler.running and scheduler.get_job("crawl").next_run_time is not None
    wait_for(lambda: scheduler.get_job("crawl").next_run_time > datetime.now(config.tz))
    run_crawl_now(scheduler, config)
    wait_for(lambda: lines(config.base_dir / "crawl.log"))
    assert lines(config.base_dir / "crawl.log") == ["None 3600"]  # all sources, 60-minute limit


def test_a_timed_out_crawl_is_logged_as_failed(
    config_file: Path, schedulers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(config_file)
    targets = JobTargets(crawl=f"{__name__}:timed_out_crawl", daily=TARGETS.daily)
    schedulers.append(start_scheduler(config, config_file, targets))
    run_crawl_now(schedulers[-1], config)
    wait_for(lambda: "crawl ended with status 'timed_out'" in caplog.text)
    assert schedulers[-1].running


def test_an_unknown_job_target_fails_at_start(config_file: Path) -> None:
    from briefing.schedule.jobs import ScheduleError

    with pytest.raises(ScheduleError, match="cannot be loaded"):
        start_scheduler(load_config(config_file), config_file, JobTargets(daily="nowhere:run"))


def test_list_shows_each_job_and_its_next_run_in_local_time(config_file: Path) -> None:
    config = load_config(config_file)
    listings = {job.id: job for job in list_jobs(config)}
    assert set(listings) == {"daily", "crawl"}
    assert listings["daily"].next_run.tzinfo == config.tz
    assert listings["daily"].next_run.strftime("%H:%M") == "07:00"
    result = CliRunner().invoke(cli_app, ["schedule", "--config", str(config_file), "--list"])
    assert result.exit_code == 0, result.output
    assert "daily" in result.output and "07:00 KST" in result.output
    assert "every 2h" in result.output


# Locks: one daemon per store, one run at a time.
def test_store_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'briefing.db'}"
    with store_lock(url, SCHEDULE_LOCK).held():
        with pytest.raises(LockHeld, match=rf"already running .*pid {os.getpid()}"):
            store_lock(url, SCHEDULE_LOCK).acquire(timeout=0)
        store_lock(url, RUN_LOCK).acquire(timeout=0)  # a different lock is free
    store_lock(url, SCHEDULE_LOCK).acquire(timeout=0)  # released on exit


def test_overlapping_runs_take_turns(config_file: Path) -> None:
    config = load_config(config_file)
    with store_lock(config.store.url, RUN_LOCK).held():
        with pytest.raises(LockHeld, match="a run"):
            run_once(config, TARGETS, wait=0)
        waiting = threading.Thread(target=run_once, args=(config, TARGETS), kwargs={"wait": 10})
        waiting.start()
        time.sleep(0.3)
        assert not lines(config.base_dir / "daily.log")  # still waiting for the lock
    waiting.join(10)
    assert len(lines(config.base_dir / "daily.log")) == 1
    assert lines(config.base_dir / "crawl.log") == ["None 3600"]


def test_a_run_whose_crawl_fails_still_builds_and_sends(config_file: Path) -> None:
    config = load_config(config_file)
    targets = JobTargets(crawl=f"{__name__}:timed_out_crawl", daily=TARGETS.daily)
    report = run_once(config, targets)
    assert report.crawl_error == "ScheduleError: crawl ended with status 'timed_out'"
    assert len(lines(config.base_dir / "daily.log")) == 1


def test_run_command_refuses_while_another_run_holds_the_lock(config_file: Path) -> None:
    with store_lock(load_config(config_file).store.url, RUN_LOCK).held():
        result = CliRunner().invoke(cli_app, ["run", "--config", str(config_file), "--wait", "0"])
    assert result.exit_code == 1
    assert "a run (`briefing run` or the daemon's daily job) is already running" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.postgres
def test_postgres_advisory_lock_is_exclusive_and_dies_with_its_connection() -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    default = "postgresql+psycopg://postgres@127.0.0.1/postgres"
    url = os.environ.get("BRIEFING_TEST_POSTGRES_URL", default)
    admin = create_engine(url, poolclass=NullPool)
    try:
        admin.connect().close()
    except OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    first = store_lock(url, "test-lock")
    with first.held():
        with pytest.raises(LockHeld, match="advisory lock"):
            store_lock(url, "test-lock").acquire(timeout=0)
        assert first.alive()
        connection = first.backend.connection  # type: ignore[attr-defined]
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not first.alive()
    with store_lock(url, "test-lock").held():
        pass


# The daemon as a process: refused twice, stopped by SIGTERM with its children.
DAEMON = """\
import logging, multiprocessing, sys, time

def slow_crawl(config, sources, *, time_limit):
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(600,))
    child.start()
    (config.base_dir / "child.pid").write_text(str(child.pid))
    child.join()

def noop_daily(config, *, day):
    pass

if __name__ == "__main__":
    from briefing.schedule.daemon import exit_now, run_daemon
    from briefing.schedule.jobs import JobTargets
    logging.basicConfig(level=logging.INFO)
    crawl = "__main__:slow_crawl" if sys.argv[2] == "fake" else JobTargets().crawl
    targets = JobTargets(crawl=crawl, daily="__main__:noop_daily")
    exit_now(run_daemon(sys.argv[1], targets, crawl_now=True, check_every=0.5))
"""


def start_daemon(
    tmp_path: Path,
    config_file: Path,
    crawl: str = "fake",
    ready: Callable[[], object] | None = None,
) -> subprocess.Popen[str]:
    """Start a daemon whose crawl starts at once; return when its crawl child is busy."""
    script = tmp_path / "daemon.py"
    script.write_text(DAEMON)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    daemon = subprocess.Popen(
        [sys.executable, str(script), str(config_file), crawl],
        cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    pid_file = tmp_path / "child.pid"
    ready = ready or (lambda: pid_file.exists() and pid_file.read_text())
    try:
        wait_for(lambda: ready() or daemon.poll() is not None, 60)
    except AssertionError:
        daemon.kill()
        raise
    assert daemon.poll() is None, daemon.communicate()[1]
    return daemon


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


@pytest.mark.slow
def test_a_second_daemon_on_the_same_store_is_refused(tmp_path: Path, config_file: Path) -> None:
    daemon = start_daemon(tmp_path, config_file)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "briefing", "schedule", "--config", str(config_file)],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=20)
    assert second.returncode == 1
    assert "a `briefing schedule` daemon is already running" in second.stderr
    assert f"pid {daemon.pid}" in second.stderr
    assert "Traceback" not in second.stderr


@pytest.mark.slow
def test_sigterm_stops_the_daemon_and_its_children_within_ten_seconds(
    tmp_path: Path, config_file: Path
) -> None:
    daemon = start_daemon(tmp_path, config_file)
    child = int((tmp_path / "child.pid").read_text())
    family = descendants(daemon.pid)
    assert child in family and running(child)
    assert_stops_within_ten_seconds(daemon, family)


def assert_stops_within_ten_seconds(daemon: subprocess.Popen[str], family: set[int]) -> None:
    started = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    _, stderr = daemon.communicate(timeout=10)
    wait_for(lambda: not any(running(pid) for pid in family), 10 - (time.monotonic() - started))
    assert daemon.returncode == 0, stderr
    assert "stopping (SIGTERM)" in stderr
    assert time.monotonic() - started < 10


@contextmanager
def silent_server() -> Iterator[tuple[int, threading.Event]]:
    """Serve on a loopback port that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    called = threading.Event()

    def accept() -> None:
        held = []
        with contextlib.suppress(OSError):
            while True:
                held.append(server.accept()[0])
                called.set()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1], called
    finally:
        server.close()


@pytest.mark.slow
def test_sigterm_stops_a_real_scrapy_crawl_child_too(tmp_path: Path) -> None:
    with silent_server() as (port, called):
        feed = {"name": "wire", "feeds": [f"http://127.0.0.1:{port}/feed.xml"]}
        config_file = write_config(tmp_path, sources=(feed,), crawl={"obey_robots": False})
        daemon = start_daemon(tmp_path, config_file, crawl="real", ready=called.is_set)
        family = descendants(daemon.pid)
        spiders = [
            pid for pid in family if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert spiders and all(running(pid) for pid in spiders)
        assert_stops_within_ten_seconds(daemon, family)


def leave_deliveries(config: Config, day: date, **statuses: int) -> None:
    from briefing.store.models import Delivery

    store = Store(config.store.url)
    with store.session() as session:
        number = 0
        for status, count in statuses.items():
            for _ in range(count):
                number += 1
                session.add(Delivery(day=day, recipient=f"r{number}@example.org", status=status))
    store.close()


@pytest.mark.parametrize(
    ("left", "resumed"),
    [({"sent": 3, "pending": 7}, True), ({"pending": 5}, True), ({"sent": 10}, False), ({}, False)],
)
def test_a_restart_resumes_the_current_days_unfinished_deliveries(
    config_file: Path,
    schedulers: list[Any],
    caplog: pytest.LogCaptureFixture,
    left: dict[str, int],
    resumed: bool,
) -> None:
    config = load_config(config_file)
    leave_deliveries(config, config.briefing_day(), **left)
    schedulers.append(start_scheduler(config, config_file, TARGETS))  # daily due tomorrow
    daily_log = config.base_dir / "daily.log"
    if resumed:
        wait_for(lambda: lines(daily_log))
        assert lines(daily_log) == [config.briefing_day().isoformat()]
        assert "was not sent to everyone" in caplog.text and "resuming it now" in caplog.text
    else:
        time.sleep(0.5)
        assert lines(daily_log) == [] and "resuming" not in caplog.text
    upcoming = schedulers[-1].get_job("daily").next_run_time
    assert upcoming > datetime.now(config.tz)  # tomorrow's run stays as it was
