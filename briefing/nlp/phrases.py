"""Sentences and key phrases: the parts of an article's text that summaries and labels use."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from spacy.tokens import Doc, Span, Token

from briefing.nlp.quotes import QuoteSpan, Region

MAX_KEY_PHRASES = 10

_PARAGRAPH = re.compile(r"[^\n]+")
_TITLE_AT_END = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|Rev|Sen|Rep|Gov|Gen|Lt|Col|Capt|Sgt|Cmdr|Adm|Supt|Insp|St)\.\s*$"
)
# A wire credit at the end ("(Yonhap)") or a dateline at the start ("SEOUL, Sept. 15 (Yonhap)
# --") names the agency, not the story: its mentions and sentence are left out.
_CREDIT_END = re.compile(r"\(\s*[A-Z][\w.&' -]{1,40}\)\s*$")
_DATELINE = re.compile(r"^[A-Z][\w .,'-]{0,60}\([A-Z][\w.&' -]{1,30}\)\s*(?:--|—|–|-)\s*")
_CREDIT_SENTENCE = re.compile(r"^\(\s*[\w.&' -]+\)$")

# Penn Treebank tags: the attribute_ruler that maps them to coarse POS costs a seventh of the
# parse time, and nothing here needs more than the tags.
_NOMINAL_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS", "PRP"})
_PROPER_TAGS = frozenset({"NNP", "NNPS"})
_NOT_LEADING_TAGS = frozenset(
    {"DT", "PDT", "WDT", "PRP", "PRP$", "WP", "WP$", "CD", "POS", "RP", "TO", "CC", "IN", "EX"}
)
_NP_DEPS = frozenset(
    {"oprd", "nsubj", "dobj", "nsubjpass", "pcomp", "pobj", "dative", "appos", "attr", "ROOT"}
)


def credit_ranges(text: str, body_start: int) -> list[tuple[int, int]]:
    """Return the character ranges of a wire credit or dateline."""
    ranges = []
    if match := _CREDIT_END.search(text, body_start):
        ranges.append(match.span())
    if match := _DATELINE.match(text[body_start:]):
        ranges.append((body_start + match.start(), body_start + match.end()))
    return ranges


def sentence_spans(
    doc: Doc, text: str, body_start: int, quotes: Sequence[QuoteSpan] = ()
) -> list[Region]:
    """Return body sentence spans, split at line breaks, each quotation mark kept with its quote."""
    parts = [
        (part.start(), part.end())
        for sent in doc.sents
        if sent.end_char > body_start
        for part in _PARAGRAPH.finditer(text, max(sent.start_char, body_start), sent.end_char)
    ]
    closers = {q.end for q in quotes if q.end < q.para_end}
    openers = {q.start - 1 for q in quotes if q.has_open}
    fixed: list[Region] = []
    carry: int | None = None  # an opening mark cut from the end of the previous sentence
    for start, end in parts:
        start = carry if carry is not None and carry < start else start
        carry = None
        # The parser often starts the next sentence with the closing mark of a quote.
        while fixed and start < end and (start in closers or text[start] in ")]’"):
            if "\n" in text[fixed[-1][1] : start]:
                break
            fixed[-1] = (fixed[-1][0], start + 1)
            start = _skip_space(text, start + 1, end)
        last = len(text[:end].rstrip()) - 1
        if last in openers and last > start:
            carry, end = last, last
        if not text[start:end].strip() or _CREDIT_SENTENCE.match(text[start:end].strip()):
            continue
        # Only the end of the previous sentence can hold its title ("the Rev."): searching from
        # the start of the text made this step quadratic in the article's length.
        after_title = fixed and _TITLE_AT_END.search(text, max(fixed[-1][1] - 12, 0), fixed[-1][1])
        if after_title and "\n" not in text[fixed[-1][1] : start]:  # "the Rev." ends nothing
            fixed[-1] = _trim(text, fixed[-1][0], end)
            continue
        fixed.append(_trim(text, start, end))
    return _rejoin(text, fixed)


def _rejoin(text: str, spans: list[Region]) -> list[Region]:
    """Join back a sentence the parser cut in two within a paragraph: the second half opens
    lower-case ("…starting line-up | but it appears…"), and neither half can stand alone."""
    joined: list[Region] = []
    for start, end in spans:
        if joined and text[start].islower() and "\n" not in text[joined[-1][1] : start]:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _skip_space(text: str, i: int, end: int) -> int:
    """Return the first non-space offset from i (end at most)."""
    while i < end and text[i].isspace():
        i += 1
    return i


def _trim(text: str, start: int, end: int) -> Region:
    """Narrow a span to exclude leading and trailing whitespace."""
    chunk = text[start:end]
    return start + len(chunk) - len(chunk.lstrip()), start + len(chunk.rstrip())


def noun_chunks(doc: Doc) -> Iterator[Span]:
    """Yield base noun phrases from tags and dependencies (spaCy's English rule, minus POS)."""
    prev_end = -1
    for word in doc:
        if word.tag_ not in _NOMINAL_TAGS or word.left_edge.i <= prev_end:
            continue
        head = word
        while head.dep_ == "conj" and head.head.i < head.i:
            head = head.head
        if head.dep_ in _NP_DEPS:
            prev_end = word.i
            yield doc[word.left_edge.i : word.i + 1]


def key_phrases(doc: Doc, body_start: int, limit: int = MAX_KEY_PHRASES) -> list[str]:
    """Rank noun phrases (not bare entities) by frequency, earliness and length."""
    scores: dict[str, float] = {}
    forms: dict[str, str] = {}
    firsts: dict[str, int] = {}
    length = max(len(doc), 1)
    for chunk in noun_chunks(doc):
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
    while tokens and (
        tokens[0].is_stop or tokens[0].tag_ in _NOT_LEADING_TAGS or not tokens[0].is_alpha
    ):
        tokens = tokens[1:]
    # A phrase headed by a name ("President Vladimir Putin") is an entity, listed elsewhere.
    if not tokens or tokens[-1].ent_type_ or len(tokens) > 5:
        return []
    if len(tokens) == 1 and (tokens[0].is_stop or len(tokens[0]) < 3):
        return []
    words = [t.text if t.tag_ in _PROPER_TAGS or t.ent_type_ else t.lower_ for t in tokens]
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
