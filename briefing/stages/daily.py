"""The daily run: group new articles, build the day's briefing, send it (CLI and scheduler).

The day's deliveries are recorded (pending) before anything is built, so a run killed at
any point leaves a trace; a run that finds the day's send interrupted resumes it with the
briefing already built (see briefing.stages.resume).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from briefing.config import Config
from briefing.errors import BriefingError, RunError
from briefing.stages.build import BuildResult, build_day
from briefing.stages.group import GroupReport, group_pending
from briefing.stages.resume import DayProgress, day_progress
from briefing.store.engine import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DailyReport:
    day: date
    grouping: GroupReport
    build: BuildResult | None  # None when an interrupted send was resumed without a rebuild
    delivery: Any = None
    crawl: Any = None
    review: str = ""  # with [review] enabled: approved | unreviewed | held
    resumed: DayProgress | None = None  # where the interrupted send stood when resumed

    @property
    def problem(self) -> str | None:
        """Say which stage left work undone and why, or None (the scheduler reads this)."""
        from briefing.stages.resume import describe_problem
        from briefing.stages.send import DeliveryReport

        if not isinstance(self.delivery, DeliveryReport):
            return None
        why = describe_problem(self.delivery)
        return f"the send stage did not reach everyone: {why}" if why else None

    @property
    def ok(self) -> bool:
        """Tell whether every subscriber has the briefing."""
        return self.problem is None


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Name the stage in any error a user can meet, so a run says where it failed."""
    try:
        yield
    except (BriefingError, OSError) as exc:
        raise RunError(f"the {name} stage failed: {exc}") from exc


def run_daily(
    config: Config, day: date | None = None, *, now: datetime | None = None, send: bool = True
) -> DailyReport:
    """Group new articles, build the day's briefing, and mail it (once per subscriber)."""
    from briefing.stages.send import plan_deliveries, send_briefing

    store = Store(config.store.url)
    day = day or datetime.now(config.tz).date()
    progress = day_progress(store, day)
    if send and progress.interrupted:
        return _resume(store, config, progress)
    # Under review nothing is planned before the editors decide: a held edition must not
    # look like an interrupted send to the next run.
    if send and not config.review.enabled:
        with stage("send"):
            plan_deliveries(store, config, day)
    with stage("group"):
        grouping = group_pending(store, config, now=now)
    if config.review.enabled:  # the editors' desk decides what goes out
        from briefing.stages.approval import at_send_time

        with stage("send"):
            decided = at_send_time(store, config, day, now=now, send=send)
        return DailyReport(day, grouping, decided.build, decided.delivery, review=decided.decision)
    with stage("build"):
        build = build_day(store, config, day, now=now)
    report = DailyReport(day=day, grouping=grouping, build=build)
    if send:
        with stage("send"):
            report.delivery = send_briefing(store, config, day)
    return report


def _resume(store: Store, config: Config, progress: DayProgress) -> DailyReport:
    """Finish an interrupted send with the briefing already built and partly sent."""
    from briefing.stages.send import send_briefing

    log.warning(
        "the briefing of %s was being sent when an earlier run stopped (%s): resuming the "
        "send with the briefing already built, so that everyone gets the same edition",
        progress.day, progress.describe(),
    )  # fmt: skip
    report = DailyReport(day=progress.day, grouping=GroupReport(), build=None, resumed=progress)
    with stage("send"):
        report.delivery = send_briefing(store, config, progress.day)
    after = day_progress(store, progress.day)
    log.warning("resumed the send of %s: now %s", progress.day, after.describe())
    return report
