"""How long an article's fields may be: one set of limits for extraction, import and storage.

A hostile or broken page can carry a title of a million characters or a byline of thousands
of names; left alone, such a field breaks every later step (spaCy refuses texts over its
max_length, layouts go quadratic). Each limit is far above anything a real article needs, so
clipping never changes a genuine article.
"""

from __future__ import annotations

from collections.abc import Iterable

TITLE_CHARS = 1_000  # the longest real headlines run to about 300
AUTHOR_CHARS = 120  # one name with its affiliation
AUTHORS = 50  # a byline, not a staff list
BODY_CHARS = 1_000_000  # a long report is 100,000; longer is a dump, not an article
NLP_CHARS = 100_000  # what enrichment reads of a body: summaries and quotes come from the top

ELLIPSIS = "…"


def clip(value: str, limit: int) -> str:
    """Return value cut to at most limit characters, at a word boundary where one is near."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ", limit // 2)
    return (cut[:space] if space > 0 else cut).rstrip() + ELLIPSIS


def clip_title(title: str) -> str:
    """Return a title within TITLE_CHARS."""
    return clip(title, TITLE_CHARS)


def clip_authors(authors: Iterable[str]) -> list[str]:
    """Return at most AUTHORS names, each within AUTHOR_CHARS, blanks dropped."""
    names = [clip(name, AUTHOR_CHARS) for name in authors if name and name.strip()]
    return names[:AUTHORS]


def clip_body(text: str) -> str:
    """Return a body within BODY_CHARS."""
    return clip(text, BODY_CHARS)
