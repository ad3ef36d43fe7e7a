"""Apply an editor's corrections to a day's briefing: pure functions over the composed data.

Two steps around `compose`: `apply_to_inputs` fixes what compose reads (quotes fixed or
dropped, outlet names, stories dropped from this edition), so that compose picks another
quote and counts what is really shown; `apply_to_briefing` fixes what compose wrote
(headline and kicker, lead article, the editor's order and sections, the editor's note).
A story's headline goes into its `headline` field when the model has one, else its label.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from briefing.briefs.compose import (
    GLANCE_CHARS,
    GLANCE_LIMIT,
    Briefing,
    GlanceLine,
    QuoteItem,
    Section,
    SourceArticle,
    StoryBrief,
    StoryInput,
)

ALSO_NOTED = "Also noted"  # the section name an editor picks to demote a story


def quote_key(text: str) -> str:
    """Return the key of a quote: the same words, whatever the quotation marks and spacing."""
    words = " ".join(text.split()).strip("\"'“”‘’ ").casefold()
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Overrides:
    """An edition's corrections, read from the store's decisions (see stages/decisions.py)."""

    headlines: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # id: (head, kicker)
    dropped: frozenset[str] = frozenset()
    order: tuple[str, ...] = ()  # story ids in the editor's reading order
    sections: Mapping[str, str] = field(default_factory=dict)  # story id: section title
    leads: Mapping[str, str] = field(default_factory=dict)  # story id: lead article URL
    quotes: Mapping[str, str | None] = field(default_factory=dict)  # quote key: speaker/None
    outlets: Mapping[str, str] = field(default_factory=dict)  # source name: display name
    note: str = ""

    @property
    def empty(self) -> bool:
        return not any(
            (self.headlines, self.dropped, self.order, self.sections, self.leads, self.quotes)
        ) and not (self.outlets or self.note)


def _fix_quotes(
    quotes: tuple[tuple[str, str | None], ...], fixes: Mapping[str, str | None]
) -> tuple[tuple[str, str | None], ...]:
    kept = []
    for text, speaker in quotes:
        key = quote_key(text)
        if key not in fixes:
            kept.append((text, speaker))
        elif fixes[key] is not None:
            kept.append((text, fixes[key]))
    return tuple(kept)


def _fix_article(article: SourceArticle, overrides: Overrides) -> SourceArticle:
    outlet = overrides.outlets.get(article.outlet, article.outlet)
    quotes = _fix_quotes(article.quotes, overrides.quotes) if overrides.quotes else article.quotes
    if outlet == article.outlet and quotes == article.quotes:
        return article
    return dataclasses.replace(article, outlet=outlet, quotes=quotes)


def apply_to_inputs(stories: Sequence[StoryInput], overrides: Overrides) -> list[StoryInput]:
    """Drop the stories dropped from this edition; fix quotes and outlet names."""
    fixed = []
    for story in stories:
        if story.id in overrides.dropped:
            continue
        articles = tuple(_fix_article(a, overrides) for a in story.articles)
        fixed.append(dataclasses.replace(story, articles=articles))
    return fixed


def _retitled(story: StoryBrief, overrides: Overrides) -> StoryBrief:
    """Give a story the editor's headline, kicker and lead article, and fixed quotes."""
    changes: dict[str, Any] = {}
    if story.id in overrides.headlines:
        headline, kicker = overrides.headlines[story.id]
        if headline:
            changes["headline"] = headline
        if kicker:
            changes["label"] = kicker  # the label is the short line above the headline
    lead = overrides.leads.get(story.id)
    if lead and any(source.url == lead for source in story.sources):
        first = [s for s in story.sources if s.url == lead]
        changes["sources"] = (*first, *(s for s in story.sources if s.url != lead))
    if overrides.quotes:
        quotes = [
            q for q in story.quotes if overrides.quotes.get(quote_key(q.text), "") is not None
        ]
        changes["quotes"] = tuple(_speaker(q, overrides) for q in quotes)
    return dataclasses.replace(story, **changes) if changes else story


def _speaker(quote: QuoteItem, overrides: Overrides) -> QuoteItem:
    speaker = overrides.quotes.get(quote_key(quote.text))
    return dataclasses.replace(quote, speaker=speaker) if speaker else quote


def shown_label(story: StoryBrief) -> str:
    """Return the headline a reader sees: the `headline` field when the model has one."""
    return str(getattr(story, "headline", "") or story.label)


def _reorder(stories: list[StoryBrief], order: Sequence[str]) -> list[StoryBrief]:
    position = {story_id: index for index, story_id in enumerate(order)}
    ranked = sorted(enumerate(stories), key=lambda p: (position.get(p[1].id, len(order)), p[0]))
    return [story for _index, story in ranked]


def _regroup(briefing: Briefing, overrides: Overrides) -> tuple[list[Section], list[StoryBrief]]:
    """Put each story in its (editor's) section, in the editor's order."""
    titles = [section.title for section in briefing.sections]
    placed: dict[str, list[StoryBrief]] = {title: [] for title in (*titles, ALSO_NOTED)}
    everything = [(s.title, story) for s in briefing.sections for story in s.stories]
    everything += [(ALSO_NOTED, story) for story in briefing.also_noted]
    for home, story in everything:
        wanted = overrides.sections.get(story.id, home)
        placed[wanted if wanted in placed else home].append(story)
    if overrides.order:
        placed = {title: _reorder(stories, overrides.order) for title, stories in placed.items()}
    sections = []
    for section in briefing.sections:
        if section.kind == "topic" or placed[section.title]:
            sections.append(dataclasses.replace(section, stories=tuple(placed[section.title])))
    return sections, placed[ALSO_NOTED]


def _glance_text(story: StoryBrief) -> str:
    text = (story.whats_new or story.summary or ("",))[0]
    if len(text) <= GLANCE_CHARS:
        return text
    return text[:GLANCE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _renumber(
    sections: list[Section], noted: list[StoryBrief], old: tuple[GlanceLine, ...]
) -> tuple[tuple[Section, ...], tuple[StoryBrief, ...], tuple[GlanceLine, ...]]:
    """Number anchors in reading order again and rebuild "At a glance" to match."""
    texts = {line.anchor: line.text for line in old}
    glance: list[GlanceLine] = []
    numbered, counter = [], 0
    for section in sections:
        stories = []
        for story in section.stories:
            counter += 1
            anchor = f"story-{counter}"
            if len(glance) < GLANCE_LIMIT:
                text = texts.get(story.anchor) or _glance_text(story)
                glance.append(GlanceLine(anchor, shown_label(story), text, story.outlet_count))
            stories.append(dataclasses.replace(story, anchor=anchor))
        numbered.append(dataclasses.replace(section, stories=tuple(stories)))
    notes = tuple(dataclasses.replace(s, anchor=f"noted-{n}") for n, s in enumerate(noted, 1))
    return tuple(numbered), notes, tuple(glance)


def _relabelled(glance: tuple[GlanceLine, ...], briefing: Briefing) -> tuple[GlanceLine, ...]:
    labels = {story.anchor: shown_label(story) for story in briefing.stories}
    return tuple(dataclasses.replace(g, label=labels.get(g.anchor, g.label)) for g in glance)


def apply_to_briefing(briefing: Briefing, overrides: Overrides) -> Briefing:
    """Return the briefing with the editor's headlines, leads, order, sections and note."""
    if overrides.empty:
        return briefing
    retitled = dataclasses.replace(
        briefing,
        sections=tuple(
            dataclasses.replace(s, stories=tuple(_retitled(t, overrides) for t in s.stories))
            for s in briefing.sections
        ),
        also_noted=tuple(_retitled(story, overrides) for story in briefing.also_noted),
        editor_note=overrides.note.strip(),
    )
    if not (overrides.order or overrides.sections):  # compose's order and glance stand
        return dataclasses.replace(
            retitled, at_a_glance=_relabelled(briefing.at_a_glance, retitled)
        )
    sections, noted = _regroup(retitled, overrides)
    ordered, notes, glance = _renumber(sections, noted, briefing.at_a_glance)
    return dataclasses.replace(retitled, sections=ordered, also_noted=notes, at_a_glance=glance)
