"""Give a story a headline, as an editor would: the title of its most representative article."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from briefing.stories.clustering import STOP_WORDS, ArticleFeatures
from briefing.stories.labels import dominant_entities, entity_stats

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# "… - The Daily Site", "… | Outlet": a site name after the title, a few words long.
_SITE_SUFFIX = re.compile(r"\s+(?:[-|–—:·•]|::)\s+([^-|–—:·•]{2,40})$")
_KICKER = re.compile(
    r"^(?:exclusive|breaking(?: news)?|update[ds]?|watch|video|photos?|opinion|analysis|"
    r"live|explainer|editorial|comment|review|revealed|pictured)\s*[:|-]\s+",
    re.IGNORECASE,
)
_LIVE = re.compile(
    r"\b(?:live(?: updates| blog|:)|as it happened|the latest:|minute[- ]by[- ]minute)",
    re.IGNORECASE,
)
_LIST = re.compile(r"^(?:top\s+)?\d+\s+(?:\w+\s+){0,3}(?:things|ways|reasons|photos|pictures|facts|"
                   r"tips|moments|questions|signs|times|of the)\b", re.IGNORECASE)  # fmt: skip
_FURNITURE = ("tweet with a location", "article excerpt", "skip to", "sign in", "404", "page not")
MIN_HEADLINE_WORDS = 4
MAX_HEADLINE_WORDS = 25


@dataclass(frozen=True, slots=True)
class TitledArticle:
    """What headline choice needs of one article (articles come oldest first)."""

    title: str
    outlet: str = ""
    sentences: tuple[str, ...] = ()
    entities: tuple[tuple[str, str, int], ...] = ()  # (canonical, label, count)


def clean_title(title: str, outlet: str = "") -> str:
    """Strip site names and kickers from a title: "EXCLUSIVE: X - Site" -> "X"."""
    text = " ".join(title.split())
    for _ in range(2):
        suffix = _SITE_SUFFIX.search(text)
        if suffix and (_same_name(suffix.group(1), outlet) or len(suffix.group(1).split()) <= 4):
            head = text[: suffix.start()]
            if len(head.split()) >= MIN_HEADLINE_WORDS:
                text = head
        text = _KICKER.sub("", text)
    return text.strip(" -|–—:")


def _same_name(first: str, second: str) -> bool:
    """Tell whether two outlet names are the same, spacing and case aside."""
    key = re.sub(r"\W+", "", first).lower()
    return bool(key) and key == re.sub(r"\W+", "", second).lower()


def headline_like(title: str) -> bool:
    """Tell whether a cleaned title can serve as a headline: not a question, list, live blog,
    page furniture or a label-like fragment."""
    words = title.split()
    lowered = title.lower()
    if not MIN_HEADLINE_WORDS <= len(words) <= MAX_HEADLINE_WORDS or title.endswith("?"):
        return False
    if _LIVE.search(title) or _LIST.match(title) or any(f in lowered for f in _FURNITURE):
        return False
    return not (title.isupper() or (": " in title and len(title.split(": ")[0].split()) <= 2))


def choose_headline(articles: Sequence[TitledArticle]) -> str:
    """Return the title of the story's most representative, informative recent article.

    A title scores by how many of the story's articles use its words (central, not an
    off-topic page), by its content words (informative, up to a point) and, a little, by
    recency. Copies of one title count once, for the first outlet that ran it (the original).
    Questions, lists, live blogs and fragments serve only when nothing else does.
    """
    titled = [(clean_title(a.title, a.outlet), n) for n, a in enumerate(articles) if a.title]
    if not titled:
        return ""
    presence = _story_words(articles)
    total = max(len(articles), 1)
    seen: set[str] = set()
    best: tuple[float, str] | None = None
    for title, position in titled:
        key = " ".join(_WORD.findall(title.lower()))
        if key in seen:
            continue  # a republication: the first outlet's copy already competes
        seen.add(key)
        words = [w for w in _WORD.findall(title.lower()) if w not in STOP_WORDS]
        if not words:
            continue
        central = sum(presence[w] for w in words) / (len(words) * total)
        informative = min(len(words), 8) / 8
        recent = 1 + 0.1 * position / total
        score = central * informative * recent * (1.0 if headline_like(title) else 0.2)
        if best is None or score > best[0]:
            best = (score, title)
    return best[1] if best else titled[0][0]


def _story_words(articles: Sequence[TitledArticle]) -> Counter[str]:
    """Count, for every word, how many of the story's articles use it."""
    presence: Counter[str] = Counter()
    for article in articles:
        text = " ".join((article.title, *article.sentences[:12])).lower()
        presence.update(set(_WORD.findall(text)))
    return presence


def kicker(articles: Sequence[TitledArticle], display: Callable[[str], str] = str) -> str:
    """Return the story's entity kicker ("DPRK–Russia"): its one or two dominant entities."""
    features = [
        ArticleFeatures(str(n), a.outlet, a.title, "", None, a.entities)
        for n, a in enumerate(articles)
    ]
    return "–".join(display(name) for name in dominant_entities(entity_stats(features)))
