"""Split an article into sentences and quotes, and attribute each quote to its speaker."""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from spacy.tokens import Doc, Token

MIN_QUOTE_WORDS = 3  # shorter quoted strings are scare quotes or titles ("advance")

# One word list is easier to extend than a formatted tuple of ninety strings.
_SPEECH_WORDS = """
say says said saying tell tells told add adds added adding state states stated note notes noted
warn warns warned argue argues argued explain explains explained insist insists insisted write
writes wrote ask asks asked continue continues continued declare declares declared announce
announces announced stress stresses stressed emphasize emphasized emphasise emphasised remark
remarked reply replied respond responded claim claims claimed acknowledge acknowledged admit
admitted predict predicted suggest suggested urge urged conclude concluded recall recalled
comment commented observe observed tweet tweeted post posted caution cautioned vow vowed quip
quipped assert asserted maintain maintained joke joked joking
"""
SPEECH_VERBS = frozenset(_SPEECH_WORDS.split())
_PRONOUNS = frozenset({"he", "she"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_MARKS = re.compile('["“”]')
_PARAGRAPH = re.compile(r"[^\n]+")
_ENDS_CLAUSE = re.compile(r"[,.?!]\s*$")
_ATTRIBUTION_NEXT = re.compile(r"\s*(?:$|\s[a-z])")

Region = tuple[int, int]


@dataclass(slots=True)
class Quote:
    """A direct quote, who said it (canonical entity form when known) and where."""

    text: str
    speaker: str | None
    verb: str | None
    sentence_index: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Quote:
        """Build a Quote from to_dict output."""
        return cls(str(d["text"]), d.get("speaker"), d.get("verb"), int(d["sentence_index"]))


@dataclass(slots=True)
class QuoteSpan:
    """A quote's text [start, end) in its paragraph; end is the closing mark if there is one."""

    start: int
    end: int
    para_start: int
    para_end: int
    has_open: bool = True

    @property
    def open(self) -> int:
        """Return where the quote begins, its opening mark included."""
        return self.start - 1 if self.has_open else self.start


def find_quote_spans(text: str, start: int = 0) -> list[QuoteSpan]:
    """Pair quotation marks paragraph by paragraph; an unclosed quote runs to paragraph end.

    A paragraph whose first mark can only close a quote ('…time," the rep said.') holds the
    end of a quote opened earlier: the quote then starts with the paragraph.
    """
    spans: list[QuoteSpan] = []
    for para in _PARAGRAPH.finditer(text, start):
        p_start, p_end = para.span()
        marks = [m.start() for m in _MARKS.finditer(text, p_start, p_end)]
        if marks and _closes_first(text, p_start, marks):
            spans.append(QuoteSpan(p_start, marks[0], p_start, p_end, has_open=False))
            marks = marks[1:]
        opened: int | None = None
        for i in marks:
            if opened is None and text[i] != "”":
                opened = i
            elif opened is not None and text[i] != "“":
                spans.append(QuoteSpan(opened + 1, i, p_start, p_end))
                opened = None
        if opened is not None:
            spans.append(QuoteSpan(opened + 1, p_end, p_start, p_end))
    return spans


def _closes_first(text: str, p_start: int, marks: list[int]) -> bool:
    """Tell whether a paragraph's first quotation mark closes a quote it did not open."""
    first = marks[0]
    if first == p_start or not text[p_start:first].strip():
        return False
    if text[first] == "”":
        return True
    straight = sum(text[i] == '"' for i in marks)
    if text[first] != '"' or straight % 2 == 0 or not _ENDS_CLAUSE.search(text, 0, first):
        return False
    # '…time," the rep said' closes; 'King said, "He asked' opens a quote that runs on. Text
    # with spaced marks ('time, " the rep') closes only before a lower-case word.
    return text[first - 1] in ",.?!" or bool(_ATTRIBUTION_NEXT.match(text, first + 1))


class Attributor:
    """Attribute quotes to speakers using the parse, the entities and nearby pronouns."""

    def __init__(
        self,
        doc: Doc,
        text: str,
        entity_at: Mapping[int, str],
        spans: Sequence[QuoteSpan],
        sentences: Sequence[Region],
        people: Collection[str],
    ) -> None:
        self.doc, self.text, self.spans = doc, text, spans
        self.people = people  # the article's PERSON entities, by canonical name
        self.starts = [a for a, _ in sentences]
        self.ends = [b for _, b in sentences]
        self.token_starts = [t.idx for t in doc]
        self.ent_of: dict[int, str] = {}
        for ent in doc.ents:
            name = entity_at.get(ent.start_char)
            if name is not None:
                self.ent_of.update(dict.fromkeys(range(ent.start, ent.end), name))

    def tokens_in(self, begin: int, end: int) -> list[Token]:
        """Return the tokens that start within [begin, end)."""
        lo = bisect.bisect_left(self.token_starts, begin)
        hi = bisect.bisect_left(self.token_starts, end)
        return [self.doc[i] for i in range(lo, hi)]

    def sentence_of(self, offset: int) -> int:
        """Return the index of the sentence holding an offset (-1 before the first)."""
        return bisect.bisect_right(self.starts, offset) - 1

    def regions(self, index: int) -> tuple[Region, Region, Region]:
        """Return the parts of the quote's sentences before and after it, and its lead-in.

        The lead-in is the previous sentence, used only when the quote opens its own sentence
        ('He added that the talks went well. "They did."'), and only within the paragraph
        unless that sentence ends with a colon ('said Yeager:').
        """
        span = self.spans[index]
        prev_end = self.spans[index - 1].end + 1 if index else 0
        nxt = self.spans[index + 1].open if index + 1 < len(self.spans) else span.para_end
        s_open, s_close = self.sentence_of(span.open), self.sentence_of(span.end)
        floor = max(span.para_start, prev_end)
        before = (max(self.starts[s_open], floor) if s_open >= 0 else floor, span.open)
        after_end = min(self.ends[s_close] if s_close >= 0 else nxt, span.para_end, nxt)
        after = (min(span.end + 1, span.para_end), after_end)
        lead = (0, 0)
        if s_open > 0 and not self.text[before[0] : before[1]].strip():
            a, b = max(self.starts[s_open - 1], prev_end), self.ends[s_open - 1]
            if "\n" not in self.text[b : span.open] or self.text[a:b].rstrip().endswith(":"):
                lead = (a, b)
        return before, after, lead

    def speech_verb(self, region: Region, nearest_last: bool) -> Token | None:
        """Return the speech verb in a region closest to the quote."""
        verbs = [
            t
            for t in self.tokens_in(*region)
            if t.lower_ in SPEECH_VERBS and t.tag_.startswith("VB")
        ]
        if not verbs:
            return None
        return verbs[-1] if nearest_last else verbs[0]

    def according_to(self, region: Region) -> str | None:
        """Return the source named by 'according to X' in a region."""
        tokens = self.tokens_in(*region)
        for i, tok in enumerate(tokens[:-2]):
            if tok.lower_ == "according" and tokens[i + 1].lower_ == "to":
                return self.name_of(tokens[i + 2], before=region[0])
        return None

    def name_of(self, token: Token, before: int) -> str | None:
        """Name the speaker a token stands for: entity, resolved pronoun or a noun phrase."""
        if token.i in self.ent_of:
            return self.ent_of[token.i]
        if token.lower_ in _PRONOUNS:
            return self.recent_person(before)
        for sub in token.subtree:
            if sub.i in self.ent_of and sub.ent_type_ in ("PERSON", "ORG"):
                return self.ent_of[sub.i]
        if token.tag_.startswith("NN"):
            # "a senior US official" -> "senior US official"; "her rep" -> "rep"
            left = [t for t in token.subtree if t.i <= token.i and t.tag_ not in ("DT", "PRP$")]
            return " ".join(t.text for t in left[-6:]) or None
        return None

    def recent_person(self, before: int) -> str | None:
        """Resolve he/she: the latest person who is a subject in the last 3 sentences, else the
        latest person named (people as resolved, so a mislabelled "Page" still counts)."""
        floor = self.starts[max(self.sentence_of(before) - 2, 0)] if self.starts else 0
        fallback: str | None = None
        for tok in reversed(self.tokens_in(0, before)):
            name = self.ent_of.get(tok.i)
            if name is None or name not in self.people or self.inside_quote(tok.idx):
                continue
            if tok.idx >= floor and tok.dep_ in _SUBJECTS:
                return name
            fallback = fallback or name
        return fallback

    def inside_quote(self, offset: int) -> bool:
        """Tell whether an offset falls inside one of the quotes."""
        return any(s.start <= offset < s.end for s in self.spans)

    def subject_of(self, verb: Token, region: Region) -> str | None:
        """Return the speaker of a speech verb: its subject, else the nearest name beside it."""
        for child in verb.children:
            if child.dep_ in _SUBJECTS:
                return self.name_of(child, before=verb.idx)
        for tok in self.tokens_in(*region):
            if (tok.i in self.ent_of and tok.ent_type_ == "PERSON") or tok.lower_ in _PRONOUNS:
                return self.name_of(tok, before=verb.idx)
        return None

    def attribute(self, index: int) -> tuple[str | None, str | None]:
        """Return (speaker, verb) for the quote at index, or (None, None)."""
        span = self.spans[index]
        before, after, lead = self.regions(index)
        verb = self.speech_verb(after, nearest_last=False)
        ends_sentence = self.text[span.start : span.end].rstrip().endswith(".")
        if verb is not None and ends_sentence and verb.idx - after[0] > 40:
            verb = None  # a full stop ends the quote's sentence; a far verb starts anew
        region = after
        if verb is None:
            verb, region = self.speech_verb(before, nearest_last=True), before
        if verb is not None:
            return self.subject_of(verb, region), verb.lower_
        source = self.according_to(after) or self.according_to(before)
        if source:
            return source, "according to"
        verb = self.speech_verb(lead, nearest_last=True)
        if verb is not None:
            return self.subject_of(verb, lead), verb.lower_
        if self.text[lead[0] : lead[1]].rstrip().endswith(":"):  # "a statement by X:"
            named = [t for t in self.tokens_in(*lead) if t.ent_type_ in ("PERSON", "ORG")]
            if named and named[0].i in self.ent_of:
                return self.ent_of[named[0].i], None
        return None, None


def _clean_quote(text: str) -> str:
    """Collapse whitespace and drop the punctuation that joined a quote to its attribution."""
    return " ".join(text.split()).strip(" ,;:-—")


def _is_title(words: list[str]) -> bool:
    """Tell whether quoted words look like the title of a work ("The Boy From Oz")."""
    alpha = [w for w in words if w[0].isalpha()]
    capitals = sum(w[0].isupper() for w in alpha)
    return len(words) <= 8 and capitals * 3 >= len(alpha) * 2


def extract_quotes(
    doc: Doc,
    text: str,
    entity_at: Mapping[int, str],
    spans: Sequence[QuoteSpan],
    sentences: Sequence[Region],
    people: Collection[str],
) -> list[Quote]:
    """Return the quotes of MIN_QUOTE_WORDS+ words, with speakers and sentence indexes."""
    attributor = Attributor(doc, text, entity_at, spans, sentences, people)
    quotes: list[Quote] = []
    carried: tuple[str | None, str | None] = (None, None)
    for index, span in enumerate(spans):
        speaker, verb = attributor.attribute(index)
        if speaker is None and index and _continues(text, spans[index - 1], span):
            speaker, verb = carried  # the previous speaker's words carry on
        carried = (speaker, verb)
        quoted = _clean_quote(text[span.start : span.end])
        words = quoted.split()
        if len(words) < MIN_QUOTE_WORDS or (speaker is None and _is_title(words)):
            continue
        quotes.append(Quote(quoted, speaker, verb, max(attributor.sentence_of(span.start), 0)))
    return quotes


def _continues(text: str, prior: QuoteSpan, span: QuoteSpan) -> bool:
    """Tell whether a quote follows the prior one in its paragraph or opens the next one."""
    if span.para_start == prior.para_start:
        return True
    between = text[prior.para_end : span.para_start]
    return not between.strip() and not text[span.para_start : span.open].strip()
