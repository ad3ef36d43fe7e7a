"""The daily run: group new articles, build the day's briefing, send it (CLI and scheduler)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from briefing.config import Config
from briefing.stages.build import BuildResult, build_day
from briefing.stages.group import GroupReport, group_pending
from briefing.store.engine import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DailyReport:
    day: date
    grouping: GroupReport
    build: BuildResult | None
    delivery: Any = None
    crawl: Any = None
    review: str = ""  # with [review] enabled: approved | unreviewed | held

    @property
    def ok(self) -> bool:
        """Tell whether every subscriber has the briefing (the scheduler reads this)."""
        return self.delivery is None or bool(getattr(self.delivery, "complete", True))


def run_daily(
    config: Config, day: date | None = None, *, now: datetime | None = None, send: bool = True
) -> DailyReport:
    """Group new articles, build the day's briefing, and mail it (once per subscriber)."""
    from briefing.stages.send import send_briefing

    store = Store(config.store.url)
    day = day or datetime.now(config.tz).date()
    grouping = group_pending(store, config, now=now)
    if config.review.enabled:  # the editors' desk decides what goes out
        from briefing.stages.approval import at_send_time

        decided = at_send_time(store, config, day, now=now, send=send)
        return DailyReport(day, grouping, decided.build, decided.delivery, review=decided.decision)
    build = build_day(store, config, day, now=now)
    report = DailyReport(day=day, grouping=grouping, build=build)
    if send:
        report.delivery = send_briefing(store, config, day)
    return report
