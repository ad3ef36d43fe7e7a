"""The daily run: group new articles, build the day's briefing, send it (CLI and scheduler)."""

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
from briefing.store.engine import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DailyReport:
    day: date
    grouping: GroupReport
    build: BuildResult
    delivery: Any = None
    crawl: Any = None

    @property
    def problem(self) -> str | None:
        """Say which stage left work undone and why, or None (the scheduler reads this)."""
        from briefing.stages.send import DeliveryReport, describe_problem

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
    from briefing.stages.send import send_briefing

    store = Store(config.store.url)
    day = day or datetime.now(config.tz).date()
    with stage("group"):
        grouping = group_pending(store, config, now=now)
    with stage("build"):
        build = build_day(store, config, day, now=now)
    report = DailyReport(day=day, grouping=grouping, build=build)
    if send:
        with stage("send"):
            report.delivery = send_briefing(store, config, day)
    return report
