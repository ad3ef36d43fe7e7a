"""`briefing group`: enrich the articles not yet enriched, then group the new ones into stories.

This stage is the only one that moves NLP and story state between the store and the pure
functions of briefing.nlp.enrich and briefing.stories.tracking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from briefing.config import Config
from briefing.errors import LockHeld
from briefing.nlp.enrich import Enricher, Enrichment, enrich_each
from briefing.nlp.entities import display_name, load_alias_table
from briefing.nlp.languages import is_english, language_code
from briefing.stages.decisions import apply_to_grouping
from briefing.store.engine import Store
from briefing.store.locking import ENRICH_LOCK, store_lock
from briefing.store.models import Article, ArticleNlp, Story, StoryArticle, StoryLink, utcnow
from briefing.stories.topics import Topic
from briefing.stories.tracking import (
    ArticleFeatures,
    GroupingParams,
    StoryState,
    group,
    touched_stories,
)

log = logging.getLogger(__name__)
ENRICH_BATCH = 256


@dataclass(frozen=True, slots=True)
class EnrichFailure:
    """An article that enrichment could not read: skipped by grouping, kept in the store."""

    article_id: str
    url: str
    error: str


@dataclass(slots=True)
class EnrichReport:
    enriched: int = 0
    failures: list[EnrichFailure] = field(default_factory=list)


@dataclass(slots=True)
class GroupReport:
    enriched: int = 0
    grouped: int = 0
    new_stories: int = 0
    developing: int = 0
    open_stories: int = 0
    failures: list[EnrichFailure] = field(default_factory=list)

    def describe_failures(self, shown: int = 5) -> list[str]:
        """Return one line per failed article (the first few), for the operator."""
        return failure_lines(self.failures, shown)


def failure_lines(failures: Sequence[EnrichFailure], shown: int = 5) -> list[str]:
    """Return one line per article that could not be enriched, the first shown of them."""
    lines = [f"not enriched: {f.url} ({f.article_id}): {f.error}" for f in failures]
    if len(lines) > shown:
        lines = [*lines[:shown], f"… and {len(lines) - shown} more (see the log)"]
    return lines


def _pending_enrichment(session: Session, limit: int) -> list[Article]:
    query = (
        select(Article)
        .outerjoin(ArticleNlp, ArticleNlp.article_id == Article.id)
        .where(ArticleNlp.article_id.is_(None))
        .order_by(Article.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def enrich_pending(
    store: Store, config: Config, enricher: Enricher | None = None, *, limit: int | None = None
) -> EnrichReport:
    """Enrich every article without NLP results; re-running finds nothing left to do.

    With limit, stop once at least that many are done. The store's enrichment lock is held
    throughout (waiting for it), so an enrichment in step with a crawl
    (briefing.stages.enrich_along) and this one never parse the same articles at once.

    An article that cannot be enriched fails alone: its error is stored as its NLP record
    (so no later run trips on it again), it is marked grouped so that grouping skips it, and
    it is reported; every other article is enriched and the run carries on.
    """
    with enrichment_lock(store):
        return _enrich_pending(store, config, enricher, limit)


@contextmanager
def enrichment_lock(store: Store) -> Iterator[None]:
    """Hold the store's enrichment lock for the block, waiting for it as long as it takes."""
    lock = store_lock(store.url, ENRICH_LOCK)
    try:
        lock.acquire(timeout=0)
    except LockHeld:
        log.info("waiting for another enrichment of this store to finish its batch")
        lock.acquire(timeout=None, poll=0.2)
    try:
        yield
    finally:
        lock.release()


def _enrich_pending(
    store: Store, config: Config, enricher: Enricher | None, limit: int | None
) -> EnrichReport:
    report = EnrichReport()
    others: dict[str, Enricher] = {}  # a pipeline per non-English language, loaded when met
    while limit is None or report.enriched + len(report.failures) < limit:
        with store.session() as session:
            batch = _pending_enrichment(session, ENRICH_BATCH)
        if not batch:
            return report
        if enricher is None:
            enricher = Enricher(
                config.nlp.model,
                aliases=config.nlp.aliases or None,
                n_process=min(config.nlp.processes, 2 if len(batch) >= 64 else 1),
                batch_size=config.nlp.batch_size,
            )
        results = _enrich_by_language(batch, enricher, others, config)
        with store.session() as session:
            for article, result in zip(batch, results, strict=True):
                session.merge(
                    ArticleNlp(article_id=article.id, model=result.model, data=result.to_dict())
                )
                if result.error:
                    log.warning(
                        "article %s (%s) not enriched: %s", article.id, article.url, result.error
                    )
                    report.failures.append(EnrichFailure(article.id, article.url, result.error))
                    session.execute(
                        update(Article).where(Article.id == article.id).values(grouped_at=utcnow())
                    )
                else:
                    report.enriched += 1
            report.enriched -= _drop_stale(session, batch)
        log.info("enriched %d articles", report.enriched)
    return report


def _drop_stale(session: Session, parsed: Sequence[Article]) -> int:
    """Drop the results of articles whose text changed while they were parsed; return how many.

    A crawl running alongside may replace a wire copy's text with its original's (and
    delete the copy's parse) between the read and this write. Checked after the writes, in
    their transaction: on SQLite the write lock is held by then, so nothing changes after.
    """
    session.flush()
    read = {a.id: (a.title, a.text) for a in parsed}
    now = session.execute(
        select(Article.id, Article.title, Article.text).where(Article.id.in_(list(read)))
    )
    stale = [ref for ref, title, text in now if read[ref] != (title, text)]
    if stale:
        log.info("%d articles changed while being parsed; they stay pending", len(stale))
        session.execute(delete(ArticleNlp).where(ArticleNlp.article_id.in_(stale)))
    return len(stale)


def _enrich_by_language(
    batch: Sequence[Article], english: Enricher, others: dict[str, Enricher], config: Config
) -> list[Enrichment]:
    """Enrich each language's articles with its own pipeline; return results in batch order.

    English articles go through the English enricher in one run, exactly as before.
    """
    by_language: dict[str, list[int]] = {}
    for index, article in enumerate(batch):
        by_language.setdefault(language_code(article.language), []).append(index)
    results: list[Enrichment | None] = [None] * len(batch)
    for language, indexes in by_language.items():
        enricher = english if is_english(language) else others.get(language)
        if enricher is None:
            enricher = others[language] = Enricher(
                aliases=config.nlp.aliases or None,
                batch_size=config.nlp.batch_size,
                language=language,
            )
        chosen = [(batch[i].title, batch[i].text) for i in indexes]
        for index, result in zip(indexes, enrich_each(enricher, chosen), strict=True):
            results[index] = result
    return [result for result in results if result is not None]


def features(article: Article, enrichment: Enrichment) -> ArticleFeatures:
    """Return what grouping needs of one stored article."""
    return ArticleFeatures(
        id=article.id,
        source=article.source,
        title=article.title,
        text=article.text,
        published_at=article.published_at,
        entities=tuple((e.text, e.label, e.count) for e in enrichment.entities),
        key_phrases=tuple(enrichment.key_phrases),
        language=language_code(article.language),
    )


def _ungrouped(session: Session, until: datetime) -> list[ArticleFeatures]:
    query = (
        select(Article, ArticleNlp)
        .join(ArticleNlp, ArticleNlp.article_id == Article.id)
        .where(Article.grouped_at.is_(None))
        .where(
            or_(
                Article.published_at < until,
                Article.published_at.is_(None) & (Article.fetched_at < until),
            )
        )
        .order_by(Article.published_at, Article.id)
    )
    return [features(a, Enrichment.from_dict(n.data)) for a, n in session.execute(query)]


def _members(session: Session, article_ids: Sequence[str]) -> list[ArticleFeatures]:
    """Read the grouping features of already grouped articles, in chunks of ids."""
    found = []
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        query = (
            select(Article, ArticleNlp)
            .join(ArticleNlp, ArticleNlp.article_id == Article.id)
            .where(Article.id.in_(chunk))
        )
        found += [features(a, Enrichment.from_dict(n.data)) for a, n in session.execute(query)]
    return found


def _open_stories(session: Session, now: datetime, params: GroupingParams) -> list[StoryState]:
    since = now - timedelta(days=params.close_after_days)
    rows = list(
        session.scalars(
            select(Story)
            .where(or_(Story.last_seen >= since, Story.last_seen.is_(None)))
            .where(Story.status != "merged")
        )
    )
    members: dict[str, list[str]] = {row.id: [] for row in rows}
    links: dict[str, list[str]] = {row.id: [] for row in rows}
    ids = list(members)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for story_id, article_id in session.execute(
            select(StoryArticle.story_id, StoryArticle.article_id)
            .where(StoryArticle.story_id.in_(chunk))
            .order_by(StoryArticle.added_at, StoryArticle.article_id)
        ):
            members[story_id].append(article_id)
        for story_id, related_id in session.execute(
            select(StoryLink.story_id, StoryLink.related_id)
            .where(StoryLink.story_id.in_(chunk))
            .order_by(StoryLink.created_at, StoryLink.related_id)
        ):
            links[story_id].append(related_id)
    return [
        StoryState(
            id=row.id,
            label=row.label,
            article_ids=members[row.id],
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            status=row.status,
            topics=list(row.topics),
            profile=dict(row.profile),
            related=links[row.id],
        )
        for row in rows
    ]


def _save(
    session: Session,
    stories: Iterable[StoryState],
    before: Sequence[StoryState],
    new_ids: set[str],
    now: datetime,
) -> None:
    """Write changed stories, moved or new memberships, and new related links."""
    old = {s.id: s for s in before}
    held = {a: s.id for s in before for a in s.article_ids}
    links: list[StoryLink] = []
    for state in stories:
        previous = old.get(state.id)
        if previous is not None and _same(previous, state):
            continue
        row = session.get(Story, state.id) or Story(id=state.id)
        row.label, row.status, row.topics = state.label, state.status, list(state.topics)
        row.first_seen, row.last_seen = state.first_seen, state.last_seen
        row.profile, row.updated_at = dict(state.profile), now
        session.add(row)
        for article_id in state.article_ids:
            if held.get(article_id) != state.id:
                session.merge(StoryArticle(article_id=article_id, story_id=state.id, added_at=now))
        known = set(previous.related) if previous is not None else set()
        links += [
            StoryLink(story_id=state.id, related_id=related, created_at=now)
            for related in state.related
            if related not in known
        ]
    session.flush()  # linked stories first: the links refer to them
    for link in links:
        session.merge(link)
    for article_id in new_ids:
        article = session.get(Article, article_id)
        if article is not None:
            article.grouped_at = now


def _same(before: StoryState, after: StoryState) -> bool:
    """Tell whether a story came back from grouping exactly as it was read."""
    return (
        before.status == after.status
        and before.label == after.label
        and before.article_ids == after.article_ids
        and before.related == after.related
        and before.profile == after.profile
        and before.topics == after.topics
    )


def topics_from(config: Config) -> Sequence[Topic]:
    return [
        Topic(name=t.name, entities=list(t.entities), keywords=list(t.keywords))
        for t in config.topics
    ]


def group_pending(
    store: Store,
    config: Config,
    *,
    now: datetime | None = None,
    enricher: Enricher | None = None,
    params: GroupingParams | None = None,
) -> GroupReport:
    """Enrich, then group the articles published before now that no story holds yet."""
    now = now or utcnow()
    params = params or GroupingParams()
    enrichment = enrich_pending(store, config, enricher)
    report = GroupReport(enriched=enrichment.enriched, failures=enrichment.failures)
    with store.session() as session:
        new_articles = _ungrouped(session, now)
        open_stories = _open_stories(session, now, params)
    if not new_articles:
        return report
    display = load_alias_table().display
    chosen = set(touched_stories(new_articles, open_stories, now=now, params=params))
    wanted = [a for s in open_stories if s.id in chosen for a in s.article_ids]
    with store.session() as session:
        members = _members(session, wanted)
    updated = group(
        new_articles,
        open_stories,
        now=now,
        members=members,
        params=params,
        display=lambda name: display_name(name, display),
        topics=topics_from(config),
    )
    with store.session() as session:
        _save(session, updated, open_stories, {a.id for a in new_articles}, now)
    apply_to_grouping(store, now)  # the editors' merges and moves outlast any regrouping
    report.grouped = len(new_articles)
    report.new_stories = sum(1 for s in updated if s.status == "new")
    report.developing = sum(1 for s in updated if s.status == "developing")
    report.open_stories = len(updated)
    return report
