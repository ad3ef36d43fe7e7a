"""Name a story after its dominant entities and key phrase: "North Korea–Russia: arms talks"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from briefing.nlp.entities import acronym_of, alias_key, story_entity_names
from briefing.stories.clustering import STOP_WORDS, ArticleFeatures

# Entity kinds that name who or where a story is about; NORP ("Russian") only as a last resort.
LABEL_KINDS = ("GPE", "PERSON", "ORG", "EVENT", "FAC", "LOC", "PRODUCT", "NORP")
MAX_PHRASE_WORDS = 4
MAX_ENTITIES = 2
SECOND_ENTITY_SHARE = 0.5  # the runner-up joins the label if it is in half as many articles
SINGLE_WORD_FACTOR = 0.9
# Nouns that key-phrase extraction finds in any story; they never tell one story from another.
GENERIC_NOUNS = frozenset(
    """people person man men woman women time times police officers officials authorities
    statement report scene group action life head work case thing things way part lot number
    family friends home world place area city country government today week year day""".split()
)
_NAME_JOINERS = frozenset(
    {"of", "the", "and", "for", "de", "du", "la", "le", "von", "van", "al", "&"}
)
_PUNCT = "\"'“”‘’.,;:!?()[]"


def entity_stats(articles: Sequence[ArticleFeatures]) -> dict[str, list]:
    """Count per canonical entity: [label, articles naming it, mentions, headlines naming it].

    Names that are one entity across the story's articles count once (story_entity_names):
    "Trump" in one article and "Donald Trump" in another, "CAIRO" and "Cairo", "DNC" and
    "Democratic National Committee". The outlets that ran the story are not its subject.
    """
    merged = story_entity_names(
        [(name, label) for article in articles for name, label, _ in article.entities]
    )
    outlets = {alias_key(a.source) for a in articles if a.source}
    stats: dict[str, list] = {}
    for article in articles:
        seen: set[str] = set()
        for raw, label, count in article.entities:
            canonical = merged.get(raw, raw)
            if alias_key(canonical) in outlets or not is_clean_name(canonical):
                continue
            entry = stats.setdefault(canonical, [label, 0, 0, 0])
            entry[2] += max(1, count)
            if canonical not in seen:
                entry[1] += 1
                entry[3] += in_headline(canonical, article.title)
                seen.add(canonical)
    return stats


def is_clean_name(name: str) -> bool:
    """Tell whether a name can head a kicker: no number, no common noun ("Roman mosaic")."""
    words = name.split()
    return (
        bool(words)
        and not any(ch.isdigit() for ch in name)
        and all(w[:1].isupper() or w in _NAME_JOINERS for w in words)
    )


def in_headline(name: str, title: str) -> bool:
    """Tell whether a headline names an entity (whole words, any case)."""
    text, key = title.lower(), name.lower()
    start = text.find(key) if key else -1
    while start >= 0:  # plain search: compiling a pattern per entity costs seconds a day
        end = start + len(key)
        if (start == 0 or not text[start - 1].isalnum()) and (
            end == len(text) or not text[end].isalnum()
        ):
            return True
        start = text.find(key, start + 1)
    return False


def phrase_stats(articles: Sequence[ArticleFeatures]) -> Counter:
    """Score key phrases: one point per article giving it, plus a bonus for ranking high in it."""
    scores: Counter = Counter()
    for article in articles:
        best: dict[str, float] = {}
        for rank, phrase in enumerate(map(clean_phrase, article.key_phrases)):
            if phrase and phrase not in best:
                best[phrase] = round(1.0 + 1.0 / (2 + rank), 4)  # the article's order breaks ties
        scores.update(best)
    return scores


def clean_phrase(phrase: str) -> str:
    """Trim stop words and punctuation from both ends and cap the length."""
    words = [w for w in " ".join(phrase.split()).split(" ") if w]
    while words and words[0].lower().strip(_PUNCT) in STOP_WORDS | {""}:
        words.pop(0)
    while words and words[-1].lower().strip(_PUNCT) in STOP_WORDS | {""}:
        words.pop()
    return " ".join(words[:MAX_PHRASE_WORDS]).strip(_PUNCT)


def dominant_entities(stats: Mapping[str, Sequence]) -> list[str]:
    """Return the one or two entities that best say what the story is about."""
    ranked = ranked_entities(stats)
    if not ranked:
        return []
    chosen = [ranked[0]]
    for name in ranked[1 : 1 + 3]:
        if len(chosen) == MAX_ENTITIES:
            break
        if stats[name][1] >= SECOND_ENTITY_SHARE * stats[chosen[0]][1] and not overlaps(
            name, chosen
        ):
            chosen.append(name)
    return chosen


def ranked_entities(stats: Mapping[str, Sequence]) -> list[str]:
    """Order entities by articles naming them, then mentions, then headlines naming them."""

    def rank(name: str) -> tuple:
        label, n_articles, mentions, headlines = (*stats[name], 0)[:4]
        return (-n_articles, -mentions, -headlines, label == "NORP", name)

    return sorted((n for n in stats if stats[n][0] in LABEL_KINDS), key=rank)


def label_still_fits(shown: Sequence[str], stats: Mapping[str, Sequence]) -> bool:
    """Tell whether the entities a label shows still lead the story, so the label can stay.

    Some slack (the first still in the top two, the others in the top three) keeps a label
    from flipping between near-equal runners-up from one day to the next.
    """
    ranked = ranked_entities(stats)
    return bool(shown) and shown[0] in ranked[:2] and all(e in ranked[:3] for e in shown)


def overlaps(name: str, chosen: Sequence[str]) -> bool:
    """Tell whether a name repeats one already chosen: "Kim" next to "Kim Jong-un", "BOK"
    next to "Bank of Korea"."""
    words = set(alias_key(name).split())
    return any(
        words & set(alias_key(other).split())
        or name.upper() in acronym_of(other)
        or other.upper() in acronym_of(name)
        for other in chosen
    )


def best_phrase(phrases: Mapping[str, float], entities: Sequence[str]) -> str:
    """Pick the most widely used phrase that says something beyond the entity names."""
    names = [e.lower() for e in entities]

    def informative(phrase: str) -> bool:
        low = phrase.lower()
        return low not in GENERIC_NOUNS and not any(n in low or low in n for n in names)

    def weight(phrase: str) -> float:
        # A single word says less than a phrase: "arms talks" over "talks" at similar use.
        return phrases[phrase] * (1.0 if " " in phrase else SINGLE_WORD_FACTOR)

    ranked = sorted((p for p in phrases if informative(p)), key=lambda p: (-weight(p), p))
    return ranked[0] if ranked else ""


def compose_label(
    entities: Sequence[str], phrase: str, display: Callable[[str], str] = str, fallback: str = ""
) -> str:
    """Join display names with an en dash and append the phrase after a colon."""
    names = "–".join(display(e) for e in entities)
    if names and phrase:
        return f"{names}: {phrase}"
    if names or phrase:
        return names or phrase[:1].upper() + phrase[1:]
    return fallback


def story_label(articles: Sequence[ArticleFeatures], display: Callable[[str], str] = str) -> str:
    """Label a story from its articles: dominant entities, then the commonest key phrase."""
    stats = entity_stats(articles)
    entities = dominant_entities(stats)
    phrase = best_phrase(phrase_stats(articles), entities)
    first_title = min(articles, key=lambda a: a.id).title if articles else ""
    return compose_label(entities, phrase, display, fallback=short_title(first_title))


def short_title(title: str, max_words: int = 8) -> str:
    """Shorten a headline to a label's length."""
    words = title.split()
    return " ".join(words[:max_words]) + ("…" if len(words) > max_words else "")


def merged_entity_stats(
    old: Mapping[str, Sequence], added: Mapping[str, Sequence], limit: int
) -> dict[str, list]:
    """Add new entity counts to remembered ones and keep the `limit` most widespread."""
    merged = {name: [*entry, 0][:4] for name, entry in old.items()}
    for name, (label, n_articles, mentions, headlines) in added.items():
        entry = merged.setdefault(name, [label, 0, 0, 0])
        entry[1] += n_articles
        entry[2] += mentions
        entry[3] += headlines
    top = sorted(merged, key=lambda n: (-merged[n][1], -merged[n][2], -merged[n][3], n))[:limit]
    return {name: merged[name] for name in top}


def merged_phrase_stats(
    old: Mapping[str, float], added: Mapping[str, float], limit: int
) -> dict[str, float]:
    """Add new phrase scores to remembered ones and keep the `limit` best."""
    merged = Counter(old)
    merged.update(added)
    top = sorted(merged, key=lambda p: (-merged[p], p))[:limit]
    return {phrase: round(merged[phrase], 4) for phrase in top}
