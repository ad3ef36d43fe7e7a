"""Group articles into stories that continue across days: pure functions, no store, no I/O.

Each run re-groups the open window jointly (briefing.stories.regroup): the new articles and every
article of the open stories they come near form one k-nearest-neighbour graph over word,
bigram and entity TF-IDF similarities, decayed by publication time, cut into Louvain
communities. Each community keeps the id of the old story it overlaps most; the others are
new stories, linked as "related" to the stories they resemble without being the same event.
The result depends on the articles, not on the order they were crawled in or how the runs
were split: grouping day by day gives the stories that one batch over the same days gives.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from briefing.stories.clustering import ENGLISH, ArticleFeatures, GroupingParams, as_utc
from briefing.stories.crosslingual import cross_language_links
from briefing.stories.labels import story_label
from briefing.stories.regroup import Counts, Regrouped, regroup_by_language, touched
from briefing.stories.story_build import StoryBuilder, StoryState, when
from briefing.stories.topics import Topic

__all__ = [
    "ArticleFeatures",
    "GroupingParams",
    "StoryState",
    "Topic",
    "group",
    "is_open",
    "story_id",
    "story_label",
    "story_language",
    "touched_stories",
]

log = logging.getLogger(__name__)


def story_id(first_article_id: str) -> str:
    """Derive a story id from its first article's id (article ids are never reused)."""
    return "s-" + hashlib.sha1(first_article_id.encode()).hexdigest()[:16]


def is_open(story: StoryState, now: datetime, params: GroupingParams = GroupingParams()) -> bool:
    """Tell whether a story may still gain articles: it was active within close_after_days."""
    last = story.last_seen or story.first_seen
    return last is None or as_utc(now) - as_utc(last) <= timedelta(days=params.close_after_days)


def touched_stories(
    new_articles: Sequence[ArticleFeatures],
    open_stories: Sequence[StoryState],
    *,
    now: datetime,
    params: GroupingParams = GroupingParams(),
    cache: dict[str, Counts] | None = None,
) -> list[str]:
    """Return the ids of the open stories a run over new_articles re-groups.

    The caller passes these stories' articles to group() as members; no other story changes.
    cache keeps the articles' term counts for the run's next step.
    """
    active = [s for s in open_stories if is_open(s, as_utc(now), params) and s.article_ids]
    known = {a for s in open_stories for a in s.article_ids}
    fresh = [a for a in _unique(new_articles) if a.id not in known]
    found: list[str] = []
    # Each language on its own, as if the others were not there: a language's stories and
    # weights never depend on what else was crawled that day.
    for language in sorted({a.language for a in fresh}):
        stories = [s for s in active if story_language(s) == language]
        articles = [a for a in fresh if a.language == language]
        vectors = [s.profile.get("vectors", {}) for s in stories]
        seen = [s.last_seen for s in stories]
        found += [stories[i].id for i in touched(articles, vectors, seen, params, cache)]
    return found


def story_language(story: StoryState) -> str:
    """Return a story's language (stories from before languages were told apart: English)."""
    return str(story.profile.get("language") or ENGLISH)


def group(
    new_articles: Sequence[ArticleFeatures],
    open_stories: Sequence[StoryState],
    *,
    now: datetime,
    members: Iterable[ArticleFeatures] = (),
    params: GroupingParams = GroupingParams(),
    display: Callable[[str], str] = str,
    topics: Sequence[Topic] = (),
) -> list[StoryState]:
    """Put every new article in exactly one story; return the given stories updated, then new ones.

    members are the articles of the open stories (at least of those touched_stories names):
    a touched story whose articles are given is re-grouped with the new articles, so its
    articles may move; articles not given stay where they are. Stories quiet for longer than
    close_after_days come back "closed"; a story whose articles all went to another comes
    back "merged", related to it. Articles already in a given story are ignored, so a re-run
    changes nothing.
    """
    now = as_utc(now)
    active = [s for s in open_stories if is_open(s, now, params)]
    known = {a for s in open_stories for a in s.article_ids}
    fresh = [a for a in _unique(new_articles) if a.id not in known]
    build = StoryBuilder(now, params, display, topics)
    if not fresh:
        return _in_order(open_stories, active, {}, [], build)
    pool = {a.id: a for a in members}
    cache: dict[str, Counts] = {}  # each article's term counts, computed once this run
    chosen = set(touched_stories(fresh, active, now=now, params=params, cache=cache))
    moving = [s for s in active if s.id in chosen and any(a in pool for a in s.article_ids)]
    old_story = {a: s.id for s in moving for a in s.article_ids if a in pool}
    nodes = sorted([*fresh, *(pool[a] for a in old_story)], key=lambda a: a.id)
    moved = {s.id for s in moving}
    background = [
        (story_language(s), s.profile.get("vectors", {})) for s in active if s.id not in moved
    ]
    window = regroup_by_language(nodes, old_story, background, params, cache)
    build = replace(build, placed=frozenset(a.id for a in nodes))
    updated, new = _apply(window, nodes, moving, {a.id for a in fresh}, build)
    log.info(
        "grouped %d articles with %d of %d open stories: %d new stories, %d developing",
        len(fresh),
        len(moving),
        len(active),
        sum(s.status == "new" for s in new),
        sum(s.status == "developing" for s in updated.values()),
    )
    return _linked_across_languages(_in_order(open_stories, active, updated, new, build))


def _linked_across_languages(stories: list[StoryState]) -> list[StoryState]:
    """Link each open non-English story to the English stories naming the same people and things.

    Both stories keep their articles: the link only shows each beside the other ("Related").
    """
    current = [s for s in stories if s.status not in ("merged", "closed")]
    pairs = cross_language_links([(s.id, story_language(s), s.profile) for s in current])
    if not pairs:
        return stories
    adding: dict[str, list[str]] = {}
    for foreign, english in pairs:
        adding.setdefault(foreign, []).append(english)
        adding.setdefault(english, []).append(foreign)
    return [
        replace(s, related=list(dict.fromkeys([*s.related, *adding[s.id]])))
        if s.id in adding and not set(adding[s.id]) <= set(s.related)
        else s
        for s in stories
    ]


def _in_order(
    open_stories: Sequence[StoryState],
    active: Sequence[StoryState],
    updated: dict[str, StoryState],
    new: Sequence[StoryState],
    build: StoryBuilder,
) -> list[StoryState]:
    """Return the given stories (updated, quiet or closed) in their order, then the new ones."""
    still_open = {s.id for s in active}

    def status(story: StoryState) -> str:
        if story.status == "merged":  # its articles live on in another story
            return "merged"
        return "quiet" if story.id in still_open else "closed"

    out = [updated.get(s.id) or build.unchanged(s, status(s)) for s in open_stories]
    return out + sorted(new, key=lambda s: (s.first_seen or build.now, s.id))


def _unique(articles: Iterable[ArticleFeatures]) -> list[ArticleFeatures]:
    """Drop repeated ids and sort by id: input order must not matter."""
    unique = {a.id: a for a in articles}
    return [unique[i] for i in sorted(unique)]


def _apply(
    window: Regrouped,
    nodes: Sequence[ArticleFeatures],
    moving: Sequence[StoryState],
    fresh: set[str],
    build: StoryBuilder,
) -> tuple[dict[str, StoryState], list[StoryState]]:
    """Turn the window's clusters back into stories: continued, new, or merged away."""
    by_id = {s.id: s for s in moving}
    ids = [
        owner or _new_id([nodes[i] for i in members], fresh, build.now)
        for owner, members in zip(window.owners, window.clusters, strict=True)
    ]
    updated: dict[str, StoryState] = {}
    new: list[StoryState] = []
    for n, members in enumerate(window.clusters):
        articles = [nodes[i] for i in members]
        related = [ids[other] for other, _ in window.related[n]]
        old = by_id.get(ids[n])
        story = build.story(ids[n], old, articles, fresh, window.vectors[n], related)
        (updated.__setitem__(story.id, story) if old else new.append(story))
    for story in moving:
        if story.id not in updated:
            updated[story.id] = _merged_away(story, window, nodes, ids, build)
    return updated, new


def _merged_away(
    story: StoryState,
    window: Regrouped,
    nodes: Sequence[ArticleFeatures],
    ids: list[str],
    build: StoryBuilder,
) -> StoryState:
    """Return a story whose articles all joined other stories, pointing at the main one."""
    where = {nodes[i].id: n for n, members in enumerate(window.clusters) for i in members}
    taken = [where[a] for a in story.article_ids if a in where]
    kept = [a for a in story.article_ids if a not in where]
    if kept:  # articles the caller did not pass stay, so the story goes on with them
        return build.unchanged(replace(story, article_ids=kept), "quiet")
    target = ids[max(set(taken), key=lambda n: (taken.count(n), -n))] if taken else None
    merged = build.unchanged(replace(story, article_ids=[]), "merged")
    merged.related = [target] if target else []
    return merged


def _new_id(articles: Sequence[ArticleFeatures], fresh: set[str], now: datetime) -> str:
    """Name a new story after its earliest new article (never yet in a story, so unused).

    A story split off from old articles only takes an id from its member list instead:
    each of those articles may already have named a story.
    """
    new = [a for a in articles if a.id in fresh]
    if new:
        return story_id(min(new, key=lambda a: (when(a, now), a.id)).id)
    return story_id("split:" + ",".join(sorted(a.id for a in articles)))
