"""Compose the day's briefing from stories: rank, summarise, say what changed.

Compose takes plain data, not the store, so that it is a pure function of its inputs.
Window rule: a story is active when one of its articles was published in
[window_start, window_end). Articles published at or after window_end are left out
entirely (a rebuilt past day looks as it did). Articles without a publication time
count as in the window: the caller only passes stories it considers current, and an
unknown time must not hide reporting.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Self
from zoneinfo import ZoneInfo

from briefing.briefs.headlines import TitledArticle, choose_headline, kicker
from briefing.briefs.summarise import SentenceVectoriser, pick_quotes, story_summary, whats_new
from briefing.briefs.writeups import full_names

__all__ = [
    "Briefing",
    "Counts",
    "GlanceLine",
    "QuoteItem",
    "Section",
    "SeeAlso",
    "SourceArticle",
    "SourceLink",
    "StoryBrief",
    "StoryInput",
    "compose",
]

GLANCE_LIMIT = 8
MAX_ENTITIES = 6
GLANCE_CHARS = 220
STATUS_BONUS = {"developing": 0.6, "new": 0.3, "quiet": 0.0}


class _Serialisable:
    """Turn a dataclass tree into JSON-ready data and back."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready data: ISO datetimes, lists for tuples."""
        return _to_data(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild the object from what to_dict returned."""
        return _from_data(cls, data)


def _to_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_data(item) for item in value]
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return value


def _from_data(kind: Any, value: Any) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        kind = next(arg for arg in args if arg is not type(None))
        return _from_data(kind, value)
    if origin is tuple:
        return tuple(_from_data(args[0], item) for item in value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = {f.name for f in dataclasses.fields(kind)}
        # A field missing from older archives takes its default (a newer field always has one).
        present = fields & set(value)
        return kind(**{name: _from_data(hints[name], value[name]) for name in present})
    return value


@dataclass(frozen=True, slots=True)
class SourceLink(_Serialisable):
    """A source article as listed under a story; times are in the briefing's zone."""

    outlet: str
    title: str
    url: str
    published_at: datetime | None
    time_label: str
    is_new: bool


@dataclass(frozen=True, slots=True)
class QuoteItem(_Serialisable):
    """A key quote, who said it, and the article it was reported in."""

    text: str
    speaker: str
    outlet: str
    url: str


@dataclass(frozen=True, slots=True)
class SeeAlso(_Serialisable):
    """A related story: its label, and its anchor when this briefing carries it too."""

    id: str
    label: str
    anchor: str | None
    language: str = ""  # set for a story in another language (a "Related" link)


@dataclass(frozen=True, slots=True)
class StoryBrief(_Serialisable):
    """One story written up for the reader."""

    anchor: str
    id: str
    label: str
    status: str
    topics: tuple[str, ...]
    watch_topic: str | None
    entities: tuple[str, ...]
    summary: tuple[str, ...]
    whats_new: tuple[str, ...]
    continuing: bool
    quotes: tuple[QuoteItem, ...]
    sources: tuple[SourceLink, ...]
    outlet_count: int
    article_count: int
    new_article_count: int
    latest_at: datetime | None
    see_also: tuple[SeeAlso, ...] = ()
    headline: str = ""  # the story's headline; label is then its short entity kicker
    language: str = "en"  # ISO 639-1 code of the story's articles
    related: tuple[SeeAlso, ...] = ()  # the same news in other languages


@dataclass(frozen=True, slots=True)
class GlanceLine(_Serialisable):
    """One line of "At a glance", pointing at its story: its headline and one sentence."""

    anchor: str
    label: str
    text: str
    outlet_count: int


@dataclass(frozen=True, slots=True)
class Section(_Serialisable):
    """A run of stories under one heading: a watch topic or the other stories."""

    anchor: str
    title: str
    kind: str  # topic | top
    stories: tuple[StoryBrief, ...]


@dataclass(frozen=True, slots=True)
class Counts(_Serialisable):
    """What the briefing covers: active stories, and all their articles and outlets."""

    stories: int
    articles: int
    outlets: int


@dataclass(frozen=True, slots=True)
class Briefing(_Serialisable):
    """The composed briefing: everything the templates and the JSON export need."""

    day: date
    title: str
    edition: str
    generated_at: datetime
    timezone: str
    window_start: datetime
    window_end: datetime
    at_a_glance: tuple[GlanceLine, ...]
    sections: tuple[Section, ...]
    also_noted: tuple[StoryBrief, ...]
    counts: Counts
    omitted_stories: int
    source_notes: tuple[str, ...] = ()  # sources silent or failing, named in the colophon
    editor_note: str = ""  # the editor's note printed at the top (see briefs/overrides.py)

    @property
    def stories(self) -> tuple[StoryBrief, ...]:
        """Return the main stories in reading order."""
        return tuple(story for section in self.sections for story in section.stories)

    @property
    def is_empty(self) -> bool:
        """Tell whether the window held no story at all."""
        return not self.stories and not self.also_noted


@dataclass(frozen=True, slots=True)
class SourceArticle:
    """One article as compose needs it: sentences and quotes already extracted."""

    id: str
    outlet: str
    title: str
    url: str
    published_at: datetime | None
    sentences: tuple[str, ...]
    quotes: tuple[tuple[str, str | None], ...] = ()  # (text, speaker)
    entities: tuple[tuple[str, str, int], ...] = ()  # (display name, type, mentions)


@dataclass(frozen=True, slots=True)
class StoryInput:
    """A story and all its articles; entities are display forms, most important first."""

    id: str
    label: str
    status: str  # new | developing | quiet
    topics: tuple[str, ...]
    entities: tuple[str, ...]
    articles: tuple[SourceArticle, ...]
    related: tuple[tuple[str, str], ...] = ()  # (story id, label) of sibling stories
    language: str = "en"  # ISO 639-1 code of the story's articles
    # (story id, label, language) of the stories in other languages naming the same things
    crosslingual: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Active:
    story: StoryInput
    articles: tuple[SourceArticle, ...]  # published before window_end, newest first
    fresh: tuple[SourceArticle, ...]  # published inside the window
    watch_topic: str | None
    score: float

    @property
    def outlets(self) -> int:
        return len({article.outlet for article in self.articles})


def _aware(moment: datetime) -> datetime:
    """Treat naive datetimes as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _newest_first(article: SourceArticle) -> tuple[bool, float]:
    published = article.published_at
    return (published is None, -_aware(published).timestamp() if published else 0.0)


def _activate(
    story: StoryInput, start: datetime, end: datetime, topic_order: Sequence[str]
) -> _Active | None:
    """Keep a story's articles up to the window end; None when nothing is in the window."""
    kept = [a for a in story.articles if a.published_at is None or _aware(a.published_at) < end]
    fresh = [a for a in kept if a.published_at is None or _aware(a.published_at) >= start]
    if not fresh:
        return None
    watch = next((topic for topic in topic_order if topic in story.topics), None)
    kept.sort(key=_newest_first)
    fresh.sort(key=_newest_first)
    return _Active(story, tuple(kept), tuple(fresh), watch, _score(story, fresh, start, end))


def _score(story: StoryInput, fresh: list[SourceArticle], start: datetime, end: datetime) -> float:
    """Weigh distinct outlets most, then recency, then how much the story moved."""
    outlets = len({article.outlet for article in fresh})
    span = max((end - start).total_seconds(), 1.0)
    times = [_aware(a.published_at) for a in fresh if a.published_at is not None]
    latest = max(times, default=end)
    recency = min(max(1.0 - (end - latest).total_seconds() / span, 0.0), 1.0)
    development = math.log1p(len(fresh)) + STATUS_BONUS.get(story.status, 0.0)
    return outlets + 1.5 * recency + 0.5 * development


def _rank(active: list[_Active], topic_order: Sequence[str]) -> list[_Active]:
    """Order stories: watch topics first (in their order), then by score."""
    position = {topic: index for index, topic in enumerate(topic_order)}

    def key(item: _Active) -> tuple[int, float, str]:
        return (position.get(item.watch_topic or "", len(position)), -item.score, item.story.id)

    return sorted(active, key=key)


def _time_label(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return "time unknown"
    local = _aware(moment).astimezone(zone)
    return f"{local.day} {local:%b %H:%M}"


def _sources(item: _Active, zone: tzinfo, previous: frozenset[str]) -> tuple[SourceLink, ...]:
    return tuple(
        SourceLink(
            outlet=article.outlet,
            title=article.title,
            url=article.url,
            published_at=_aware(article.published_at).astimezone(zone)
            if article.published_at
            else None,
            time_label=_time_label(article.published_at, zone),
            is_new=article.id not in previous,
        )
        for article in item.articles
    )


def _brief(
    item: _Active,
    anchor: str,
    vectoriser: SentenceVectoriser,
    zone: tzinfo,
    previous: frozenset[str],
    anchors: dict[str, str] | None = None,
) -> StoryBrief:
    """Write one story up: summary, what's new, quotes, entities and sources."""
    articles = item.articles
    continuing = any(article.id in previous for article in articles)
    news, background = _news_and_background(articles, previous, vectoriser)
    oldest_first = [
        TitledArticle(a.title, a.outlet, a.sentences, a.entities) for a in reversed(articles)
    ]
    summary = story_summary(
        [a.sentences for a in background],
        [a.title for a in background],
        vectoriser,
        avoid=news,
        people=full_names(a.entities for a in articles),
    )
    picked = pick_quotes(
        [a.quotes for a in articles], fresh=[a.id not in previous for a in articles]
    )
    times = [_aware(a.published_at) for a in articles if a.published_at is not None]
    return StoryBrief(
        anchor=anchor,
        id=item.story.id,
        label=kicker(oldest_first) or item.story.label.strip() or articles[0].title,
        status=item.story.status,
        topics=item.story.topics,
        watch_topic=item.watch_topic,
        entities=item.story.entities[:MAX_ENTITIES],
        summary=summary,
        whats_new=news,
        continuing=continuing,
        quotes=tuple(
            QuoteItem(q.text, q.speaker, articles[q.article].outlet, articles[q.article].url)
            for q in picked
        ),
        sources=_sources(item, zone, previous),
        outlet_count=item.outlets,
        article_count=len(articles),
        new_article_count=sum(a.id not in previous for a in item.fresh),
        latest_at=max(times).astimezone(zone) if times else None,
        see_also=tuple(
            SeeAlso(story_id, label, (anchors or {}).get(story_id))
            for story_id, label in item.story.related
        ),
        headline=choose_headline(oldest_first) or item.story.label.strip(),
        language=item.story.language,
        related=tuple(
            SeeAlso(story_id, label, (anchors or {}).get(story_id), language)
            for story_id, label, language in item.story.crosslingual
        ),
    )


def _news_and_background(
    articles: Sequence[SourceArticle], previous: frozenset[str], vectoriser: SentenceVectoriser
) -> tuple[tuple[str, ...], list[SourceArticle]]:
    """Pick what's new from this edition's articles; return it and the articles for Background.

    A story seen before gets its news only from articles first published in this window,
    newest first, and its Background only from earlier ones; a new story is all background.
    """
    background = [a for a in articles if a.id in previous]
    if not background:
        return (), list(articles)
    new = [a for a in articles if a.id not in previous]
    found = whats_new(
        [a.sentences for a in new],
        [a.sentences for a in background],
        vectoriser,
        headlines=[a.title for a in new],
    )
    return _newest_first_lines(found, new), background


def _newest_first_lines(lines: Sequence[str], articles: Sequence[SourceArticle]) -> tuple[str, ...]:
    """Order what's-new lines by their article, newest first, then by place in the article."""

    def place(line: str) -> tuple[int, int]:
        for index, article in enumerate(articles):  # articles come newest first
            if line in article.sentences:
                return index, article.sentences.index(line)
        return len(articles), 0

    return tuple(sorted(lines, key=place))


def _glance_sentence(story: StoryBrief) -> str:
    """Pick one whole sentence for At a glance: not the story's first "What's new" line word
    for word, and short enough to read at a glance (never cut mid-sentence)."""
    repeated = set(story.whats_new[:1])
    pool = [s for s in (*story.summary, *story.whats_new) if s not in repeated]
    short = [s for s in pool if len(s) <= GLANCE_CHARS]
    if short:
        return short[0]
    return min(pool, key=len) if pool else ""


def _glance(stories: Sequence[StoryBrief]) -> tuple[GlanceLine, ...]:
    return tuple(
        GlanceLine(
            story.anchor, story.headline or story.label, _glance_sentence(story), story.outlet_count
        )
        for story in stories[:GLANCE_LIMIT]
    )


def _sections(briefs: Sequence[StoryBrief], topic_order: Sequence[str]) -> tuple[Section, ...]:
    """Group stories into one section per watch topic, then the rest."""
    sections = []
    for index, topic in enumerate(topic_order, start=1):
        in_topic = tuple(brief for brief in briefs if brief.watch_topic == topic)
        sections.append(Section(f"topic-{index}", topic, "topic", in_topic))
    rest = tuple(brief for brief in briefs if brief.watch_topic is None)
    if rest:
        title = "Other stories" if topic_order else "Top stories"
        sections.append(Section("top-stories", title, "top", rest))
    return tuple(sections)


def _edition(generated_local: datetime) -> str:
    return f"{generated_local:%H:%M} {generated_local.tzname() or ''} edition".replace("  ", " ")


def compose(
    stories: Sequence[StoryInput],
    *,
    day: date,
    title: str,
    timezone: str,
    window_start: datetime,
    window_end: datetime,
    previous_article_ids: frozenset[str] = frozenset(),
    topic_order: Sequence[str] = (),
    max_stories: int = 30,
    generated_at: datetime | None = None,
    source_notes: Sequence[str] = (),
) -> Briefing:
    """Compose the day's briefing from the stories active in the window."""
    zone = ZoneInfo(timezone)
    start, end = _aware(window_start), _aware(window_end)
    topics = tuple(dict.fromkeys(topic_order))
    found = (_activate(story, start, end, topics) for story in stories)
    ranked = _rank([item for item in found if item is not None], topics)
    vectoriser = SentenceVectoriser(
        text
        for item in ranked
        for article in item.articles
        for text in (article.title, *article.sentences)
    )
    main = [item for item in ranked if item.outlets >= 2]
    single = [item for item in ranked if item.outlets < 2]
    shown = main[:max_stories]
    # Anchors follow reading order (sections), not rank, so the contents read 1, 2, 3.
    reading = [item for topic in topics for item in shown if item.watch_topic == topic]
    reading += [item for item in shown if item.watch_topic is None]
    anchors = {id(item): f"story-{n}" for n, item in enumerate(reading, start=1)}
    noted_items = list(enumerate(single[:max_stories], start=1))
    by_story = {item.story.id: anchors[id(item)] for item in shown}
    by_story.update((item.story.id, f"noted-{n}") for n, item in noted_items)
    args = (vectoriser, zone, previous_article_ids, by_story)
    briefs = [_brief(item, anchors[id(item)], *args) for item in shown]
    noted = [_brief(item, f"noted-{n}", *args) for n, item in noted_items]
    generated = _aware(generated_at or datetime.now(UTC)).astimezone(zone)
    return Briefing(
        day=day,
        title=title,
        edition=_edition(generated),
        generated_at=generated,
        timezone=timezone,
        window_start=start.astimezone(zone),
        window_end=end.astimezone(zone),
        at_a_glance=_glance(briefs),
        sections=_sections(briefs, topics),
        also_noted=tuple(noted),
        # Every article and outlet the stories list (as each story counts its own), so no
        # story ever shows more outlets or articles than the whole briefing.
        counts=Counts(
            stories=len(ranked),
            articles=sum(len(item.articles) for item in ranked),
            outlets=len({a.outlet for item in ranked for a in item.articles}),
        ),
        omitted_stories=len(main) - len(shown) + max(len(single) - max_stories, 0),
        source_notes=tuple(source_notes),
    )
