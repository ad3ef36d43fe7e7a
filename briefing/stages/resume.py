"""Where a day's sending stands: progress, what went wrong, and what needs --force.

A run stopped mid-send (SIGTERM, SIGKILL, a crash) leaves the day's deliveries pending or
`sending`. `day_progress` tells a restarted daemon or `briefing run` so, and the daily run
then resumes the send of the briefing already built, rather than rebuilding it: everyone
gets the same edition, each exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from briefing.config import Config
from briefing.errors import UsageError
from briefing.stages.send import Clock, DeliveryReport, load_issue
from briefing.store.engine import Store
from briefing.store.models import Delivery, utcnow


@dataclass(frozen=True, slots=True)
class DayProgress:
    """How many of a day's deliveries are in each state."""

    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unfinished(self) -> int:
        """Deliveries not yet sent nor refused: pending, or left `sending` by a dead run."""
        return self.counts.get("pending", 0) + self.counts.get("sending", 0)

    @property
    def handed_over(self) -> int:
        """Messages that went out (or may have): the edition is fixed from then on."""
        return self.counts.get("sent", 0) + self.counts.get("sending", 0)

    @property
    def interrupted(self) -> bool:
        """Tell whether sending started and stopped before everyone had the briefing."""
        return self.unfinished > 0 and self.handed_over > 0

    def describe(self) -> str:
        sent = self.counts.get("sent", 0)
        return f"{sent} of {self.total} sent, {self.unfinished} unfinished"


def progress_of(config: Config, day: date) -> DayProgress:
    """Open the config's store, count day's deliveries by status, and close it."""
    store = Store(config.store.url)
    try:
        return day_progress(store, day)
    finally:
        store.close()


def day_progress(store: Store, day: date) -> DayProgress:
    """Count day's deliveries by status."""
    query = select(Delivery.status, func.count()).where(Delivery.day == day)
    with store.session() as session:
        counts = {
            status: int(count) for status, count in session.execute(query.group_by(Delivery.status))
        }
    return DayProgress(day, counts)


def refuse_surprises(store: Store, config: Config, day: date, clock: Clock = utcnow) -> None:
    """Raise UsageError when day's briefing is old or empty: mailing it needs --force."""
    issue = load_issue(store, config, day)
    age = (config.briefing_day(clock()) - day).days
    if age > 0:
        days = "1 day" if age == 1 else f"{age} days"
        raise UsageError(
            f"the briefing of {day} is {days} old; to mail it to every subscriber now, add --force"
        )
    if issue.briefing.is_empty:
        raise UsageError(
            f"the briefing of {day} is empty (nothing was published in its window); to mail "
            "it to every subscriber anyway, add --force"
        )


def describe_problem(report: DeliveryReport) -> str | None:
    """Say in one line why a send is not complete (None when everyone has it)."""
    parts = []
    if report.aborted:
        parts.append(f"stopped: {report.aborted}")
    for label, reasons in (("pending", report.pending), ("failed", report.failed)):
        if reasons:
            first = next(iter(reasons.values()))
            parts.append(f"{len(reasons)} {label} ({first})")
    if report.in_progress:
        parts.append(f"{len(report.in_progress)} still being sent by another run")
    if report.skipped:
        first = next(iter(report.skipped.values()))
        parts.append(f"{len(report.skipped)} invalid subscriber address(es) skipped ({first})")
    return "; ".join(parts) or None
