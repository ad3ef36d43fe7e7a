"""Build a story's state after a grouping run: members, times, status, profile, label, links.

A story's label is only reconsidered when its articles changed, and even then it stays
while the entities it names still lead the story; a story nothing new touched comes back
exactly as it was. Status comes from genuinely new reporting: "developing" only when an
article not grouped before joined it. Pure functions, no store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from briefing.stories.clustering import ENGLISH, ArticleFeatures, GroupingParams, as_utc
from briefing.stories.crosslingual import latin_names
from briefing.stories.labels import (
    best_phrase,
    compose_label,
    dominant_entities,
    entity_stats,
    label_still_fits,
    merged_entity_stats,
    merged_phrase_stats,
    phrase_stats,
    short_title,
)
from briefing.stories.topics import Topic, matched, topic_hits

PROFILE_VERSION = 2
PROFILE_NAMES = 15  # entities and phrases remembered for labelling
MAX_LINKS = 10  # related stories remembered per story


@dataclass(slots=True)
class StoryState:
    """A group of articles about one event, as it stands after a grouping run."""

    id: str
    label: str
    article_ids: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    status: str = "new"  # new | developing | quiet | closed | merged
    topics: list[str] = field(default_factory=list)
    profile: dict = field(default_factory=dict)  # bounded, JSON-serialisable matching state
    related: list[str] = field(default_factory=list)  # ids of sibling stories ("see also")


def when(article: ArticleFeatures, now: datetime) -> datetime:
    """Return when an article appeared: its publication time, else the run's time."""
    return as_utc(article.published_at) if article.published_at else now


@dataclass(frozen=True, slots=True)
class StoryBuilder:
    """Build stories with the run's settings."""

    now: datetime
    params: GroupingParams
    display: Callable[[str], str]
    topics: Sequence[Topic]
    placed: frozenset[str] = frozenset()  # the articles this run re-grouped

    def unchanged(self, story: StoryState, status: str, related: Sequence[str] = ()) -> StoryState:
        """Copy a story with a new status (and any new related links)."""
        return replace(
            story,
            status=status,
            article_ids=list(story.article_ids),
            topics=list(story.topics),
            profile=dict(story.profile),
            related=_links(story.id, story.related, related),
        )

    def story(
        self,
        story_id: str,
        old: StoryState | None,
        articles: Sequence[ArticleFeatures],
        fresh: set[str],
        vectors: Mapping[str, Mapping[str, float]],
        related: Sequence[str],
    ) -> StoryState:
        """Return the story holding exactly these articles, continuing old when given."""
        gained = any(a.id in fresh for a in articles)
        given = {a.id for a in articles}
        # Articles of the old story that the caller could not pass stay where they were.
        kept = [i for i in old.article_ids if i not in self.placed] if old is not None else []
        if old is not None and given | set(kept) == set(old.article_ids):
            return self.unchanged(old, "quiet", related)
        ordered = sorted(articles, key=lambda a: (when(a, self.now), a.id))
        profile = self._profile(ordered, vectors)
        label, shown = self._label(old, profile, ordered)
        profile["label_entities"] = shown
        times = [when(a, self.now) for a in ordered]
        if old is None:
            status = "new" if gained else "quiet"
        else:
            status = "developing" if gained else "quiet"
        return StoryState(
            id=story_id,
            label=label,
            article_ids=[*(a.id for a in ordered), *kept],
            first_seen=times[0],
            last_seen=times[-1],
            status=status,
            topics=self._topics(profile, len(ordered), old),
            profile=profile,
            related=_links(story_id, old.related if old else [], related),
        )

    def _label(
        self, old: StoryState | None, profile: dict[str, Any], ordered: Sequence[ArticleFeatures]
    ) -> tuple[str, list[str]]:
        """Keep the old label while its entities still lead; else make a new one."""
        if old is not None and old.label:
            shown = list(old.profile.get("label_entities", []))
            if label_still_fits(shown, profile["entities"]):
                return old.label, shown
        shown = dominant_entities(profile["entities"])
        phrase = best_phrase(profile["phrases"], shown)
        fallback = old.label if old is not None else ""
        label = compose_label(shown, phrase, self.display, fallback=fallback)
        return label or short_title(ordered[0].title) or ordered[0].id, shown

    def _topics(self, profile: dict[str, Any], size: int, old: StoryState | None) -> list[str]:
        if self.topics:
            return matched(profile["topic_hits"], size, self.topics)
        return list(old.topics) if old is not None else []

    def _profile(
        self, articles: Sequence[ArticleFeatures], vectors: Mapping[str, Mapping[str, float]]
    ) -> dict[str, Any]:
        """Summarise the members: mean vectors, entity and phrase counts, topic hits."""
        english = articles[0].language == ENGLISH
        return {
            "version": PROFILE_VERSION,
            "vectors": {block: dict(terms) for block, terms in vectors.items()},
            "entities": merged_entity_stats({}, entity_stats(articles), PROFILE_NAMES),
            "phrases": merged_phrase_stats({}, phrase_stats(articles), PROFILE_NAMES),
            "topic_hits": topic_hits(articles, self.topics),
            "language": articles[0].language,  # grouping never mixes languages
            **({} if english else {"names": latin_names(articles)}),  # for cross-language links
        }


def _links(own: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    """Merge related story ids, oldest first, without the story itself."""
    merged = [i for i in dict.fromkeys([*old, *new]) if i != own]
    return merged[:MAX_LINKS]
