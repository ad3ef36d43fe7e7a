"""Stories as other tools read them: headline, kicker and summary as a briefing prints them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from briefing.briefs.writeups import ArticleText, write_ups
from briefing.store.models import Article, ArticleNlp, Story, StoryArticle
from briefing.store.story_queries import iso, story_language, story_members


def export_stories(session: Session) -> list[dict[str, Any]]:
    """Return every story as {id, headline, label, status, language, first_seen, last_seen,
    topics, articles, summary}: the headline and summary as a briefing would print them."""
    members = story_members(session)
    stories = list(session.scalars(select(Story).order_by(Story.first_seen, Story.id)))
    written = write_ups(_story_texts(session), {story.id: story.label for story in stories})
    return [
        {
            "id": story.id,
            "headline": written[story.id].headline if story.id in written else story.label,
            "label": written[story.id].kicker if story.id in written else story.label,
            "status": story.status,
            "language": story_language(story),
            "first_seen": iso(story.first_seen),
            "last_seen": iso(story.last_seen),
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
