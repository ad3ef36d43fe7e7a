"""`briefing group`: enrich the articles not yet enriched, then group the new ones into stories.

This stage is the only one that moves NLP and story state between the store and the pure
functions of briefing.nlp.enrich and briefing.stories.tracking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from briefing.config import Config
from briefing.nlp.enrich import Enricher, Enrichment
from briefing.nlp.entities import display_name, load_alias_table
from briefing.stages.decisions import apply_to_grouping
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp, Story, StoryArticle, utcnow
from briefing.stories.topics import Topic
from briefing.stories.tracking import ArticleFeatures, GroupingParams, group
from briefing.stories.tracking import Story as StoryState

log = logging.getLogger(__name__)
ENRICH_BATCH = 256


@dataclass(slots=True)
class GroupReport:
    enriched: int = 0
    grouped: int = 0
    new_stories: int = 0
    developing: int = 0
    open_stories: int = 0


def _pending_enrichment(session: Session, limit: int) -> list[Article]:
    query = (
        select(Article)
        .outerjoin(ArticleNlp, ArticleNlp.article_id == Article.id)
        .where(ArticleNlp.article_id.is_(None))
        .order_by(Article.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def enrich_pending(store: Store, config: Config, enricher: Enricher | None = None) -> int:
    """Enrich every article without NLP results; re-running finds nothing left to do."""
    done = 0
    while True:
        with store.session() as session:
            batch = _pending_enrichment(session, ENRICH_BATCH)
        if not batch:
            return done
        if enricher is None:
            enricher = Enricher(
                config.nlp.model,
                aliases=config.nlp.aliases or None,
                n_process=min(config.nlp.processes, 2 if len(batch) >= 64 else 1),
                batch_size=config.nlp.batch_size,
            )
        results = list(enricher.enrich_many((a.title, a.text) for a in batch))
        with store.session() as session:
            for article, result in zip(batch, results, strict=True):
                session.merge(
                    ArticleNlp(article_id=article.id, model=result.model, data=result.to_dict())
                )
        done += len(batch)
        log.info("enriched %d articles", done)


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


def _open_stories(session: Session, now: datetime, params: GroupingParams) -> list[StoryState]:
    since = now - timedelta(days=params.close_after_days)
    rows = session.scalars(
        select(Story).where(or_(Story.last_seen >= since, Story.last_seen.is_(None)))
    )
    stories = []
    for row in rows:
        ids = session.scalars(
            select(StoryArticle.article_id).where(StoryArticle.story_id == row.id)
        )
        stories.append(
            StoryState(
                id=row.id,
                label=row.label,
                article_ids=list(ids),
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                status=row.status,
                topics=list(row.topics),
                profile=dict(row.profile),
            )
        )
    return stories


def _save(
    session: Session, stories: Iterable[StoryState], new_ids: set[str], now: datetime
) -> None:
    for state in stories:
        row = session.get(Story, state.id) or Story(id=state.id)
        row.label, row.status, row.topics = state.label, state.status, list(state.topics)
        row.first_seen, row.last_seen = state.first_seen, state.last_seen
        row.profile, row.updated_at = dict(state.profile), now
        session.add(row)
        for article_id in state.article_ids:
            if article_id in new_ids:
                session.merge(StoryArticle(article_id=article_id, story_id=state.id, added_at=now))
    for article_id in new_ids:
        article = session.get(Article, article_id)
        if article is not None:
            article.grouped_at = now


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
    report = GroupReport(enriched=enrich_pending(store, config, enricher))
    with store.session() as session:
        new_articles = _ungrouped(session, now)
        open_stories = _open_stories(session, now, params)
    if not new_articles:
        return report
    display = load_alias_table().display
    updated = group(
        new_articles,
        open_stories,
        now=now,
        params=params,
        display=lambda name: display_name(name, display),
        topics=topics_from(config),
    )
    with store.session() as session:
        _save(session, updated, {a.id for a in new_articles}, now)
    apply_to_grouping(store, now)  # the editors' merges and moves outlast any regrouping
    report.grouped = len(new_articles)
    report.new_stories = sum(1 for s in updated if s.status == "new")
    report.developing = sum(1 for s in updated if s.status == "developing")
    report.open_stories = len(updated)
    return report
