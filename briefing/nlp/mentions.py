"""Turn the model's entity spans into clean mentions: the errors a reader would notice, fixed."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from spacy.tokens import Doc, Span

from briefing.nlp.entities import Mention

_HYPHENATED_END = re.compile(r"-[^\W\d_]+")
_FIRST_NUMBER = re.compile(r"\s+\S*\d")
_CREDIT_CLOSE = re.compile(r"\)\s*(?:$|\n)")
_LOWER_WORD = re.compile(r"\b[a-z][a-z]+\b")
# Last words that make a name an organisation whatever the model says ("McMillan LLP").
CORPORATE_WORDS = frozenset(
    """llp llc inc incorporated ltd limited corp corporation co plc gmbh ag sa nv group holdings
    bank university college institute foundation association party council committee agency
    ministry department commission company partners associates""".split()
)


def clean_mentions(
    doc: Doc, text: str, labels: Collection[str], skip: Collection[tuple[int, int]] = ()
) -> Iterator[Mention]:
    """Yield the mentions of a parsed article, each span checked and its label corrected.

    skip holds character ranges (wire credits, datelines) whose names are not the story's.
    """
    lower_words: set[str] | None = None
    for ent in doc.ents:
        if ent.label_ not in labels or any(a <= ent.start_char < b for a, b in skip):
            continue
        start, end, label = ent.start_char, ent.end_char, ent.label_
        if _in_credit(text, start, end):
            continue
        if label == "PERSON" and (more := _HYPHENATED_END.match(text, end)):
            end = more.end()  # the model stops "Seo Min-jae" at "Seo Min"
        elif text[end : end + 1] == "-" and text[end + 1 : end + 2].islower():
            continue  # "Soviet-era", "US-led": a modifier, not a mention
        surface = text[start:end]
        if number := _FIRST_NUMBER.search(surface):
            surface = surface[: number.start()]  # "Daegu Falcons 2-1": a scoreline
        if not surface.strip():
            continue
        label = _corrected_label(ent, surface, label)
        word = surface.strip()
        if " " not in word and word[:1].isupper() and word[1:].islower():
            if lower_words is None:
                lower_words = set(_LOWER_WORD.findall(text))
            if word.lower() in lower_words:
                continue  # "Tsunami" is a name only to the model: the text says "tsunami"
        yield Mention(surface, label, start)


def _corrected_label(ent: Span, surface: str, label: str) -> str:
    """Relabel what the small model gets wrong: firms as people, provinces as people."""
    last = surface.split()[-1].strip(".,").lower()
    if last in CORPORATE_WORDS and label in ("PERSON", "GPE", "NORP"):
        return "ORG"
    doc = ent.doc
    if (
        label in ("PERSON", "ORG")
        and ent.start >= 2
        and doc[ent.start - 1].text == ","
        and doc[ent.start - 2].ent_type_ == "GPE"
        and len(surface) <= 6
    ):
        return "GPE"  # "Oakville, Ont.", "Kansas City, Mo.": a region after its town
    return label


def _in_credit(text: str, start: int, end: int) -> bool:
    """Tell whether a name is part of a credit line ("Jason Franson/Canadian Press")."""
    if text[start - 1 : start] == "(" and _CREDIT_CLOSE.match(text, end):
        return True  # "… recovering on chip exports. (Meridian)": a wire credit
    return (
        text.startswith(" (@", end)  # "— Michelle Rempel (@MichelleRempel) December 18": a tweet
        or "/" in text[start:end]
        or text[end : end + 2].lstrip(" ").startswith("/")
        or text[max(start - 2, 0) : start].rstrip(" ").endswith("/")
    )
