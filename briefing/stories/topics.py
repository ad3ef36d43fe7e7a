"""Tag stories with the watch topics a team follows.

An article mentions a topic when it names every one of the topic's entities (in its entity list,
case-insensitive, or as a whole phrase in its title or text) and, if the topic lists keywords,
at least one keyword starts a word of its title or text ("missile" also finds "missiles").
A story matches a topic when at least half of its articles (and at least one) mention it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from briefing.stories.clustering import ArticleFeatures

MIN_SHARE = 0.5


@dataclass(slots=True)
class Topic:
    """A watch topic: a name, the entities it is about and optional keywords."""

    name: str
    entities: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


@lru_cache(maxsize=1024)
def _phrase_pattern(phrase: str, prefix: bool) -> re.Pattern[str]:
    """Compile a case-insensitive whole-phrase (or word-prefix) pattern."""
    body = r"\s+".join(re.escape(part) for part in phrase.split())
    end = "" if prefix else r"(?!\w)"
    return re.compile(rf"(?<!\w){body}{end}", re.IGNORECASE)


def article_mentions(article: ArticleFeatures, topic: Topic) -> bool:
    """Tell whether one article mentions a topic (see the module docstring)."""
    if not topic.entities and not topic.keywords:
        return False
    names = {canonical.lower() for canonical, _label, _count in article.entities}
    text = f"{article.title}\n{article.text}"
    for entity in topic.entities:
        if entity.lower() not in names and not _phrase_pattern(entity, False).search(text):
            return False
    return not topic.keywords or any(
        _phrase_pattern(keyword, True).search(text) for keyword in topic.keywords
    )


def topic_hits(articles: Iterable[ArticleFeatures], topics: Sequence[Topic]) -> dict[str, int]:
    """Count, per topic name, the articles that mention it."""
    listed = list(articles)
    return {t.name: sum(article_mentions(a, t) for a in listed) for t in topics}


def matched(hits: dict[str, int], n_articles: int, topics: Sequence[Topic]) -> list[str]:
    """Return the topic names mentioned by enough of a story's articles, in topic order."""
    return [t.name for t in topics if hits.get(t.name, 0) >= max(1.0, MIN_SHARE * n_articles)]
