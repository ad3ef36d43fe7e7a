"""Write stories up as a briefing prints them: headline, kicker and summary sentences."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from briefing.briefs.headlines import TitledArticle, choose_headline, kicker
from briefing.briefs.summarise import SentenceVectoriser, story_summary


@dataclass(frozen=True, slots=True)
class ArticleText:
    """What a write-up needs of one article: title, outlet, sentences and entities."""

    title: str
    outlet: str
    sentences: tuple[str, ...] = ()
    entities: tuple[tuple[str, str, int], ...] = ()  # (canonical, label, count)

    @classmethod
    def from_nlp(cls, title: str, outlet: str, data: Mapping[str, Any]) -> ArticleText:
        """Build from an article's title, outlet and stored enrichment (to_dict form)."""
        return cls(
            title or "",
            outlet or "",
            tuple(data.get("sentences", [])),
            tuple(
                (str(e["text"]), str(e["label"]), int(e.get("count", 1)))
                for e in data.get("entities", [])
            ),
        )

    def titled(self) -> TitledArticle:
        """Return the part headline choice reads."""
        return TitledArticle(self.title, self.outlet, self.sentences, self.entities)


@dataclass(frozen=True, slots=True)
class WriteUp:
    """A story's headline, its entity kicker and its summary sentences."""

    headline: str
    kicker: str
    summary: tuple[str, ...]


def write_ups(
    stories: Mapping[str, Sequence[ArticleText]],
    labels: Mapping[str, str] | None = None,
    display: Callable[[str], str] = str,
) -> dict[str, WriteUp]:
    """Write up every story, with one sentence vectoriser over all of them (as on one day)."""
    vectoriser = SentenceVectoriser(
        text for articles in stories.values() for a in articles for text in (a.title, *a.sentences)
    )
    out = {}
    for story_id, articles in stories.items():
        titled = [a.titled() for a in articles]
        label = (labels or {}).get(story_id, "")
        out[story_id] = WriteUp(
            headline=choose_headline(titled) or label,
            kicker=kicker(titled, display) or label,
            summary=story_summary(
                [a.sentences for a in articles],
                [a.title for a in articles],
                vectoriser,
                people=full_names(a.entities for a in articles),
            ),
        )
    return out


def full_names(entities: Iterable[Iterable[tuple[str, str, int]]]) -> list[str]:
    """Return the full names of the people named in some articles' entities."""
    names = {name for article in entities for name, label, _ in article if label == "PERSON"}
    return sorted(name for name in names if " " in name)
