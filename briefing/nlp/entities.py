"""Normalise named-entity mentions into canonical entities: aliases, clean-up, short names."""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from briefing.resources import seeds_dir

logger = logging.getLogger(__name__)

DEFAULT_ALIASES_PATH = seeds_dir() / "aliases.toml"

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "‐": "-", "‑": "-", "–": "-"})
_LEADING_THE = re.compile(r"^(?:the)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:'s|(?<=s)')$", re.IGNORECASE)
_HONORIFIC = re.compile(r"^(?:mr|mrs|ms|dr|sir|madam)\.?\s+", re.IGNORECASE)
_EDGE_JUNK = " \t\n\"'()[]{}<>,;:!?*“”«»"
# Heads that make an ORG/PERSON span a job title rather than a name ("National Security
# Advisor" is often tagged ORG by the small model).
_TITLE_WORDS = """
advisor adviser secretary secretary-general minister president vice-president spokesman
spokeswoman spokesperson chairman chairwoman director ambassador envoy commander chief governor
senator official officials premier chancellor prosecutor
"""
_TITLE_HEADS = frozenset(_TITLE_WORDS.split())
# Titles the model sometimes folds into a PERSON span ("GM Theo Epstein", "Comedian Ellen
# DeGeneres"). Royal titles stay: "King Charles" is the name.
_PERSON_TITLES = (
    "president|minister|secretary|chancellor|premier|senator|sen|rep|representative|gov|"
    "governor|mayor|judge|justice|gen|general|col|colonel|capt|captain|lt|sgt|sergeant|officer|"
    "detective|sheriff|chief|ceo|gm|ada|coach|comedian|actor|actress|singer|rapper|leader|chairman|"
    "chairwoman|spokesman|spokeswoman|prof|professor|rev|reverend|mr|mrs|ms|miss|dr|sir|madam"
)
_GENERATIONS = frozenset({"jr", "sr", "ii", "iii", "iv"})
_FUNCTION_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "de", "du", "la", "&"})
_PERSON_TITLE = re.compile(
    rf"^(?:(?:vice|deputy|acting|former|foreign|prime)\s+)*(?:{_PERSON_TITLES})\.?\s+(?=\S)",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Entity:
    """One canonical entity of an article with its mention count and surface forms."""

    text: str
    label: str
    count: int
    mentions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Entity:
        """Build an Entity from to_dict output."""
        return cls(str(d["text"]), str(d["label"]), int(d["count"]), list(d.get("mentions", [])))


@dataclass(slots=True)
class AliasTable:
    """Alias -> canonical map plus label overrides and display forms, all keyed by alias_key."""

    aliases: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Mention:
    """A raw NER span: its text, label and where it starts in the article."""

    text: str
    label: str
    start: int


def alias_key(text: str) -> str:
    """Return the lookup key for a name: case, accents, dots, hyphens and spacing folded.

    "Kim Jong-nam", "Kim Jong Nam" and "Kim-Jong-nam" share one key, as do "U.S." and "US".
    """
    text = text.translate(_APOSTROPHES)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.replace(".", " ").replace("-", " ").casefold().split())


def clean_surface(text: str) -> str:
    """Strip a leading 'the', honorifics, possessive 's and stray punctuation from a span."""
    text = " ".join(text.translate(_APOSTROPHES).split()).strip(_EDGE_JUNK)
    text = _LEADING_THE.sub("", text)
    text = _HONORIFIC.sub("", text)
    text = _POSSESSIVE.sub("", text).strip(_EDGE_JUNK)
    return text


def load_alias_table(path: Path | None = None) -> AliasTable:
    """Read aliases, demonyms, label overrides and display forms from a TOML file."""
    path = path or DEFAULT_ALIASES_PATH
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    table = AliasTable()
    for section in ("aliases", "demonyms"):
        for canonical, names in data.get(section, {}).items():
            table.aliases[alias_key(canonical)] = canonical
            for name in names:
                table.aliases[alias_key(name)] = canonical
    # Demonyms name countries: "Greeks" (often tagged PERSON) counts as Greece, a GPE.
    table.labels = dict.fromkeys(map(alias_key, data.get("demonyms", {})), "GPE")
    table.labels.update({alias_key(k): v for k, v in data.get("labels", {}).items()})
    table.display = {alias_key(k): v for k, v in data.get("display", {}).items()}
    return table


def load_aliases(
    path: Path | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return alias -> canonical (keys via alias_key) from the TOML table plus extra entries."""
    aliases = load_alias_table(path).aliases
    for name, canonical in (extra or {}).items():
        aliases[alias_key(name)] = canonical
        aliases.setdefault(alias_key(canonical), canonical)
    return aliases


def display_name(canonical: str, aliases_display: Mapping[str, str] | None = None) -> str:
    """Return the form the briefing prints for a canonical name ([display] in aliases.toml).

    aliases_display maps canonical names (as written, or by alias_key) to display forms.
    """
    if not aliases_display:
        return canonical
    shown = aliases_display.get(canonical) or aliases_display.get(alias_key(canonical))
    return shown or canonical


def is_title_only(text: str) -> bool:
    """Tell whether a span is a job title ("National Security Advisor") rather than a name."""
    words = text.split()
    return bool(words) and words[-1].casefold() in _TITLE_HEADS


@dataclass(slots=True)
class _Group:
    key: str
    first: int
    mapped: bool
    name: str = ""
    surfaces: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    starts: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.surfaces.values())

    def absorb(self, other: _Group, as_person: bool = False) -> None:
        self.surfaces.update(other.surfaces)
        if as_person:  # "Teixeira" tagged ORG but resolved to "Mark Teixeira" is a person
            self.labels["PERSON"] += other.count
        else:
            self.labels.update(other.labels)
        self.starts.extend(other.starts)
        self.first = min(self.first, other.first)


def _group_mentions(mentions: Iterable[Mention], aliases: Mapping[str, str]) -> list[_Group]:
    """Group mentions by canonical key, in order of first appearance."""
    groups: dict[str, _Group] = {}
    for mention in sorted(mentions, key=lambda m: m.start):
        surface = clean_surface(mention.text)
        while mention.label == "PERSON" and (match := _PERSON_TITLE.match(surface)):
            surface = surface[match.end() :]
        if len(surface) < 2 or not any(ch.isalpha() for ch in surface):
            continue
        canonical = aliases.get(alias_key(surface))
        label = mention.label
        if canonical is not None and label == "NORP":
            label = "GPE"  # a demonym mapped to its country counts as the country
        key = alias_key(canonical or surface)
        group = groups.setdefault(key, _Group(key, mention.start, canonical is not None))
        group.name = canonical or group.name
        group.surfaces[surface] += 1
        group.labels[label] += 1
        group.starts.append(mention.start)
    for group in groups.values():
        group.name = group.name or _display_surface(group.surfaces)
    return list(groups.values())


def _display_surface(surfaces: Counter[str]) -> str:
    """Pick how to write a name: its commonest form, "Cairo" rather than a dateline's "CAIRO"."""
    ranked = sorted(surfaces, key=lambda s: (s.isupper() and len(s) > 4, -surfaces[s]))
    return ranked[0]


def acronym_of(name: str) -> set[str]:
    """Return the acronyms a multi-word name may go by: "Bank of Korea" -> {"BK", "BOK"}."""
    words = [w for w in re.split(r"[\s-]+", name) if w[:1].isalpha()]
    if len(words) < 2:
        return set()
    every = "".join(w[0] for w in words).upper()
    content = "".join(w[0] for w in words if w.lower() not in _FUNCTION_WORDS).upper()
    return {every, content}


def _merge_acronyms(groups: list[_Group]) -> list[_Group]:
    """Fold an acronym into the one name it abbreviates ("DNC": Democratic National Committee)."""
    long_names = [g for g in groups if " " in g.name]
    kept: list[_Group] = []
    for group in groups:
        target = None
        if group.name.isupper() and 2 <= len(group.name) <= 6 and not group.mapped:
            matches = [g for g in long_names if group.name in acronym_of(g.name)]
            target = matches[0] if len(matches) == 1 else None
        if target is not None:
            target.absorb(group)
        else:
            kept.append(group)
    return kept


def _majority_label(group: _Group) -> str:
    return group.labels.most_common(1)[0][0]


def _surname_key(name: str) -> str:
    """Return the key of a name's last word, generational suffixes aside ("Smith Jr.")."""
    words = alias_key(name).split()
    while len(words) > 2 and words[-1] in _GENERATIONS:
        words.pop()
    return words[-1]


def _short_name_target(group: _Group, people: list[_Group]) -> _Group | None:
    """Find the full PERSON name a one-word name stands for in the same article."""
    if group.mapped or " " in group.name:
        return None
    last = [p for p in people if _surname_key(p.name) == group.key]
    first = [p for p in people if alias_key(p.name.split()[0]) == group.key]
    # Family-name-first names (Kim Jong-un) only match a one-word PERSON, not an ORG/GPE tag.
    candidates = last or (first if _majority_label(group) == "PERSON" else [])
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.count, -p.first))


def _merge_longer_names(groups: list[_Group]) -> list[_Group]:
    """Fold a PERSON name into a shorter full name it ends with ("Interior Dirk Kempthorne")."""
    people = [g for g in groups if _majority_label(g) == "PERSON" and not g.mapped]
    tails = {g.key: g for g in people if " " in g.name}
    kept: list[_Group] = []
    for group in groups:
        words = group.key.split()
        target = next(
            (
                tails[" ".join(words[i:])]
                for i in range(1, len(words) - 1)
                if " ".join(words[i:]) in tails
            ),
            None,
        )
        if group in people and target is not None:
            target.absorb(group, as_person=True)
        else:
            kept.append(group)
    return kept


def resolve_entities(
    mentions: Iterable[Mention],
    aliases: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
) -> tuple[list[Entity], dict[int, str]]:
    """Merge mentions into canonical entities; also map each mention start to its canonical."""
    groups = _merge_acronyms(_merge_longer_names(_group_mentions(mentions, aliases)))
    people = [g for g in groups if _majority_label(g) == "PERSON" and " " in g.name]
    merged: list[_Group] = []
    for group in groups:
        target = _short_name_target(group, people)
        if target is None:
            merged.append(group)
        else:
            target.absorb(group, as_person=True)
    entities: list[tuple[int, Entity]] = []
    starts: dict[int, str] = {}
    for group in merged:
        name = group.name
        label = (labels or {}).get(group.key) or _majority_label(group)
        if name.islower() or (label in ("ORG", "PERSON", "NORP") and is_title_only(name)):
            continue  # names are capitalised: "navy" or "gulf" is the model guessing
        starts.update(dict.fromkeys(group.starts, name))
        entity = Entity(name, label, group.count, list(group.surfaces))
        entities.append((group.first, entity))
    entities.sort(key=lambda pair: (-pair[1].count, pair[0]))
    return [entity for _, entity in entities], starts


def story_entity_names(entities: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Map each name in a story's articles to the one name the story should use for it.

    Articles resolve their own entities; across them, "Trump" (one article) is "Donald
    Trump" (another) when he is the only person of that surname, "CAIRO" is "Cairo", and
    "DNC" is the "Democratic National Committee" it abbreviates.
    """
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for name, label in entities:
        counts[name] += 1
        labels.setdefault(name, label)
    by_key: dict[str, list[str]] = {}
    for name in counts:
        by_key.setdefault(alias_key(name), []).append(name)
    out: dict[str, str] = {}
    for variants in by_key.values():
        best = _display_surface(Counter({v: counts[v] for v in variants}))
        out.update(dict.fromkeys(variants, best))
    people = [n for n in set(out.values()) if " " in n and labels.get(n) == "PERSON"]
    longer = [n for n in set(out.values()) if " " in n]
    for name in list(out):
        target = out[name]
        if " " in target:
            continue
        same_surname = [p for p in people if _surname_key(p) == alias_key(target)]
        expands = [n for n in longer if target.isupper() and target in acronym_of(n)]
        found = same_surname or expands
        if len(found) == 1:
            out[name] = found[0]
    return out
