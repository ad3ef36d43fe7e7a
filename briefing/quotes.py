"""Split an article into sentences and quotes, and attribute each quote to its speaker."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
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
quipped assert asserted maintain maintained
"""
SPEECH_VERBS = frozenset(_SPEECH_WORDS.split())
_PRONOUNS = frozenset({"he", "she"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_TERMINAL = re.compile(r"[.!?](?=[\s\"”’]|$)")
_MARKS = '"“”'

# A wire credit at the end ("(Yonhap)") or a dateline at the start ("SEOUL, Sept. 15 (Yonhap)
# --") names the agency, not the story: its mentions and sentence are left out.
_CREDIT_END = re.compile(r"\(\s*[A-Z][\w.&' -]{1,40}\)\s*$")
_DATELINE = re.compile(r"^[A-Z][\w .,'-]{0,60}\([A-Z][\w.&' -]{1,30}\)\s*(?:--|—|–|-)\s*")
_CREDIT_SENTENCE = re.compile(r"^\(\s*[\w.&' -]+\)$")


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


Region = tuple[int, int]


@dataclass(slots=True)
class QuoteSpan:
    """Character offsets of a quote: marks at open and close (close == end when unclosed)."""

    open: int
    close: int
    para_start: int
    para_end: int


def find_quote_spans(text: str, start: int = 0) -> list[QuoteSpan]:
    """Pair quotation marks paragraph by paragraph; an unclosed quote runs to paragraph end."""
    spans: list[QuoteSpan] = []
    for para in re.finditer(r"[^\n]+", text[start:]):
        p_start, p_end = para.start() + start, para.end() + start
        opened: int | None = None
        for i in range(p_start, p_end):
            ch = text[i]
            if ch not in _MARKS:
                continue
            if opened is None and ch != "”":
                opened = i
            elif opened is not None and ch != "“":
                spans.append(QuoteSpan(opened, i, p_start, p_end))
                opened = None
        if opened is not None:
            spans.append(QuoteSpan(opened, p_end, p_start, p_end))
    return spans


def credit_ranges(text: str, body_start: int) -> list[tuple[int, int]]:
    """Return the character ranges of a wire credit or dateline."""
    ranges = []
    if match := _CREDIT_END.search(text, body_start):
        ranges.append(match.span())
    if match := _DATELINE.match(text[body_start:]):
        ranges.append((body_start + match.start(), body_start + match.end()))
    return ranges


def sentence_spans(doc: Doc, text: str, body_start: int) -> list[tuple[int, int]]:
    """Return body sentence spans, split at line breaks, closing quotes kept with their text."""
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
        if text[start:end].strip() and not _CREDIT_SENTENCE.match(text[start:end].strip()):
            fixed.append((start, end))
    return fixed


class Attributor:
    """Attribute quotes to speakers using the parse, the entities and nearby pronouns."""

    def __init__(
        self, doc: Doc, text: str, entity_at: Mapping[int, str], spans: Sequence[QuoteSpan]
    ) -> None:
        self.doc = doc
        self.text = text
        self.spans = spans
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

    def regions(self, index: int) -> tuple[Region, Region, Region]:
        """Return the text before and after a quote that may attribute it, and the lead-in.

        The lead-in is the previous sentence of the paragraph, used only when the quote opens
        its own sentence ('He added that the talks went well. "They did."').
        """
        span = self.spans[index]
        prev_close = self.spans[index - 1].close + 1 if index else 0
        before_start = max(span.para_start, prev_close)
        terminals = [m.end() for m in _TERMINAL.finditer(self.text, before_start, span.open)]
        before = (terminals[-1] if terminals else before_start, span.open)
        lead = (before_start, before_start)
        if terminals and not self.text[before[0] : before[1]].strip():
            lead = (terminals[-2] if len(terminals) > 1 else before_start, terminals[-1])
        after_start = min(span.close + 1, span.para_end)
        after_end = span.para_end
        if index + 1 < len(self.spans) and self.spans[index + 1].open < after_end:
            after_end = self.spans[index + 1].open
        terminal = _TERMINAL.search(self.text, after_start, after_end)
        return before, (after_start, terminal.end() if terminal else after_end), lead

    def speech_verb(self, begin: int, end: int, nearest_last: bool) -> Token | None:
        """Return the speech verb in a region closest to the quote."""
        verbs = [
            t
            for t in self.tokens_in(begin, end)
            if t.lower_ in SPEECH_VERBS and t.tag_.startswith("VB")
        ]
        if not verbs:
            return None
        return verbs[-1] if nearest_last else verbs[0]

    def according_to(self, begin: int, end: int) -> str | None:
        """Return the source named by 'according to X' in a region."""
        tokens = self.tokens_in(begin, end)
        for i, tok in enumerate(tokens[:-2]):
            if tok.lower_ == "according" and tokens[i + 1].lower_ == "to":
                return self.name_of(tokens[i + 2], before=begin)
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
            words = [t.text for t in token.subtree if t.i <= token.i and t.tag_ != "DT"]
            return " ".join(words) or None
        return None

    def recent_person(self, before: int) -> str | None:
        """Return the most recent PERSON subject before an offset, outside quotes."""
        fallback: str | None = None
        for tok in reversed(self.tokens_in(0, before)):
            if tok.ent_type_ != "PERSON" or tok.i not in self.ent_of or self.inside_quote(tok.idx):
                continue
            if tok.dep_ in _SUBJECTS:
                return self.ent_of[tok.i]
            fallback = fallback or self.ent_of[tok.i]
        return fallback

    def inside_quote(self, offset: int) -> bool:
        """Tell whether an offset falls inside one of the quotes."""
        return any(s.open < offset < s.close for s in self.spans)

    def subject_of(self, verb: Token, begin: int, end: int) -> str | None:
        """Return the speaker of a speech verb: its subject, else the nearest name beside it."""
        for child in verb.children:
            if child.dep_ in _SUBJECTS:
                return self.name_of(child, before=verb.idx)
        for tok in self.tokens_in(begin, end):
            if (tok.i in self.ent_of and tok.ent_type_ == "PERSON") or tok.lower_ in _PRONOUNS:
                return self.name_of(tok, before=verb.idx)
        return None

    def attribute(self, index: int) -> tuple[str | None, str | None]:
        """Return (speaker, verb) for the quote at index, or (None, None)."""
        span = self.spans[index]
        before, after, lead = self.regions(index)
        content = self.text[span.open + 1 : span.close].rstrip()
        verb = self.speech_verb(*after, nearest_last=False)
        if verb is not None and content.endswith(".") and verb.idx - after[0] > 40:
            verb = None  # a full stop ends the quote's sentence; a far verb is a new sentence
        region = after
        if verb is None:
            verb, region = self.speech_verb(*before, nearest_last=True), before
        if verb is not None:
            return self.subject_of(verb, *region), verb.lower_
        source = self.according_to(*after) or self.according_to(*before)
        if source:
            return source, "according to"
        verb = self.speech_verb(*lead, nearest_last=True)
        if verb is not None:
            return self.subject_of(verb, *lead), verb.lower_
        return None, None


def _clean_quote(text: str) -> str:
    return " ".join(text.split()).strip(" ,;:-—")


def extract_quotes(
    doc: Doc,
    entity_at: Mapping[int, str],
    sentence_starts: Sequence[int],
    body_start: int = 0,
) -> list[Quote]:
    """Extract quotes of MIN_QUOTE_WORDS+ words from the body, with speakers."""
    full_text = doc.text  # Doc.text is rebuilt on every access
    spans = find_quote_spans(full_text, body_start)
    attributor = Attributor(doc, full_text, entity_at, spans)
    quotes: list[Quote] = []
    carried: tuple[str | None, str | None] = (None, None)
    for index, span in enumerate(spans):
        speaker, verb = attributor.attribute(index)
        if speaker is None and index and _continues(full_text, spans[index - 1], span):
            speaker, verb = carried  # the previous speaker's words carry on
        carried = (speaker, verb)
        text = _clean_quote(full_text[span.open + 1 : span.close])
        if len(text.split()) >= MIN_QUOTE_WORDS:
            sentence = max(bisect.bisect_right(sentence_starts, span.open + 1) - 1, 0)
            quotes.append(Quote(text, speaker, verb, sentence))
    return quotes


def _continues(text: str, prior: QuoteSpan, span: QuoteSpan) -> bool:
    """Tell whether a quote follows the prior one in its paragraph or opens the next one."""
    if span.para_start == prior.para_start:
        return True
    between = text[prior.para_end : span.para_start]
    return not between.strip() and span.open == span.para_start
