"""Group articles into stories that continue across days: pure functions, no store, no I/O.

Each run builds one k-nearest-neighbour graph over the new articles and the open stories'
profiles (word, bigram and entity TF-IDF similarities, decayed by publication time) and cuts
it into Louvain communities. Articles in a community with an open story join that story;
the others start new stories. A profile is the mean of its articles' vectors, so an article's
similarity to it is its average similarity to the story's articles.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import sparse

from briefing.stories.clustering import (
    BLOCKS,
    ArticleFeatures,
    GroupingParams,
    article_counts,
    as_utc,
    block_weights,
    communities,
    day_numbers,
    knn_edges,
    merged_vector,
    row_terms,
    stacked,
    summed_rows,
    term_matrix,
    tfidf,
)
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
    story_label,
)
from briefing.stories.topics import Topic, matched, topic_hits

__all__ = [
    "ArticleFeatures",
    "GroupingParams",
    "Story",
    "Topic",
    "group",
    "is_open",
    "story_id",
    "story_label",
]

log = logging.getLogger(__name__)

PROFILE_VERSION = 1
PROFILE_MEMORY = 20  # the profile weighs old articles as at most this many, so it can drift
PROFILE_NAMES = 15  # entities and phrases remembered for labelling


@dataclass(slots=True)
class Story:
    """A group of articles about one event, as it stands after a grouping run."""

    id: str
    label: str
    article_ids: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    status: str = "new"  # new | developing | quiet | closed
    topics: list[str] = field(default_factory=list)
    profile: dict = field(default_factory=dict)  # bounded, JSON-serialisable matching state


def story_id(first_article_id: str) -> str:
    """Derive a story id from its first article's id (article ids are never reused)."""
    return "s-" + hashlib.sha1(first_article_id.encode()).hexdigest()[:16]


def is_open(story: Story, now: datetime, params: GroupingParams = GroupingParams()) -> bool:
    """Tell whether a story may still gain articles: it was active within close_after_days."""
    last = story.last_seen or story.first_seen
    return last is None or as_utc(now) - as_utc(last) <= timedelta(days=params.close_after_days)


def group(
    new_articles: Sequence[ArticleFeatures],
    open_stories: Sequence[Story],
    *,
    now: datetime,
    params: GroupingParams = GroupingParams(),
    display: Callable[[str], str] = str,
    topics: Sequence[Topic] = (),
) -> list[Story]:
    """Put every new article in exactly one story; return the given stories updated, then new ones.

    Stories quiet for longer than close_after_days come back with status "closed" and take no
    articles. Articles already in a given story are ignored, so a re-run changes nothing.
    """
    now = as_utc(now)
    active = [s for s in open_stories if is_open(s, now, params)]
    known = {article_id for s in open_stories for article_id in s.article_ids}
    unique = {a.id: a for a in new_articles if a.id not in known}
    articles = [unique[i] for i in sorted(unique)]  # input order must not matter
    joins, fresh, added = _assign(articles, active, now, params) if articles else ({}, [], {})
    update = _Update(now, params, display, topics)
    position = {id(story): index for index, story in enumerate(active)}
    out = []
    for story in open_stories:
        index = position.get(id(story))
        if index is None:
            out.append(_with_status(story, "closed"))
        elif index in joins:
            members = [articles[i] for i in joins[index]]
            out.append(update.grow(story, members, added[("join", index)]))
        else:
            out.append(_with_status(story, "quiet"))
    new = [
        update.start([articles[i] for i in members], added[("new", n)])
        for n, members in enumerate(fresh)
    ]
    out.extend(sorted(new, key=lambda s: (s.first_seen or now, s.id)))
    log.info(
        "grouped %d articles: %d stories grew, %d new, %d closed",
        len(articles),
        len(joins),
        len(new),
        len(open_stories) - len(active),
    )
    return out


def _assign(
    articles: Sequence[ArticleFeatures],
    active: Sequence[Story],
    now: datetime,
    params: GroupingParams,
) -> tuple[dict[int, list[int]], list[list[int]], dict[tuple[str, int], dict]]:
    """Send each new article to an open story or a new group.

    Returns joins (open story index -> article indices), new groups, and per group the
    summed article vectors of each block, for the profiles.
    """
    blocks, profiles, terms = _matrices(articles, active, params)
    weights = block_weights(params)
    article_rows, story_rows = stacked(blocks, weights), stacked(profiles, weights)
    days = day_numbers([a.published_at for a in articles])
    story_days = day_numbers([s.last_seen for s in active])
    edges = knn_edges(article_rows, days, params, story_rows, story_days)
    n_articles = len(articles)
    joins: dict[int, list[int]] = {}
    fresh: list[list[int]] = []
    for members in communities(n_articles + len(active), edges, params):
        own = [i for i in members if i < n_articles]
        held = [i - n_articles for i in members if i >= n_articles]
        if own and not held:
            fresh.append(own)
        elif own:
            # Open stories never merge: each article joins the community's story nearest to it.
            sims = (article_rows[own] @ story_rows[held].T).toarray()
            for article, best in zip(own, sims.argmax(axis=1), strict=True):
                joins.setdefault(held[int(best)], []).append(article)
    keys = [("join", i) for i in joins] + [("new", n) for n in range(len(fresh))]
    return joins, fresh, _group_vectors(blocks, terms, keys, [*joins.values(), *fresh])


def _group_vectors(
    blocks: dict[str, sparse.csr_matrix],
    terms: dict[str, list[str]],
    keys: Sequence[tuple[str, int]],
    groups: Sequence[Sequence[int]],
) -> dict[tuple[str, int], dict]:
    """Sum each group's article rows, per block, as term -> weight."""
    added: dict[tuple[str, int], dict] = {key: {} for key in keys}
    for block in BLOCKS:
        summed = summed_rows(blocks[block], groups)
        for row, key in enumerate(keys):
            added[key][block] = row_terms(summed, row, terms[block])
    return added


def _matrices(
    articles: Sequence[ArticleFeatures], stories: Sequence[Story], params: GroupingParams
) -> tuple[dict[str, sparse.csr_matrix], dict[str, sparse.csr_matrix], dict[str, list[str]]]:
    """Build per-block TF-IDF rows of articles and profile rows of stories over one vocabulary."""
    counts = [article_counts(a, params) for a in articles]
    blocks, profiles, terms = {}, {}, {}
    for block in BLOCKS:
        vocab: dict[str, int] = {}
        docs = term_matrix([c[block] for c in counts], vocab)
        profile = term_matrix([s.profile.get("vectors", {}).get(block, {}) for s in stories], vocab)
        docs.resize((docs.shape[0], len(vocab)))
        profile.resize((profile.shape[0], len(vocab)))
        # Each open story counts as one document, so a small day still has a background IDF.
        other_df = np.bincount(profile.indices, minlength=len(vocab))
        blocks[block] = tfidf(docs, other_df, len(stories))
        profiles[block] = profile
        terms[block] = list(vocab)
    return blocks, profiles, terms


def _when(article: ArticleFeatures, now: datetime) -> datetime:
    """Return when an article appeared: its publication time, else the run's time."""
    return as_utc(article.published_at) if article.published_at else now


def _with_status(story: Story, status: str) -> Story:
    """Copy a story with a new status."""
    return replace(
        story,
        status=status,
        article_ids=list(story.article_ids),
        topics=list(story.topics),
        profile=dict(story.profile),
    )


@dataclass(frozen=True, slots=True)
class _Update:
    """Build new and grown stories with the run's settings."""

    now: datetime
    params: GroupingParams
    display: Callable[[str], str]
    topics: Sequence[Topic]

    def start(self, articles: Sequence[ArticleFeatures], added: dict) -> Story:
        """Start a story whose id comes from its earliest article."""
        ordered = sorted(articles, key=lambda a: (_when(a, self.now), a.id))
        empty = Story(story_id(ordered[0].id), "", [], None, None, profile={})
        story = self.grow(empty, ordered, added)
        story.status = "new"
        if not story.label:
            story.label = short_title(ordered[0].title) or ordered[0].id
        return story

    def grow(self, story: Story, articles: Sequence[ArticleFeatures], added: dict) -> Story:
        """Return the story with new articles, refreshed profile, label, times and topics."""
        ordered = sorted(articles, key=lambda a: (_when(a, self.now), a.id))
        times = [_when(a, self.now) for a in ordered]
        old = story.profile if story.profile.get("version") == PROFILE_VERSION else {}
        profile = self.profile(old, len(story.article_ids), ordered, added)
        article_ids = [*story.article_ids, *(a.id for a in ordered)]
        shown = list(old.get("label_entities", []))
        label = story.label
        if not label or not label_still_fits(shown, profile["entities"]):
            shown = dominant_entities(profile["entities"])
            phrase = best_phrase(profile["phrases"], shown)
            label = compose_label(shown, phrase, self.display, fallback=story.label)
        profile["label_entities"] = shown
        topics = (
            matched(profile["topic_hits"], len(article_ids), self.topics)
            if self.topics
            else list(story.topics)
        )
        return Story(
            id=story.id,
            label=label,
            article_ids=article_ids,
            first_seen=min(as_utc(t) for t in (story.first_seen, times[0]) if t is not None),
            last_seen=max(as_utc(t) for t in (story.last_seen, times[-1]) if t is not None),
            status="developing",
            topics=topics,
            profile=profile,
        )

    def profile(
        self, old: dict, n_old: int, articles: Sequence[ArticleFeatures], added: dict
    ) -> dict[str, Any]:
        """Fold new articles into a profile: mean vectors, entity and phrase counts, topic hits."""
        hits = dict(old.get("topic_hits", {}))
        for name, count in topic_hits(articles, self.topics).items():
            hits[name] = hits.get(name, 0) + count
        vectors = old.get("vectors", {})
        return {
            "version": PROFILE_VERSION,
            "vectors": {
                b: merged_vector(
                    vectors.get(b, {}),
                    min(n_old, PROFILE_MEMORY),
                    added.get(b, {}),
                    len(articles),
                    self.params.profile_terms,
                )
                for b in BLOCKS
            },
            "entities": merged_entity_stats(
                old.get("entities", {}), entity_stats(articles), PROFILE_NAMES
            ),
            "phrases": merged_phrase_stats(
                old.get("phrases", {}), phrase_stats(articles), PROFILE_NAMES
            ),
            "topic_hits": hits,
        }
