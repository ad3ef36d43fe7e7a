"""Wire copies: of two near-identical texts, tell which is the original publication.

A republished wire story names its origin in the byline ("Meridian Press Agency") or in a
wire tag ("SEOUL (Reuters) -", a closing "(AP)"). The copy that another copy credits is the
original; otherwise the earlier publication is. Pure functions, no store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

_WORD = re.compile(r"[a-z0-9]+")
_TAG = re.compile(r"\(([A-Z][\w&.' -]{1,40})\)")
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)
TAG_REACH = 300  # wire tags sit in the dateline or at the very end


@dataclass(frozen=True, slots=True)
class Copy:
    """One publication of a text: where, by whom, when."""

    source: str
    authors: Sequence[str]
    text: str
    published_at: datetime | None


def _words(name: str) -> str:
    return " ".join(_WORD.findall(name.lower()))


def credits(copy: Copy) -> list[str]:
    """Return the names a copy credits: its byline entries and its wire tags."""
    names = [_BY.sub("", author) for author in copy.authors]
    edges = f"{copy.text[:TAG_REACH]}\n{copy.text[-TAG_REACH:]}"
    names += _TAG.findall(edges)
    return [name for name in map(_words, names) if name]


def names_outlet(names: Sequence[str], source: str) -> bool:
    """Tell whether one of the credited names is the outlet (whole words, either way round)."""
    outlet = _words(source)
    if not outlet:
        return False
    for name in names:
        padded_name, padded_outlet = f" {name} ", f" {outlet} "
        if padded_outlet in padded_name or padded_name in padded_outlet:
            return True
    return False


def is_original(candidate: Copy, stored: Copy) -> bool:
    """Tell whether candidate, not the stored copy, is the original publication."""
    if candidate.source != stored.source:
        if names_outlet(credits(stored), candidate.source):
            return True
        if names_outlet(credits(candidate), stored.source):
            return False
    if candidate.published_at is None:
        return False
    return stored.published_at is None or candidate.published_at < stored.published_at
