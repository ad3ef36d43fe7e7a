"""Link stories across languages through the names they share in Latin script.

Stories never mix languages (grouping compares a language's articles with its own only), so
a Korean report on Samsung's new plant and the English one are two stories. Where a story in
another language names, in Latin script, the same people, organisations and places as an
English story (Putin, NATO, Samsung), the two are linked as related: shown side by side,
never merged, neither dropped. Pure functions over story profiles, no store.

A non-English story's names are its entities (where its language has NER) and the
capitalised Latin-script words its titles and texts use (an acronym or brand inside Korean,
Japanese or Chinese text is nearly always a name). An English story's names are its
entities, with a person's surname as well ("Putin" for "Vladimir Putin").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from briefing.stories.clustering import ENGLISH, ArticleFeatures

__all__ = ["CrossLinkParams", "cross_language_links", "latin_names", "name_keys"]

# One to three capitalised Latin-script words ("NATO", "Samsung Electronics", "Vladimir Putin").
# Bounded by Latin letters only: Korean and Japanese particles cling to a name ("NATO와").
_LATIN_NAME = re.compile(
    r"(?<![A-Za-z0-9'’-])(?:[A-Z][a-z]+|[A-Z]{2,})(?:[ -](?:[A-Z][a-z]+|[A-Z]{2,})){0,2}"
    r"(?![A-Za-z0-9'’])"
)
# In languages written in Latin script without NER (German, Spanish…), capitalised words are
# also sentence starts and (German) every noun: only acronyms count as names there.
_ACRONYM = re.compile(r"(?<![A-Za-z0-9'’-])[A-Z]{2,}(?![A-Za-z0-9'’-])")
NAMES_KEPT = 20  # names remembered per story profile


@dataclass(frozen=True, slots=True)
class CrossLinkParams:
    """When two stories in different languages are the same news.

    Two shared names: one alone is often a country or a large company that many unrelated
    stories mention. A name in more than common_share of the English stories (the US, China)
    tells nothing and is not counted.
    """

    min_shared: int = 2
    common_share: float = 0.25
    max_links: int = 3


def latin_names(articles: Sequence[ArticleFeatures], limit: int = NAMES_KEPT) -> list[str]:
    """Return the Latin-script names of a non-English story, most widely used first."""
    counts: Counter[str] = Counter()
    for article in articles:
        found = {name for name, _label, _count in article.entities if _is_latin(name)}
        text = f"{article.title}\n{article.text}"
        pattern = _ACRONYM if _written_in_latin(text) else _LATIN_NAME
        found.update(match.group() for match in pattern.finditer(text))
        counts.update(found)
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return ranked[:limit]


def name_keys(names: Iterable[str], surnames: Iterable[str] = ()) -> set[str]:
    """Return the comparable forms of names (case-folded), with the surnames given."""
    keys = {" ".join(name.split()).casefold() for name in names if _is_latin(name)}
    keys.update(name.split()[-1].casefold() for name in surnames if len(name.split()) > 1)
    return {key for key in keys if len(key) >= 2}


def english_keys(profile: Mapping) -> set[str]:
    """Return an English story's name keys: its entities, and its people's surnames."""
    entities = profile.get("entities", {})
    people = [name for name, entry in entities.items() if entry and entry[0] == "PERSON"]
    return name_keys(entities, people)


def foreign_keys(profile: Mapping) -> set[str]:
    """Return a non-English story's name keys: its Latin-script names and entities."""
    return name_keys([*profile.get("names", []), *profile.get("entities", {})])


def cross_language_links(
    stories: Sequence[tuple[str, str, Mapping]], params: CrossLinkParams = CrossLinkParams()
) -> list[tuple[str, str]]:
    """Return (non-English story id, English story id) pairs to link, strongest first.

    stories are (id, language, profile) of the open stories.
    """
    english = [(sid, english_keys(profile)) for sid, lang, profile in stories if lang == ENGLISH]
    if not english:
        return []
    spread = Counter(key for _sid, keys in english for key in keys)
    limit = max(2.0, params.common_share * len(english))
    common = {key for key, n in spread.items() if n > limit}
    links: list[tuple[str, str]] = []
    for sid, lang, profile in stories:
        if lang == ENGLISH:
            continue
        keys = foreign_keys(profile) - common
        if not keys:
            continue
        scored = [
            (len(keys & other_keys), other)
            for other, other_keys in english
            if len(keys & other_keys) >= params.min_shared
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        links += [(sid, other) for _shared, other in scored[: params.max_links]]
    return links


def _latin_letter(char: str) -> bool:
    return char <= "\u024f" or "\u1e00" <= char <= "\u1eff"  # Latin and its extensions


def _is_latin(name: str) -> bool:
    """Tell whether a name is written in Latin letters (and starts with one)."""
    return name[:1].isalpha() and all(_latin_letter(c) for c in name if c.isalpha())


def _written_in_latin(text: str) -> bool:
    """Tell whether a text is written in Latin script: under a fifth of its letters are not.

    (Korean or Japanese reports quote many Latin names; a French one has no Hangul at all.)
    """
    letters = [c for c in text[:2000] if c.isalpha()]
    return sum(not _latin_letter(c) for c in letters) * 5 < len(letters)
