"""Watch each source: is it healthy, degraded, silent or failing, and why.

Figures come from the store: the last crawls' per-source stats (`crawl_runs`) and the
articles stored recently. `check_sources` judges every configured source after a crawl and
records the verdict; `alert_changes` mails `[mail] admin` once when a source turns bad and
once when it recovers (the status last told is kept beside the verdict).
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from briefing.addresses import parse_sender
from briefing.config import Config, HealthConfig
from briefing.mail.alerts import build_alert
from briefing.mail.transport import Transport, make_transport
from briefing.store.engine import Store
from briefing.store.models import Article, CrawlRun, SourceHealth, utcnow

log = logging.getLogger(__name__)
STATUSES = ("healthy", "degraded", "silent", "failing")
STATUS_STYLE = {"healthy": "green", "degraded": "yellow", "silent": "yellow", "failing": "red"}
BAD = {"degraded", "silent", "failing"}
# Skip reasons that mean the site did not answer properly, not that a page was no article.
ERROR_REASONS = ("http_", "timeout", "dns", "connection_", "redirect_loop", "tls")
RECENT_RUNS = 10


@dataclass(slots=True)
class Figures:
    """What one source did lately: in its last crawl, over its last crawls, and in the store."""

    last_run: dict[str, int] = field(default_factory=dict)
    runs_without_article: int = 0  # consecutive recent crawls that stored nothing new
    runs: int = 0
    recent_articles: int = 0
    undated: int = 0
    short_bodies: int = 0
    median_body_chars: int = 0
    last_stored: datetime | None = None

    def skipped(self) -> dict[str, int]:
        """Return the last crawl's skipped URLs by reason, most first."""
        found = {k.removeprefix("skipped/"): v for k, v in self.last_run.items() if "/" in k}
        return dict(sorted(found.items(), key=lambda item: -item[1]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_run": self.last_run,
            "runs_without_article": self.runs_without_article,
            "recent_articles": self.recent_articles,
            "undated": self.undated,
            "short_bodies": self.short_bodies,
            "median_body_chars": self.median_body_chars,
            "last_stored": self.last_stored.isoformat() if self.last_stored else None,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    source: str
    status: str
    reason: str


def _when(moment: datetime | None, zone: Any) -> str:
    return f"{moment.astimezone(zone):%-d %b %H:%M}" if moment else "never"


def _skips_text(figures: Figures) -> str:
    fetched = figures.last_run.get("fetched", 0)
    skipped = figures.skipped()
    if not skipped:
        return f"{fetched} pages fetched in the last crawl"
    reasons = ", ".join(f"{n} {reason}" for reason, n in list(skipped.items())[:3])
    if len(skipped) == 1 and sum(skipped.values()) >= fetched > 0:
        reasons = f"all skipped as {next(iter(skipped))}"
    return f"{fetched} pages fetched in the last crawl, {reasons}"


def classify(name: str, figures: Figures, rules: HealthConfig, now: datetime, zone: Any) -> Verdict:
    """Judge one source from its figures: failing, silent, degraded or healthy, with the reason."""
    if not figures.runs:
        return Verdict(name, "healthy", "not crawled yet")
    last = figures.last_run
    stored = last.get("stored", 0) + last.get("already_stored", 0)
    errors = sum(v for k, v in figures.skipped().items() if k.startswith(ERROR_REASONS))
    fetched = last.get("fetched", 0)
    broken = stored == 0 and (fetched == 0 or errors * 2 >= fetched)
    if broken and figures.runs_without_article >= rules.failing_runs:
        what = "no page could be fetched" if fetched == 0 else _skips_text(figures)
        failed = f"{figures.runs_without_article} crawls failed"
        return Verdict(name, "failing", f"{name} failing ({failed}): {what}")
    quiet_for = now - figures.last_stored if figures.last_stored else None
    if figures.runs and (quiet_for is None or quiet_for > timedelta(hours=rules.silent_hours)):
        since = _when(figures.last_stored, zone)
        reason = f"No articles from {name} since {since}: {_skips_text(figures)}"
        return Verdict(name, "silent", reason)
    problems = []
    if figures.recent_articles:
        short = figures.short_bodies / figures.recent_articles
        undated = figures.undated / figures.recent_articles
        if short > rules.max_short_share:
            problems.append(f"{short:.0%} of recent articles have an empty or very short body")
        if undated > rules.max_undated_share:
            problems.append(f"{undated:.0%} of recent articles have no date")
    content_skips = sum(v for k, v in figures.skipped().items() if not k.startswith(ERROR_REASONS))
    if fetched and (errors + content_skips) / fetched > rules.max_skipped_share:
        problems.append(_skips_text(figures))
    if problems:
        return Verdict(name, "degraded", "; ".join(problems))
    return Verdict(name, "healthy", f"last article {_when(figures.last_stored, zone)}")


def gather(session: Session, config: Config, now: datetime) -> dict[str, Figures]:
    """Collect every configured source's figures from the store."""
    names = [source.name for source in config.sources if source.enabled]
    found = {name: Figures() for name in names}
    runs = session.scalars(
        select(CrawlRun).where(CrawlRun.finished_at.is_not(None))
        .order_by(CrawlRun.id.desc()).limit(RECENT_RUNS * max(1, len(names)))
    )  # fmt: skip
    for run in runs:
        for name, stats in (run.stats or {}).get("per_source", {}).items():
            figures = found.get(name)
            if figures is None or figures.runs >= RECENT_RUNS:
                continue
            if not figures.runs:
                figures.last_run = dict(stats)
            if figures.runs == figures.runs_without_article and not stats.get("stored", 0):
                figures.runs_without_article += 1
            figures.runs += 1
    _article_figures(session, config, now, found)
    return found


def _article_figures(
    session: Session, config: Config, now: datetime, found: dict[str, Figures]
) -> None:
    since = now - timedelta(days=config.health.window_days)
    latest = select(Article.source, func.max(Article.fetched_at)).group_by(Article.source)
    for name, moment in session.execute(latest.where(Article.source.in_(found))):
        found[name].last_stored = moment
    recent = select(Article.source, Article.published_at, func.length(Article.text)).where(
        Article.source.in_(found), Article.fetched_at >= since
    )
    lengths: dict[str, list[int]] = {}
    for name, published, chars in session.execute(recent):
        figures = found[name]
        figures.recent_articles += 1
        figures.undated += published is None
        figures.short_bodies += (chars or 0) < config.health.short_body_chars
        lengths.setdefault(name, []).append(chars or 0)
    for name, values in lengths.items():
        found[name].median_body_chars = int(statistics.median(values))


def check_sources(store: Store, config: Config, now: datetime | None = None) -> list[Verdict]:
    """Judge every enabled source and record the verdicts; return them."""
    now = now or utcnow()

    def work(session: Session) -> list[Verdict]:
        verdicts = []
        for name, figures in gather(session, config, now).items():
            verdict = classify(name, figures, config.health, now, config.tz)
            row = session.get(SourceHealth, name)
            if row is None:
                row = SourceHealth(source=name, status=verdict.status, since=now)
                session.add(row)
            elif row.status != verdict.status:
                row.status, row.since = verdict.status, now
            row.reason, row.figures, row.checked_at = verdict.reason, figures.to_dict(), now
            verdicts.append(verdict)
        return verdicts

    return store.run(work)


def source_health(store: Store) -> list[SourceHealth]:
    """Return the recorded health of every source, worst first."""
    with store.session() as session:
        rows = list(session.scalars(select(SourceHealth)))
        session.expunge_all()
    return sorted(rows, key=lambda row: (-STATUSES.index(row.status), row.source))


def alert_changes(
    store: Store, config: Config, transport: Transport | None = None
) -> list[tuple[str, str]]:
    """Mail `[mail] admin` about each source whose status changed since last told; return them.

    A source is told about once when it turns bad (degraded, silent, failing, or from one
    bad status to another) and once when it recovers.
    """
    if not config.mail.admin:
        return []
    told: list[tuple[str, str]] = []
    sender = parse_sender(config.mail.sender)
    transport = transport or make_transport(config.mail)
    try:
        for row in source_health(store):
            if row.status == row.alerted_status:
                continue
            recovered = row.status == "healthy"
            subject = f"Source {row.source} " + ("recovered" if recovered else f"is {row.status}")
            body = f"{subject}\n\n{row.reason}\n\nStatus since {_when(row.since, config.tz)}.\n"
            today = datetime.now(UTC).astimezone(config.tz).date()
            transport.send(build_alert(sender, config.mail.admin, subject, body, today))
            _mark_told(store, row.source, row.status)
            told.append((row.source, row.status))
            log.warning("told %s: %s", config.mail.admin, subject)
    finally:
        transport.close()
    return told


def _mark_told(store: Store, name: str, status: str) -> None:
    def work(session: Session) -> None:
        row = session.get(SourceHealth, name)
        if row is not None:
            row.alerted_status = status

    store.run(work)


def troubled_sources(store: Store) -> list[SourceHealth]:
    """Return the sources found silent or failing at their last check."""
    return [row for row in source_health(store) if row.status in ("silent", "failing")]
