"""Keep the mail's HTML under the size at which Gmail clips a message (about 102 KB).

A busy day is shown more briefly, step by step: fewer sources per story (the rest are a
link away in the web edition), then no quotes or entity lists, then one summary sentence;
only then are the last stories left to the web edition and the PDF, and the mail says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefing.briefs.compose import Briefing

HTML_BUDGET = 95 * 1024  # bytes; Gmail clips past ~102 KB, and headers and encoding add some


@dataclass(frozen=True, slots=True)
class Fit:
    """How much of each story the HTML part shows."""

    sources: int | None = None  # sources listed per story; None: all
    quotes: bool = True
    entities: bool = True
    summary: int | None = None  # summary sentences; None: all
    left_out: int = 0  # stories left to the web edition


LEVELS = (
    Fit(),
    Fit(sources=5),
    Fit(sources=3, quotes=False, entities=False),
    Fit(sources=2, quotes=False, entities=False, summary=1),
)


def first_stories(view: Briefing, keep: int) -> Briefing:
    """Keep the first `keep` stories in reading order (sections, then also noted)."""
    sections, left = [], keep
    for section in view.sections:
        kept = section.stories[: max(left, 0)]
        left -= len(kept)
        if kept or not section.stories:
            sections.append(dataclasses.replace(section, stories=kept))
    noted = view.also_noted[: max(left, 0)]
    anchors = {story.anchor for section in sections for story in section.stories}
    glance = tuple(line for line in view.at_a_glance if line.anchor in anchors)
    return dataclasses.replace(view, sections=tuple(sections), also_noted=noted, at_a_glance=glance)


def encoded_size(html: str) -> int:
    """Return the HTML's size in bytes (UTF-8), as the budget counts it."""
    return len(html.encode())


def fit_html(
    view: Briefing,
    render: Callable[[Briefing, Fit], str],
    size: Callable[[str], int] = encoded_size,
) -> str:
    """Render view as fully as fits HTML_BUDGET; size measures a rendering in bytes.

    A mailing renders with placeholder links and passes a size that counts the real ones.
    """
    for fit in LEVELS:
        html = render(view, fit)
        if size(html) <= HTML_BUDGET:
            return html
    total = len(view.stories) + len(view.also_noted)
    low, high = 1, total - 1  # the most stories that fit, found by halving
    best = render(first_stories(view, 1), dataclasses.replace(LEVELS[-1], left_out=total - 1))
    while low <= high:
        keep = (low + high) // 2
        html = render(
            first_stories(view, keep), dataclasses.replace(LEVELS[-1], left_out=total - keep)
        )
        if size(html) <= HTML_BUDGET:
            best, low = html, keep + 1
        else:
            high = keep - 1
    return best
