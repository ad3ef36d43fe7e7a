"""What the archive's pages show, read from the archive files and the store."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from briefing.briefs.headlines import TitledArticle, choose_headline
from briefing.errors import ArchiveError
from briefing.output.archive import list_briefings, paths_for, read_json
from briefing.store.models import Article, BriefingRecord, Story, StoryArticle, StoryLink
from briefing.store.story_queries import story_language

log = logging.getLogger(__name__)

# Story ids become file names in the static export: only these characters are allowed.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
LABELS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class StoryLine:
    """A story as a briefing listed it."""

    id: str
    label: str
    status: str
    lead: str
    outlet_count: int
    language: str = "en"  # archives from before languages were shown: English


@dataclass(frozen=True, slots=True)
class DayEntry:
    """One archived briefing, as lists and the feed show it."""

    day: date
    title: str
    edition: str
    generated_at: datetime | None
    counts: tuple[int, int, int]  # stories, articles, outlets
    stories: tuple[StoryLine, ...]
    has_html: bool
    has_pdf: bool

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(story.label for story in self.stories[:LABELS_SHOWN])


@dataclass(frozen=True, slots=True)
class TimelineArticle:
    id: str
    title: str
    source: str
    url: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class TimelineDay:
    """What happened to a story on one day: its articles, and the briefings that carried it."""

    day: date | None
    articles: tuple[TimelineArticle, ...]
    in_briefing: bool


@dataclass(frozen=True, slots=True)
class StoryView:
    id: str
    label: str
    status: str
    topics: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    outlets: tuple[str, ...]
    article_count: int
    briefings: tuple[date, ...]
    days: tuple[TimelineDay, ...]
    related: tuple[tuple[str, str], ...] = ()  # (id, label): "see also"
    headline: str = ""
    language: str = "en"


def archive_days(archive_dir: Path) -> list[date]:
    """List the archived days, newest first."""
    return sorted(list_briefings(archive_dir), reverse=True)


def _story_lines(data: dict[str, Any]) -> tuple[StoryLine, ...]:
    glance = {line["anchor"]: line["text"] for line in data.get("at_a_glance", [])}
    stories = [s for section in data.get("sections", []) for s in section.get("stories", [])]
    stories += data.get("also_noted", [])
    return tuple(
        StoryLine(
            id=str(story.get("id", "")),
            label=str(story.get("headline") or story.get("label", "")),
            status=str(story.get("status", "")),
            lead=glance.get(story.get("anchor"), "") or next(iter(story.get("summary", [])), ""),
            outlet_count=int(story.get("outlet_count", 0)),
            language=str(story.get("language") or "en"),
        )
        for story in stories
    )


@lru_cache(maxsize=512)
def _read_json(json_path: Path, stamp: tuple[int, int]) -> dict[str, Any]:
    """Read one day's JSON; stamp (mtime, size) makes a rebuilt day read again."""
    try:
        return read_json(json_path)
    except ArchiveError as exc:
        log.warning("%s", exc)
        return {}


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def day_entry(archive_dir: Path, day: date) -> DayEntry | None:
    """Describe one archived day, or None when it has no briefing."""
    paths = paths_for(archive_dir, day)
    if not paths.html.is_file():
        return None
    try:
        stat = paths.json.stat()
        data = _read_json(paths.json, (stat.st_mtime_ns, stat.st_size))
    except OSError:
        data = {}
    counts = data.get("counts") or {}
    return DayEntry(
        day=day,
        title=str(data.get("title", "Briefing")),
        edition=str(data.get("edition", "")),
        generated_at=_moment(data.get("generated_at")),
        counts=(counts.get("stories", 0), counts.get("articles", 0), counts.get("outlets", 0)),
        stories=_story_lines(data),
        has_html=True,
        has_pdf=paths.pdf.is_file(),
    )


def months(days: list[date]) -> list[tuple[date, int]]:
    """Count briefings per month: (first of month, count), newest month first."""
    counts: dict[date, int] = defaultdict(int)
    for day in days:
        counts[day.replace(day=1)] += 1
    return sorted(counts.items(), reverse=True)


def briefings_by_story(session: Session, archived: set[date]) -> dict[str, list[date]]:
    """Map story id -> the archived days whose briefing carried it, oldest first."""
    found: dict[str, list[date]] = defaultdict(list)
    query = select(BriefingRecord.day, BriefingRecord.story_ids).order_by(BriefingRecord.day)
    for day, story_ids in session.execute(query):
        if day in archived:
            for story_id in story_ids or []:
                found[story_id].append(day)
    return found


def _local_day(moment: datetime | None, zone: tzinfo) -> date | None:
    return moment.astimezone(zone).date() if moment else None


def _timeline(
    articles: list[TimelineArticle], briefings: list[date], zone: tzinfo
) -> tuple[TimelineDay, ...]:
    by_day: dict[date | None, list[TimelineArticle]] = defaultdict(list)
    for article in articles:
        by_day[_local_day(article.published_at, zone)].append(article)
    days = sorted({*(day for day in by_day if day is not None), *briefings})
    timeline = [TimelineDay(day, tuple(by_day.get(day, [])), day in briefings) for day in days]
    if by_day.get(None):  # undated articles close the timeline rather than vanish
        timeline.append(TimelineDay(None, tuple(by_day[None]), False))
    return tuple(timeline)


def story_view(
    session: Session, story_id: str, zone: tzinfo, briefings: list[date]
) -> StoryView | None:
    """Gather a story's timeline: every article by day and every briefing it was in."""
    story = session.get(Story, story_id)
    if story is None:
        return None
    rows = session.scalars(
        select(Article)
        .join(StoryArticle, StoryArticle.article_id == Article.id)
        .where(StoryArticle.story_id == story_id)
        .order_by(Article.published_at, Article.id)
    )
    articles = [TimelineArticle(a.id, a.title, a.source, a.url, a.published_at) for a in rows]
    return StoryView(
        id=story.id,
        label=story.label,
        status=story.status,
        topics=tuple(story.topics),
        first_seen=story.first_seen,
        last_seen=story.last_seen,
        outlets=tuple(sorted({a.source for a in articles})),
        article_count=len(articles),
        briefings=tuple(briefings),
        days=_timeline(articles, briefings, zone),
        related=tuple(
            (str(i), str(label))
            for i, label in session.execute(
                select(Story.id, Story.label)
                .join(StoryLink, StoryLink.related_id == Story.id)
                .where(StoryLink.story_id == story_id)
                .order_by(StoryLink.created_at, Story.id)
            )
        ),
        headline=choose_headline([TitledArticle(a.title, a.source) for a in articles]),
        language=story_language(story),
    )
