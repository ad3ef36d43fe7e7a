"""Render the archive's pages (HTML and Atom) for the web app and the static export.

Every link between pages is relative (`root` leads back to the site's top), so the same
pages work when served by `briefing serve` and when copied by `briefing archive export`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy import select

from briefing.config import readable_name
from briefing.output.links import safe_href
from briefing.output.templating import template_environment
from briefing.resources import templates_dir
from briefing.stages.health import source_health
from briefing.store.engine import Store
from briefing.store.models import SourceHealth, Story
from briefing.store.search import highlight, search
from briefing.store.story_queries import story_rows
from briefing.web.data import (
    SAFE_ID,
    DayEntry,
    archive_days,
    briefings_by_story,
    day_entry,
    months,
    story_view,
)

WEB_TEMPLATES = templates_dir() / "web"
LATEST_ON_INDEX = 14
FEED_ENTRIES = 50
STORIES_LISTED = 200


external_href = safe_href  # the one rule for links, shared with the briefing and mail


def day_path(day: date) -> str:
    return f"{day:%Y/%m/%d}/"


def story_path(story_id: str) -> str | None:
    """Return the page of a story relative to the top, or None for an id unfit for a path."""
    return f"stories/{story_id}.html" if SAFE_ID.match(story_id) else None


def make_environment(zone: tzinfo, templates_dir: Path = WEB_TEMPLATES) -> Environment:
    """Build the pages' Jinja2 environment: the shared one (HTML and Atom alike escaped)."""
    env = template_environment(templates_dir)

    def clock(moment: datetime | None) -> str:
        if moment is None:
            return "time unknown"
        local = moment.astimezone(zone)
        return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".rstrip()

    def hhmm(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%H:%M") if moment else "––:––"

    env.filters.update(
        external_href=external_href,
        clock=clock,
        hhmm=hhmm,
        day_path=day_path,
        story_path=story_path,
        highlight=highlight,
        month_name=lambda day: f"{day:%B %Y}",
        month_path=lambda day: f"{day:%Y/%m}/",
        atom_time=lambda moment: moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return env


@dataclass(frozen=True, slots=True)
class _SourceRow:
    """One source's health as the sources page shows it."""

    source: str
    status: str
    reason: str
    figures: dict[str, Any]
    last_stored: datetime | None
    checked_at: datetime

    @classmethod
    def of(cls, row: SourceHealth) -> _SourceRow:
        last = row.figures.get("last_stored")
        when = datetime.fromisoformat(last) if isinstance(last, str) else None
        return cls(row.source, row.status, row.reason, row.figures, when, row.checked_at)


@dataclass
class Site:
    """The archive as pages: briefings by day and month, stories, search, feed."""

    archive_dir: Path
    store: Store
    title: str
    zone: tzinfo
    static: bool = False  # the static export: no search box
    subscriptions: bool = False  # the subscription pages are served
    outlet_name: Callable[[str], str] = readable_name  # source id -> the name readers see

    def __post_init__(self) -> None:
        self.env = make_environment(self.zone)
        self.env.filters["outlet"] = lambda source: self.outlet_name(str(source))

    def _render(self, template: str, root: str, **context: Any) -> str:
        base = {"root": root, "site_title": self.title, "static": self.static}
        base["subscriptions"] = self.subscriptions and not self.static
        return self.env.get_template(template).render({**base, **context})

    def render(self, template: str, root: str, **context: Any) -> str:
        """Render any page of the site's templates (root leads back to the top)."""
        return self._render(template, root, **context)

    def days(self) -> list[date]:
        return archive_days(self.archive_dir)

    def entries(self, days: list[date]) -> list[DayEntry]:
        found = (day_entry(self.archive_dir, day) for day in days)
        return [entry for entry in found if entry is not None]

    def index(self) -> str:
        days = self.days()
        latest = self.entries(days[:LATEST_ON_INDEX])
        return self._render("index.html.j2", "", latest=latest, months=months(days))

    def month(self, first: date) -> str | None:
        all_months = [month for month, _count in months(self.days())]
        if first not in all_months:
            return None
        in_month = [d for d in self.days() if (d.year, d.month) == (first.year, first.month)]
        position = all_months.index(first)
        newer = all_months[position - 1] if position > 0 else None
        older = all_months[position + 1] if position + 1 < len(all_months) else None
        context = {
            "month": first,
            "entries": self.entries(in_month),
            "newer": newer,
            "older": older,
        }
        return self._render("month.html.j2", "../../", **context)

    def day(self, day: date) -> str | None:
        entry = day_entry(self.archive_dir, day)
        if entry is None:
            return None
        days = self.days()
        position = days.index(day)
        newer = days[position - 1] if position > 0 else None
        older = days[position + 1] if position + 1 < len(days) else None
        known = self.known_stories({s.id for s in entry.stories})
        context = {"entry": entry, "newer": newer, "older": older, "known": known}
        return self._render("day.html.j2", "../../../", **context)

    def known_stories(self, ids: set[str]) -> set[str]:
        """Return those of ids that have a story page (the store holds them)."""
        if not ids:
            return set()
        with self.store.session() as session:
            return set(session.scalars(select(Story.id).where(Story.id.in_(ids))))

    def stories(self, only: set[str] | None = None) -> str:
        with self.store.session() as session:
            rows = story_rows(session, STORIES_LISTED)
        if only is not None:
            rows = [row for row in rows if row["id"] in only]
        return self._render("stories.html.j2", "../", rows=rows)

    def sources(self) -> str:
        rows = [_SourceRow.of(row) for row in source_health(self.store)]
        return self._render("sources.html.j2", "../", rows=rows)

    def story(self, story_id: str) -> str | None:
        if not SAFE_ID.match(story_id):
            return None
        archived = set(self.days())
        with self.store.session() as session:
            briefings = briefings_by_story(session, archived).get(story_id, [])
            view = story_view(session, story_id, self.zone, briefings)
        if view is None:
            return None
        return self._render("story.html.j2", "../", story=view)

    def search(self, query: str) -> str:
        results = search(self.store, query) if query.strip() else None
        return self._render("search.html.j2", "", query=query, results=results)

    def not_found(self, path: str) -> str:
        return self._render("404.html.j2", "/", path=path)

    def feed(self, base_url: str = "") -> str:
        """Render the Atom feed of the newest briefings; links are relative without base_url."""
        entries = self.entries(self.days()[:FEED_ENTRIES])
        newest = max((e.generated_at for e in entries if e.generated_at), default=None)
        updated = newest or datetime(1970, 1, 1, tzinfo=UTC)
        return self._render("feed.xml.j2", base_url, entries=entries, updated=updated)
