"""Tell an article's text from a listing's or a landing page's, in any language or script.

Markup says "article" on most news pages, but many publishers (and most press releases) do
not declare it, and not every article shows a machine-readable date. What every article has
is running prose: several paragraphs of full sentences, whatever the language.
"""

from __future__ import annotations

import re

from scraper.language import count_words

# Page types that declare a page of links or a profile, never one story.
LISTING_TYPES = frozenset(
    {
        "collectionpage",
        "searchresultspage",
        "itemlist",
        "profilepage",
        "aboutpage",
        "contactpage",
    }
)
# Sentence ends across scripts: Latin, CJK full stops, Arabic, Devanagari, Ethiopic, Burmese,
# with closing quotes or brackets after them.
SENTENCE_END = re.compile(r"[.!?。！？…؟۔।॥።။][\"'”’»›」』)\]）]*$")
# A paragraph of prose: a sentence or more of at least this many words.
PROSE_PARAGRAPH_WORDS = 15
# Without article markup or a date, the text must be this much prose to be kept.
MIN_PROSE_PARAGRAPHS = 3
MIN_PROSE_SHARE = 0.5
LONG_PARAGRAPH_WORDS = 40


def prose_paragraphs(text: str) -> tuple[list[int], int]:
    """Return the word counts of the paragraphs that are prose, and of the whole text."""
    counted = [(count_words(p), p.strip()) for p in text.split("\n\n") if p.strip()]
    prose = [
        words
        for words, paragraph in counted
        if words >= PROSE_PARAGRAPH_WORDS and SENTENCE_END.search(paragraph)
    ]
    return prose, sum(words for words, _ in counted)


def reads_as_article(text: str) -> bool:
    """Tell whether a body is running prose (an article), not teasers, menus or a blurb.

    Teasers on a section page are prose too, one sentence each: an article also has at
    least one paragraph that runs longer.
    """
    prose, total = prose_paragraphs(text)
    return (
        len(prose) >= MIN_PROSE_PARAGRAPHS
        and sum(prose) >= total * MIN_PROSE_SHARE
        and max(prose) >= LONG_PARAGRAPH_WORDS
    )
