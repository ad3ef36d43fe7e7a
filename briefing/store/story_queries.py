"""Read stories back out of the store, for people (`briefing stories`) and tools (export)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from briefing.store.models import Article, Story, StoryArticle


def iso(value: Any) -> str | None:
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


def story_language(story: Story) -> str:
    """Return a story's language code (stories grouped before languages were told apart: en)."""
    return str((story.profile or {}).get("language") or "en")


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
            "language": story_language(story),
            "articles": articles,
            "outlets": outlets,
            "last_seen": story.last_seen,
            "topics": list(story.topics),
        }
        for story, articles, outlets in session.execute(query)
    ]
