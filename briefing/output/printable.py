"""The briefing as print shows it: long unbroken tokens get break opportunities.

WeasyPrint's line breaking retries an unbreakable word at every position, so a word of
10,000 characters took seconds and one of 100,000 minutes; with a break every 30
characters layout time grows with the text's length, no faster.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from briefing.briefs.compose import Briefing, GlanceLine, QuoteItem, SourceLink, StoryBrief
from briefing.output.display import breakable

# Which fields of each part of a briefing are text shown to readers (never URLs or ids).
_SHOWN = {
    StoryBrief: ("label", "summary", "whats_new", "entities", "quotes", "sources"),
    GlanceLine: ("label", "text"),
    QuoteItem: ("text", "speaker", "outlet"),
    SourceLink: ("outlet", "title"),
}


def _breakable(value: Any) -> Any:
    if isinstance(value, str):
        return breakable(value)
    if isinstance(value, tuple):
        return tuple(_breakable(item) for item in value)
    fields = _SHOWN.get(type(value))
    if fields is None:
        return value
    return dataclasses.replace(value, **{name: _breakable(getattr(value, name)) for name in fields})


def for_print(briefing: Briefing) -> Briefing:
    """Give long unbroken tokens in shown text break opportunities, so layout stays linear."""
    sections = tuple(
        dataclasses.replace(section, stories=_breakable(section.stories))
        for section in briefing.sections
    )
    return dataclasses.replace(
        briefing,
        sections=sections,
        at_a_glance=_breakable(briefing.at_a_glance),
        also_noted=_breakable(briefing.also_noted),
    )
