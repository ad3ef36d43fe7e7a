"""Text as readers see it: no bidi controls, bounded lengths, breakable long tokens.

Titles, labels and quotes come from the web. A U+202E in a title reverses what follows it
on screen and on paper ("exe.tax" shown as "xat.exe"), so every bidi control is dropped
before anything is shown. A 100,000-character word made WeasyPrint's line breaking take
minutes (it retries the word at every position), so displayed text is bounded, and long
unbroken tokens get invisible break opportunities in print.
"""

from __future__ import annotations

import re
import unicodedata

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), and the marks
# (LRM, RLM, ALM): none is needed to show a title, and each can disguise one.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
ELLIPSIS = "…"
BREAK = "\u200b"  # zero-width space: a line may break here, nothing is shown
BREAK_EVERY = 30
LONG_TOKEN = 60  # longer than any word of a natural language: a URL, a hashtag, junk
# Runs of characters a line cannot break inside. CJK scripts break between any two
# characters already, so they never count as one long token.
_CJK = "\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_LONG_TOKEN = re.compile(rf"[^\s{_CJK}{BREAK}]{{{LONG_TOKEN + 1},}}")

# How much of each field a reader is shown (characters).
TITLE_CHARS = 300
LABEL_CHARS = 200
SENTENCE_CHARS = 600
QUOTE_CHARS = 500
NAME_CHARS = 100


def strip_bidi(text: str) -> str:
    """Drop every bidi control character."""
    return _BIDI.sub("", text)


def bounded(text: str, limit: int) -> str:
    """Strip bidi controls and cut text to at most limit characters, ending in an ellipsis."""
    text = strip_bidi(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.8:  # end on a word when one ends near the limit
        cut = cut[:space]
    while cut and unicodedata.combining(cut[-1]):  # no mark left without its letter
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def _break_token(match: re.Match[str]) -> str:
    token, pieces, start = match[0], [], 0
    while len(token) - start > BREAK_EVERY:
        end = start + BREAK_EVERY
        while end < len(token) and unicodedata.combining(token[end]):
            end += 1  # keep a combining mark with its letter
        pieces.append(token[start:end])
        start = end
    pieces.append(token[start:])
    return BREAK.join(piece for piece in pieces if piece)


def breakable(text: str) -> str:
    """Give unbroken runs longer than LONG_TOKEN an invisible break every BREAK_EVERY characters."""
    return _LONG_TOKEN.sub(_break_token, text)
