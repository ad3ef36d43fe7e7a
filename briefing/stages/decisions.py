"""Editorial decisions in the store: record them, keep them in grouping, read them as overrides.

Every correction made at the desk or with `briefing story …` is one row of `decisions`
(who, when, what). Nothing is edited in place: the stages read the decisions back each
time, so a re-run of `group` or `build` always ends where the editors left it.
- Merges and article moves last (`apply_to_grouping`, run at the end of grouping).
- A headline lasts while the story keeps at least half of the articles it had when the
  editor wrote it (a story re-formed around other articles is a different story), and
  until an editor changes it again; a lead article lasts while it is in the story.
- A quote fix or drop holds wherever that quote appears; an outlet's name from then on.
- Dropping, order, sections and the editor's note hold for one edition (`day`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from briefing.briefs.compose import StoryInput
from briefing.briefs.overrides import Overrides
from briefing.store.engine import Store
from briefing.store.models import Article, Decision, Story, StoryArticle, utcnow
from briefing.stories.editorial import resolve_memberships

log = logging.getLogger(__name__)
GROUPING_KINDS = ("merge", "move")
EDITION_KINDS = ("drop", "order", "section", "note")


def record(
    session: Session,
    kind: str,
    editor: str,
    *,
    day: date | None = None,
    story_id: str | None = None,
    article_id: str | None = None,
    target: str | None = None,
    value: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Decision:
    """Add one decision to the session (the caller's transaction commits it)."""
    decision = Decision(
        kind=kind,
        day=day,
        story_id=story_id,
        article_id=article_id,
        target=target,
        value=value or {},
        editor=editor,
        made_at=now or utcnow(),
    )
    session.add(decision)
    session.flush()
    log.info("%s: %s %s %s %s", editor, kind, story_id or "", article_id or "", target or "")
    return decision


def grouping_rules(decisions: Iterable[Decision]) -> tuple[dict[str, str], dict[str, str]]:
    """Turn merges and moves (oldest first) into pins {article: story} and redirects."""
    pins: dict[str, str] = {}
    redirects: dict[str, str] = {}
    for decision in decisions:
        if decision.kind == "merge" and decision.story_id and decision.target:
            redirects[decision.story_id] = decision.target
            redirects.pop(decision.target, None)  # merged into: a live story again
            for article_id in decision.value.get("articles", []):
                pins[str(article_id)] = decision.target
        elif decision.kind == "move" and decision.article_id and decision.target:
            pins[decision.article_id] = decision.target
            redirects.pop(decision.target, None)  # moved into: a live story again
    return pins, redirects


def _members(session: Session, pins: dict[str, str], stories: set[str]) -> dict[str, list[str]]:
    """Return the full membership of every story a rule touches."""
    column = StoryArticle.story_id
    holding = set(session.scalars(select(column).where(StoryArticle.article_id.in_(pins))))
    wanted = holding | stories
    members: dict[str, list[str]] = defaultdict(list)
    query = select(column, StoryArticle.article_id).where(column.in_(wanted))
    for story_id, article_id in session.execute(query):
        members[story_id].append(article_id)
    return members


def refresh_spans(
    session: Session, story_ids: Iterable[str], now: datetime, merged: Iterable[str] = ()
) -> None:
    """Recompute first and last seen of stories whose articles changed; mark merged ones."""
    merged = set(merged)
    for story_id in set(story_ids):
        story = session.get(Story, story_id)
        if story is None:
            continue
        query = select(Article.published_at, Article.fetched_at).join(
            StoryArticle, StoryArticle.article_id == Article.id
        )
        times = [p or f for p, f in session.execute(query.where(StoryArticle.story_id == story_id))]
        if times:
            story.first_seen, story.last_seen = min(times), max(times)
        elif story_id in merged:
            story.status = "merged"
        story.updated_at = now


def apply_in(session: Session, now: datetime | None = None) -> int:
    """Put every article where the editors' merges and moves say; return how many moved."""
    decisions = session.scalars(
        select(Decision).where(Decision.kind.in_(GROUPING_KINDS)).order_by(Decision.id)
    ).all()
    if not decisions:
        return 0
    pins, redirects = grouping_rules(decisions)
    members = _members(session, pins, {*redirects, *redirects.values(), *pins.values()})
    changes = resolve_memberships(members, pins, redirects)
    touched = set(changes.values())
    for article_id, story_id in changes.items():
        row = session.get(StoryArticle, article_id)
        if row is not None:
            touched.add(row.story_id)
            row.story_id = story_id
    session.flush()
    refresh_spans(session, touched, now or utcnow(), merged=redirects)
    if changes:
        log.info("kept the editors' merges and moves: %d article(s) put back", len(changes))
    return len(changes)


def apply_to_grouping(store: Store, now: datetime | None = None) -> int:
    """Re-apply every merge and move after grouping ran, so a re-run never undoes them."""
    return store.run(lambda session: apply_in(session, now))


def _latest(decisions: Iterable[Decision], key: str) -> dict[str, Decision]:
    found: dict[str, Decision] = {}
    for decision in decisions:  # oldest first: a later decision replaces an earlier one
        name = getattr(decision, key)
        if name:
            found[str(name)] = decision
    return found


def _headlines(decisions: Sequence[Decision], stories: Sequence[StoryInput]) -> dict[str, Any]:
    members = {story.id: {a.id for a in story.articles} for story in stories}
    found = {}
    for story_id, decision in _latest(
        (d for d in decisions if d.kind == "headline"), "story_id"
    ).items():
        basis = set(decision.value.get("basis", []))
        held = members.get(story_id, set())
        if basis and len(basis & held) * 2 < len(basis):
            continue  # the story re-formed around other articles: the machine's label again
        headline, kicker = decision.value.get("headline", ""), decision.value.get("kicker", "")
        if headline or kicker:
            found[story_id] = (str(headline), str(kicker))
    return found


def _leads(decisions: Sequence[Decision], stories: Sequence[StoryInput]) -> dict[str, str]:
    urls = {(s.id, a.id): a.url for s in stories for a in s.articles}
    leads = _latest((d for d in decisions if d.kind == "lead"), "story_id")
    return {
        story_id: urls[(story_id, str(d.article_id))]
        for story_id, d in leads.items()
        if (story_id, str(d.article_id)) in urls
    }


def _edition(decisions: Sequence[Decision], day: date) -> dict[str, Any]:
    mine = [d for d in decisions if d.day == day]
    drops = _latest((d for d in mine if d.kind == "drop"), "story_id")
    order = [d for d in mine if d.kind == "order"]
    notes = [d for d in mine if d.kind == "note"]
    sections = _latest((d for d in mine if d.kind == "section"), "story_id")
    return {
        "dropped": frozenset(s for s, d in drops.items() if d.value.get("dropped", True)),
        "order": tuple(order[-1].value.get("order", [])) if order else (),
        "sections": {s: str(d.value.get("section", "")) for s, d in sections.items()},
        "note": str(notes[-1].value.get("text", "")) if notes else "",
    }


def overrides_for(store: Store, day: date, stories: Sequence[StoryInput]) -> Overrides:
    """Read the corrections that apply to day's edition of these stories."""
    with store.session() as session:
        lasting = select(Decision).where(or_(Decision.day.is_(None), Decision.day == day))
        decisions = session.scalars(lasting.order_by(Decision.id)).all()
    if not decisions:
        return Overrides()
    quotes = _latest((d for d in decisions if d.kind == "quote"), "target")
    outlets = _latest((d for d in decisions if d.kind == "outlet"), "target")
    return Overrides(
        headlines=_headlines(decisions, stories),
        leads=_leads(decisions, stories),
        quotes={
            key: None if d.value.get("drop") else str(d.value.get("speaker", ""))
            for key, d in quotes.items()
            if d.value.get("drop") or d.value.get("speaker")
        },
        outlets={s: str(d.value["name"]) for s, d in outlets.items() if d.value.get("name")},
        **_edition(decisions, day),
    )


def story_history(session: Session, story_id: str, limit: int = 200) -> list[Decision]:
    """Return the decisions on a story (made on it, into it, or on its articles), newest first."""
    articles = select(StoryArticle.article_id).where(StoryArticle.story_id == story_id)
    query = (
        select(Decision)
        .where(
            or_(
                Decision.story_id == story_id,
                Decision.target == story_id,
                Decision.article_id.in_(articles),
            )
        )
        .order_by(Decision.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
