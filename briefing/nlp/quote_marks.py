"""Find quoted passages: pair quotation marks, double and single, paragraph by paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass

Region = tuple[int, int]

_PARAGRAPH = re.compile(r"[^\n]+")
# Double marks: English “…” and "…", German „…“, French «…», CJK 「…」 and 『…』.
_DOUBLE = re.compile('["“”„«»「」『』]')
_CLOSERS = frozenset("”»」』")
# Single marks are also apostrophes: an opener follows a space or an opening bracket and comes
# before a word; a closer follows a word or a stop and comes before a space or punctuation.
_SINGLE_OPEN = re.compile(r"(?:(?<=^)|(?<=[\s(\[—–“\"]))[‘'‚‹](?=[^\s'’])")
_SINGLE_CLOSE = re.compile(r"(?<=[^\s‘'])[’'›](?=$|[\s,.;:!?)\]—–”\"-])")
# Elisions that look like an opening mark: 'em, 'til, 'tis, 'cause, 'n', '90s.
_ELISION = re.compile(r"(?:em|til|tis|twas|cause|n|bout|round|\d0s|\d\d)\b", re.IGNORECASE)
_POSSESSIVE_S = re.compile(r"s[’'] [a-z]")
_ENDS_CLAUSE = re.compile(r"[,.?!]\s*$")
_ATTRIBUTION_NEXT = re.compile(r"\s*(?:$|\s[a-z])")


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
    """Pair quotation marks paragraph by paragraph, double marks first, then single ones.

    An unclosed double quote runs to the end of its paragraph; a paragraph whose first mark
    can only close a quote ('…time," the rep said.') holds the end of a quote opened earlier.
    A quote nested in another (American '…' inside "…", British "…" inside '…') is dropped.
    """
    doubles: list[QuoteSpan] = []
    singles: list[QuoteSpan] = []
    for para in _PARAGRAPH.finditer(text, start):
        p_start, p_end = para.span()
        doubles += _double_spans(text, p_start, p_end)
        singles += _single_spans(text, p_start, p_end)
    # An article quotes speech in one style: single marks count where they are the style
    # (British papers), not where they are headlines or quotes within quotes.
    if _long(text, singles) <= _long(text, doubles):
        return doubles
    spans: list[QuoteSpan] = []
    for span in sorted(doubles + singles, key=lambda s: (s.open, -s.end)):
        if not spans or span.open >= spans[-1].end or spans[-1].para_start != span.para_start:
            spans.append(span)
        # otherwise it sits inside the previous quote: a quote within a quote
    return spans


def _long(text: str, spans: list[QuoteSpan]) -> int:
    """Count the spans of three words or more."""
    return sum(len(text[s.start : s.end].split()) >= 3 for s in spans)


def _double_spans(text: str, p_start: int, p_end: int) -> list[QuoteSpan]:
    """Pair the double quotation marks of one paragraph."""
    spans: list[QuoteSpan] = []
    marks = [m.start() for m in _DOUBLE.finditer(text, p_start, p_end)]
    if marks and _closes_first(text, p_start, marks):
        spans.append(QuoteSpan(p_start, marks[0], p_start, p_end, has_open=False))
        marks = marks[1:]
    opened: int | None = None
    for i in marks:
        mark = text[i]
        if opened is None:
            if mark not in _CLOSERS:
                opened = i
        elif mark == '"' or mark in _CLOSERS or (text[opened] == "„" and mark == "“"):
            spans.append(QuoteSpan(opened + 1, i, p_start, p_end))
            opened = None
        else:  # an opening mark while a quote is open: a new quote starts there
            opened = i
    if opened is not None:
        spans.append(QuoteSpan(opened + 1, p_end, p_start, p_end))
    return spans


def _closes_first(text: str, p_start: int, marks: list[int]) -> bool:
    """Tell whether a paragraph's first quotation mark closes a quote it did not open."""
    first = marks[0]
    if first == p_start or not text[p_start:first].strip():
        return False
    if text[first] in _CLOSERS:
        return True
    straight = sum(text[i] == '"' for i in marks)
    if text[first] != '"' or straight % 2 == 0 or not _ENDS_CLAUSE.search(text, 0, first):
        return False
    # '…time," the rep said' closes; 'King said, "He asked' opens a quote that runs on. Text
    # with spaced marks ('time, " the rep') closes only before a lower-case word.
    return text[first - 1] in ",.?!" or bool(_ATTRIBUTION_NEXT.match(text, first + 1))


def _single_spans(text: str, p_start: int, p_end: int) -> list[QuoteSpan]:
    """Pair single quotation marks (British style) in one paragraph, apostrophes aside."""
    para = text[p_start:p_end]
    if "'" not in para and "‘" not in para and "’" not in para and "‹" not in para:
        return []
    opens = [
        m.start() for m in _SINGLE_OPEN.finditer(para) if not _ELISION.match(para, m.start() + 1)
    ]
    closes = [
        m.start()
        for m in _SINGLE_CLOSE.finditer(para)
        if para[m.start() - 1] in ",.!?" or not _POSSESSIVE_S.match(para, m.start() - 1)
    ]
    spans: list[QuoteSpan] = []
    position = -1
    for opener in opens:
        if opener <= position:
            continue
        closer = next((c for c in closes if c > opener + 1), None)
        if closer is None:
            # A quote running on into the next paragraph opens its own paragraph.
            if opener == 0:
                spans.append(QuoteSpan(p_start + 1, p_end, p_start, p_end))
            break
        spans.append(QuoteSpan(p_start + opener + 1, p_start + closer, p_start, p_end))
        position = closer
    return spans
