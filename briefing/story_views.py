"""Read stories back out of the store, for people (`briefing stories`) and tools (export)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from briefing.models import Article, ArticleNlp, Story, StoryArticle
from briefing.writeups import ArticleText, write_ups


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def story_members(session: Session) -> dict[str, list[str]]:
    """Return story id -> its article ids, oldest article first."""
    members: dict[str, list[str]] = defaultdict(list)
    query = (
        select(StoryArticle.story_id, StoryArticle.article_id)
        .join(Article, Article.id == StoryArticle.article_id)
        .order_by(Article.published_at, Article.id)
    )
    for story_id, article_id in session.execute(query):
        members[story_id].append(article_id)
    return members


def export_stories(session: Session) -> list[dict[str, Any]]:
    """Return every story as {id, headline, label, status, first_seen, last_seen, topics,
    articles, summary}: the headline and summary as a briefing would print them."""
    members = story_members(session)
    stories = list(session.scalars(select(Story).order_by(Story.first_seen, Story.id)))
    written = write_ups(_story_texts(session), {story.id: story.label for story in stories})
    return [
        {
            "id": story.id,
            "headline": written[story.id].headline if story.id in written else story.label,
            "label": written[story.id].kicker if story.id in written else story.label,
            "status": story.status,
            "first_seen": _iso(story.first_seen),
            "last_seen": _iso(story.last_seen),
            "topics": list(story.topics),
            "articles": members.get(story.id, []),
            "summary": list(written[story.id].summary) if story.id in written else [],
        }
        for story in stories
    ]


def _story_texts(session: Session) -> dict[str, list[ArticleText]]:
    """Return story id -> its articles' titles, outlets, sentences and entities, oldest first."""
    texts: dict[str, list[ArticleText]] = defaultdict(list)
    query = (
        select(StoryArticle.story_id, Article.title, Article.source, ArticleNlp.data)
        .join(Article, Article.id == StoryArticle.article_id)
        .outerjoin(ArticleNlp, ArticleNlp.article_id == Article.id)
        .order_by(Article.published_at, Article.id)
    )
    for story_id, title, outlet, data in session.execute(query):
        texts[story_id].append(ArticleText.from_nlp(title, outlet, data or {}))
    return texts


def story_rows(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    """Return the most recently active stories with their size and outlets, for a table."""
    sizes = (
        select(
            StoryArticle.story_id,
            func.count().label("articles"),
            func.count(distinct(Article.source)).label("outlets"),
        )
        .join(Article, Article.id == StoryArticle.article_id)
        .group_by(StoryArticle.story_id)
        .subquery()
    )
    query = (
        select(Story, sizes.c.articles, sizes.c.outlets)
        .join(sizes, sizes.c.story_id == Story.id)
        .order_by(Story.last_seen.desc().nulls_last(), Story.id)
        .limit(limit)
    )
    return [
        {
            "id": story.id,
            "label": story.label,
            "status": story.status,
            "articles": articles,
            "outlets": outlets,
            "last_seen": story.last_seen,
            "topics": list(story.topics),
        }
        for story, articles, outlets in session.execute(query)
    ]
