"""Keep an editor's merges and moves whatever grouping decides: a pure function of memberships.

Decisions reach grouping as two maps. A *pin* puts one article in a story (an article
moved, or every article of two merged stories); a *redirect* sends whatever grouping puts
in a merged-away story to the story it was merged into. After grouping, each story that
is mostly pinned articles of another story follows them there (so a re-clustered half of a
merged story, new articles included, stays merged), then every pin is applied.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

MAX_CHAIN = 64


def final_story(story_id: str, redirects: Mapping[str, str]) -> str:
    """Follow merges from story_id to the story that holds it now (cycles stop the walk)."""
    seen = {story_id}
    for _ in range(MAX_CHAIN):
        following = redirects.get(story_id)
        if following is None or following in seen:
            return story_id
        seen.add(following)
        story_id = following
    return story_id


def resolve_memberships(
    members: Mapping[str, list[str]],
    pins: Mapping[str, str],
    redirects: Mapping[str, str],
) -> dict[str, str]:
    """Return {article id: story id} for every article whose story the decisions change."""
    original = {article: story for story, articles in members.items() for article in articles}
    placed = {article: final_story(story, redirects) for article, story in original.items()}
    by_story: dict[str, list[str]] = defaultdict(list)
    for article, story in placed.items():
        by_story[story].append(article)
    for story, articles in by_story.items():
        targets = Counter(final_story(pins[a], redirects) for a in articles if a in pins)
        if not targets:
            continue
        target, count = targets.most_common(1)[0]
        if target != story and count * 2 > len(articles):
            for article in articles:
                placed[article] = target
    for article, story in pins.items():
        if article in placed:
            placed[article] = final_story(story, redirects)
    return {a: s for a, s in placed.items() if original[a] != s}
