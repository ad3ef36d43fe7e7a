"""Crawl and send on time: APScheduler 3 jobs declared from config, kept in the store's database.

The job store refers to one function, `run_job`, by name; it loads the config afresh and
calls the job's target, itself named by a "module:function" string (crawl_and_enrich and
run_daily by default), so a target can change without touching stored jobs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj

from briefing.config import Config, ConfigError, load_config
from briefing.errors import BriefingError, RunError, ScheduleError
from briefing.stages.health import alert_changes
from briefing.stages.resume import progress_of
from briefing.store.engine import Store
from briefing.store.locking import RUN_LOCK, store_lock
from briefing.store.search import refresh_after

log = logging.getLogger(__name__)
JOB_TABLE = "apscheduler_jobs"
RESUME_JOB = "resume"  # a one-off run of the daily job after an interrupted send
FAILED_STATUSES = frozenset({"failed", "timed_out", "error"})
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbering: 0 is Sunday


@dataclass(frozen=True, slots=True)
class JobTargets:
    """What the jobs call, as "module:function" names; see check_result for failure."""

    # Enriches in step with the crawl unless [nlp] enrich_with_crawl = false.
    crawl: str = "briefing.stages.enrich_along:crawl_and_enrich"
    daily: str = "briefing.stages.daily:run_daily"
    draft: str = "briefing.stages.review:make_draft"  # with [review] enabled

    def target(self, kind: str) -> str:
        """Return the target of a job kind (crawl, daily or draft)."""
        return {"crawl": self.crawl, "daily": self.daily, "draft": self.draft}[kind]

    def resolve(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """Import both targets now, so a bad name fails at start and not at 07:00."""
        return _resolve(self.crawl), _resolve(self.daily)


def _resolve(target: str) -> Callable[..., Any]:
    try:
        return ref_to_obj(target)  # type: ignore[no-any-return]
    except (ImportError, LookupError, ValueError, TypeError) as exc:
        raise ScheduleError(f"job target {target!r} cannot be loaded: {exc}") from None


class DailyTrigger(CronTrigger):
    """A cron trigger that fires at most once per local day (not twice when clocks go back)."""

    def get_next_fire_time(self, previous_fire_time: Any, now: Any) -> Any:
        upcoming = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time and upcoming:
            same_day = upcoming.astimezone(self.timezone).date()
            if same_day == previous_fire_time.astimezone(self.timezone).date():
                upcoming = super().get_next_fire_time(upcoming, upcoming)
        return upcoming


def daily_trigger(due: time, tz: ZoneInfo) -> DailyTrigger:
    """Return the trigger for the daily run at the given local time."""
    return DailyTrigger(hour=due.hour, minute=due.minute, timezone=tz)


def _weekday(value: str) -> int:
    day = WEEKDAYS.index(value[:3]) if value[:3] in WEEKDAYS else int(value)
    if not 0 <= day <= 7:
        raise ValueError(f"day of week {value!r} is not 0-7 or a day name")
    return day


def _cron_weekdays(field: str) -> str:
    """Translate a crontab day-of-week field (0 and 7 are Sunday) into day names."""
    if field in ("*", "?"):
        return "*"  # APScheduler 3 counts 0 as Monday: numbers must not reach it
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step = part.partition("/")
        start, _, end = span.partition("-")
        first = 0 if span == "*" else _weekday(start)
        last = _weekday(end) if end else 6 if span == "*" or step else first
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return ",".join(WEEKDAYS[day] for day in sorted(days))


def crawl_trigger(spec: str, tz: ZoneInfo) -> BaseTrigger:
    """Turn 'every 2h', 'every 30m' or a 5-field crontab line into a trigger."""
    every = re.fullmatch(r"every (\d+)\s*([mh])", spec.strip())
    if every:
        amount = int(every[1])
        if amount < 1:
            raise ConfigError(f"schedule.crawl: the interval must be at least 1, got {spec!r}")
        return IntervalTrigger(timezone=tz, **{"hours" if every[2] == "h" else "minutes": amount})
    try:
        minute, hour, day, month, weekday = spec.split()
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month,
            day_of_week=_cron_weekdays(weekday), timezone=tz,
        )  # fmt: skip
    except ValueError as exc:
        raise ConfigError(f"schedule.crawl: {spec!r} is not a valid crontab line: {exc}") from None


@dataclass(frozen=True, slots=True)
class JobPlan:
    """One job the config asks for: id, kind, trigger and what it does."""

    id: str
    kind: str  # "crawl" or "daily"
    trigger: BaseTrigger
    schedule: str
    what: str


def plan_jobs(config: Config) -> list[JobPlan]:
    """Declare the jobs: the daily run, and one crawl of all enabled sources."""
    tz, daily = config.tz, config.schedule
    plans = [
        JobPlan("daily", "daily", daily_trigger(daily.daily_time, tz), f"{daily.daily} {tz.key}",
                "group, build and send the briefing"),
    ]  # fmt: skip
    if config.review.enabled:
        at = config.draft_due(datetime.now(tz).date()).astimezone(tz)
        plans.append(JobPlan("draft", "draft", daily_trigger(at.time(), tz), f"{at:%H:%M} {tz.key}",
                             "group and build the draft; tell the editors"))  # fmt: skip
    if any(source.enabled for source in config.sources):
        trigger = crawl_trigger(daily.crawl, tz)
        plans.append(JobPlan("crawl", "crawl", trigger, daily.crawl, "crawl all enabled sources"))
    return plans


def tell_admin(config: Config) -> None:
    """Mail `[mail] admin` about sources whose health changed; never fail the job for it."""
    if not config.mail.admin:
        return
    try:
        alert_changes(Store(config.store.url), config)
    except (BriefingError, OSError) as exc:
        log.error("could not tell %s about the sources' health: %s", config.mail.admin, exc)


def check_result(result: Any, kind: str) -> Any:
    """Raise ScheduleError when a job's result says it failed; return the result."""
    problem = getattr(result, "problem", None)
    if problem:
        raise RunError(f"{kind} run: {problem}")
    status = getattr(result, "status", None)
    if status in FAILED_STATUSES or getattr(result, "ok", True) is False:
        raise ScheduleError(f"{kind} ended with status {status!r}")
    return result


def run_job(kind: str, config_path: str, target: str, sources: list[str] | None = None) -> Any:
    """Run one scheduled job with a fresh config (the job store names this function).

    `sources` stays in the signature because jobs already in a job store carry it.
    """
    config = load_config(config_path)
    func = _resolve(target)
    if kind == "crawl":
        limit = config.schedule.crawl_time_limit_minutes * 60
        try:
            result = func(config, sources, time_limit=limit)
            store = Store(config.store.url)
            refresh_after(store, "crawl")
            store.close()
            return check_result(result, kind)
        finally:
            tell_admin(config)
    with store_lock(config.store.url, RUN_LOCK).held(timeout=grace_seconds(config)):
        if kind == "draft":
            return func(config)  # the next edition's day, whatever the clock says now
        return check_result(func(config, day=config.briefing_day()), kind)


def grace_seconds(config: Config) -> int:
    # APScheduler wants a positive grace; 0 in the config means "on time or not at all".
    return max(1, config.schedule.misfire_grace_minutes * 60)


def _on_job_event(tz: ZoneInfo) -> Callable[[JobEvent], None]:
    def local(when: datetime) -> str:
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    def listener(event: Any) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.error(
                "job %s MISSED its run due at %s: the scheduler was not running within the"
                " misfire grace period, so that run is skipped",
                event.job_id, local(event.scheduled_run_time),
            )  # fmt: skip
        elif event.code == EVENT_JOB_ERROR:
            reason = f"{type(event.exception).__name__}: {event.exception}"
            log.error("job %s (due %s) failed: %s", event.job_id, local(event.scheduled_run_time),
                      reason)  # fmt: skip
        elif event.code == EVENT_JOB_EXECUTED:
            log.info("job %s (due %s) done", event.job_id, local(event.scheduled_run_time))
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("job %s is still running: its run due at %s is skipped",
                        event.job_id, local(event.scheduled_run_times[-1]))  # fmt: skip

    return listener


class StoreScheduler(BackgroundScheduler):
    """A BackgroundScheduler that picks up no due job once shutdown() has begun."""

    def _process_jobs(self) -> float | None:
        # APScheduler 3 runs one more round after shutdown() (agronholm/apscheduler#285): a
        # job due then would be marked done in the store without running, skipping a day.
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


def open_scheduler(config: Config, executor: BaseExecutor | None = None) -> StoreScheduler:
    """Create (not start) a scheduler whose jobs live in the store's database."""
    store = Store(config.store.url)
    scheduler = StoreScheduler(
        timezone=config.tz,
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)},
        executors={"default": executor} if executor else {},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    codes = EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_EXECUTED | EVENT_JOB_MAX_INSTANCES
    scheduler.add_listener(_on_job_event(config.tz), codes)
    return scheduler


def same_trigger(old: BaseTrigger, new: BaseTrigger) -> bool:
    """Tell whether two triggers fire at the same times (interval start dates aside)."""
    if type(old) is not type(new) or str(old) != str(new):
        return False
    return str(getattr(old, "timezone", "")) == str(getattr(new, "timezone", ""))


def kept_next_run(existing: Job | None, trigger: BaseTrigger, now: datetime) -> datetime | None:
    """Keep a stored next run that is overdue, or that an unchanged trigger still implies."""
    stored = getattr(existing, "next_run_time", None)
    if existing is None or stored is None:
        return None
    return stored if stored <= now or same_trigger(existing.trigger, trigger) else None


def _report_earlier_misses(plan: JobPlan, first_due: datetime, now: datetime) -> None:
    """Log the runs that were due while the scheduler was down, except the latest one."""
    due: list[datetime] = []
    when: datetime | None = first_due
    while when is not None and when <= now and len(due) < 10_000:
        due.append(when)
        when = plan.trigger.get_next_fire_time(when, now)
    if len(due) > 1:
        level = logging.ERROR if plan.kind == "daily" else logging.WARNING
        log.log(level, "job %s: %d run(s) due from %s to %s were missed while the scheduler was"
                " down", plan.id, len(due) - 1, due[0], due[-2])  # fmt: skip


def declare_jobs(
    scheduler: BackgroundScheduler,
    config: Config,
    config_path: str | Path,
    targets: JobTargets = JobTargets(),
    now: datetime | None = None,
) -> list[Job]:
    """(Re)declare the config's jobs, keeping overdue runs, and drop jobs the config left."""
    now = now or datetime.now(config.tz)
    plans = plan_jobs(config)
    for job in scheduler.get_jobs():
        if job.id not in {plan.id for plan in plans}:
            log.info("removing job %s: no longer in the config", job.id)
            scheduler.remove_job(job.id)
    jobs = []
    for plan in plans:
        existing = scheduler.get_job(plan.id)
        keep = kept_next_run(existing, plan.trigger, now)
        if keep is not None and keep <= now:
            _report_earlier_misses(plan, keep, now)
        target = targets.target(plan.kind)
        job = scheduler.add_job(
            run_job, plan.trigger, args=[plan.kind, str(config_path), target, None],
            id=plan.id, name=plan.what, replace_existing=True, coalesce=True, max_instances=1,
            misfire_grace_time=grace_seconds(config), **({"next_run_time": keep} if keep else {}),
        )  # fmt: skip
        jobs.append(job)
    return jobs


def start_scheduler(
    config: Config,
    config_path: str | Path,
    targets: JobTargets = JobTargets(),
    *,
    crawl_now: bool = False,
    executor: BaseExecutor | None = None,
) -> BackgroundScheduler:
    """Start a scheduler paused, declare the jobs, then let it run (overdue jobs first)."""
    targets.resolve()
    if config.review.enabled:
        _resolve(targets.draft)
    scheduler = open_scheduler(config, executor)
    scheduler.start(paused=True)
    try:
        jobs = declare_jobs(scheduler, config, Path(config_path).resolve(), targets)
        now = datetime.now(config.tz)
        for job in jobs:
            if crawl_now and job.id.startswith("crawl"):
                job.modify(next_run_time=now)
        resume_interrupted(scheduler, config, Path(config_path).resolve(), targets, now)
    except BaseException:
        scheduler.shutdown(wait=False)
        raise
    scheduler.resume()
    for job in scheduler.get_jobs():
        when = job.next_run_time.strftime("%Y-%m-%d %H:%M %Z") if job.next_run_time else "never"
        log.info("job %s (%s): next run %s", job.id, job.name, when)
    return scheduler


def resume_interrupted(
    scheduler: BackgroundScheduler,
    config: Config,
    config_path: Path,
    targets: JobTargets,
    now: datetime,
) -> bool:
    """Run the daily job again now when the current day's deliveries were left unfinished.

    A restart (SIGTERM, SIGKILL, a crash) during the daily run leaves the day's deliveries
    pending while the job's next run is already tomorrow's. The daily run resumes a send it
    finds interrupted with the briefing already built. Return whether a resume was planned.
    """
    daily = scheduler.get_job("daily")
    if daily is None or (daily.next_run_time is not None and daily.next_run_time <= now):
        return False  # no daily job, or it is due now anyway and picks up what it finds
    day = config.briefing_day(now)
    progress = progress_of(config, day)
    if not progress.unfinished:
        return False
    log.warning(
        "the briefing of %s was not sent to everyone (%s): a run stopped before it was done; "
        "resuming it now", day, progress.describe(),
    )  # fmt: skip
    scheduler.add_job(
        run_job, DateTrigger(run_date=now, timezone=config.tz),
        args=["daily", str(config_path), targets.daily, None], id=RESUME_JOB,
        name=f"resume the briefing of {day}", replace_existing=True,
        misfire_grace_time=grace_seconds(config),
    )  # fmt: skip
    return True


@dataclass(frozen=True, slots=True)
class JobListing:
    """A job as `briefing schedule --list` shows it."""

    id: str
    what: str
    schedule: str
    next_run: datetime | None


def list_jobs(config: Config, now: datetime | None = None) -> list[JobListing]:
    """Return each configured job and its next run (as the daemon would see it), local time."""
    now = now or datetime.now(config.tz)
    store = Store(config.store.url)
    jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)
    jobstore.start(BackgroundScheduler(timezone=config.tz), "default")
    listings = []
    try:
        for plan in plan_jobs(config):
            stored = kept_next_run(jobstore.lookup_job(plan.id), plan.trigger, now)
            upcoming = stored or plan.trigger.get_next_fire_time(None, now)
            local = upcoming.astimezone(config.tz) if upcoming else None
            listings.append(JobListing(plan.id, plan.what, plan.schedule, local))
    finally:
        store.close()
    return listings


@dataclass(slots=True)
class RunReport:
    """What `briefing run` did: the crawl's result or error, then the daily job's result."""

    crawl: Any = None
    crawl_error: str | None = None
    daily: Any = None
    resumed: Any = None  # the interrupted send's progress, when this run resumed one


def run_once(
    config: Config,
    targets: JobTargets = JobTargets(),
    *,
    wait: float | None = 0.0,
    crawl: bool = True,
    draft: bool = False,
) -> RunReport:
    """Crawl, then group, build and send once, holding the run lock (waiting up to wait s).

    With draft, build the next edition's draft for review instead of building and sending.
    """
    report = RunReport()
    with store_lock(config.store.url, RUN_LOCK).held(timeout=wait):
        crawl_job, daily_job = targets.resolve()
        today = datetime.now(config.tz).date()
        report.resumed = _interrupted(config, today)
        if crawl and report.resumed is None:
            limit = config.schedule.crawl_time_limit_minutes * 60
            try:
                report.crawl = check_result(crawl_job(config, None, time_limit=limit), "crawl")
            except Exception as exc:  # what is already stored still makes a briefing
                report.crawl_error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "crawl failed (%s); building from the stored articles", report.crawl_error
                )
        if draft:
            report.daily = _resolve(targets.draft)(config)
            return report
        report.daily = check_result(daily_job(config, day=today), "daily")
    return report


def _interrupted(config: Config, day: date) -> Any:
    """Return day's send progress when an earlier run stopped mid-send (else None)."""
    progress = progress_of(config, day)
    if not progress.interrupted:
        return None
    log.warning("an earlier run stopped while sending the briefing of %s (%s): resuming it "
                "first, without crawling", day, progress.describe())  # fmt: skip
    return progress
