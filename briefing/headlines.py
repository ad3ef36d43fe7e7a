"""Give a story a headline: the title of its most representative article, cleaned."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from briefing.grouping import ArticleFeatures
from briefing.labels import dominant_entities, entity_stats


@dataclass(frozen=True, slots=True)
class TitledArticle:
    """What headline choice needs of one article."""

    title: str
    outlet: str = ""
    sentences: tuple[str, ...] = ()
    entities: tuple[tuple[str, str, int], ...] = ()  # (canonical, label, count)


def choose_headline(articles: Sequence[TitledArticle]) -> str:
    """Return the headline of a story of articles (empty when none has a title)."""
    for article in articles:
        if article.title.strip():
            return " ".join(article.title.split())
    return ""


def kicker(articles: Sequence[TitledArticle], display: Callable[[str], str] = str) -> str:
    """Return the story's entity kicker ("DPRK–Russia"): its one or two dominant entities."""
    features = [
        ArticleFeatures(str(n), a.outlet, a.title, "", None, a.entities)
        for n, a in enumerate(articles)
    ]
    return "–".join(display(name) for name in dominant_entities(entity_stats(features)))
