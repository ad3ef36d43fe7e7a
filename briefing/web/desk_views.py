"""What the desk's pages show: the draft's stories with their controls, a story and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from briefing.briefs.compose import Briefing, StoryBrief
from briefing.briefs.overrides import ALSO_NOTED, shown_label
from briefing.config import Config
from briefing.errors import DeskError
from briefing.mail.message import make_mail_environment, render_bodies
from briefing.stages.decisions import story_history
from briefing.stages.review import closed_reason, edition, load_draft
from briefing.store.engine import Store
from briefing.store.models import Article, Decision, Story, StoryArticle


@dataclass(frozen=True, slots=True)
class Card:
    """A story of the draft as the desk lists it."""

    story: StoryBrief
    section: str
    number: int
    headline: str


def _draft(config: Config, day: date) -> Briefing | None:
    try:
        return load_draft(config, day)
    except DeskError:
        return None


def _cards(draft: Briefing | None) -> list[Card]:
    if draft is None:
        return []
    placed = [(s.title, story) for s in draft.sections for story in s.stories]
    placed += [(ALSO_NOTED, story) for story in draft.also_noted]
    return [Card(story, title, n, shown_label(story)) for n, (title, story) in enumerate(placed, 1)]


def _dropped(store: Store, day: date) -> list[tuple[str, str]]:
    """Return (id, label) of the stories dropped from day's edition."""
    with store.session() as session:
        rows = session.scalars(
            select(Decision).where(Decision.kind == "drop", Decision.day == day)
            .order_by(Decision.id)
        ).all()  # fmt: skip
        latest = {row.story_id: row.value.get("dropped", True) for row in rows}
        ids = [story_id for story_id, dropped in latest.items() if dropped and story_id]
        labels = dict(session.execute(select(Story.id, Story.label).where(Story.id.in_(ids))).all())
    return [(story_id, labels.get(story_id, story_id)) for story_id in ids]


def day_context(store: Store, config: Config, day: date) -> dict[str, Any]:
    """Gather the desk's page for one edition."""
    draft, row = _draft(config, day), edition(store, day)
    cards = _cards(draft)
    return {
        "day": day,
        "draft": draft,
        "row": row,
        "cards": cards,
        "choices": [(card.story.id, card.headline) for card in cards],
        "sections": [s.title for s in draft.sections] + [ALSO_NOTED] if draft else [],
        "dropped": _dropped(store, day),
        "closed": closed_reason(store, day, row),
        "due": config.briefing_due(day).astimezone(config.tz),
        "mode": config.review.unreviewed,
        "enabled": config.review.enabled,
    }


def _articles(store: Store, story_id: str) -> list[Article]:
    with store.session() as session:
        return list(
            session.scalars(
                select(Article)
                .join(StoryArticle, StoryArticle.article_id == Article.id)
                .where(StoryArticle.story_id == story_id)
                .order_by(Article.published_at, Article.id)
            )
        )


def describe(decision: Decision, labels: dict[str, str]) -> str:
    """Say what one decision did, in a line."""
    value, kind = decision.value, decision.kind
    other = labels.get(decision.target or "", decision.target or "")
    if kind == "headline":
        said = (
            f"headline “{value.get('headline', '')}”" if value.get("headline") else "headline reset"
        )
        return said + (f", kicker “{value['kicker']}”" if value.get("kicker") else "")
    if kind == "merge":
        return f"merged story {decision.story_id} into “{other}”"
    if kind == "move":
        return f"moved article {decision.article_id} to “{other}”"
    if kind == "quote":
        quote = str(value.get("text", ""))[:80]
        return f"dropped the quote “{quote}”" if value.get("drop") else (
            f"quote “{quote}” attributed to {value.get('speaker', '')}")  # fmt: skip
    if kind == "drop":
        what = "dropped from" if value.get("dropped", True) else "brought back into"
        return f"{what} the edition of {decision.day}"
    if kind == "order":
        return (
            f"moved {'up' if value.get('step', 0) < 0 else 'down'} in the edition of {decision.day}"
        )
    if kind == "section":
        return f"put in “{value.get('section', '')}” in the edition of {decision.day}"
    if kind == "lead":
        return f"article {decision.article_id} made the lead"
    return kind


def story_context(store: Store, config: Config, day: date, story_id: str) -> dict[str, Any] | None:
    """Gather a story's desk page: its articles, quotes, outlets and edit history."""
    with store.session() as session:
        story = session.get(Story, story_id)
        history = story_history(session, story_id)
        labels = dict(session.execute(select(Story.id, Story.label)).all())
        outlet_names = {
            d.target: d.value.get("name", "")
            for d in session.scalars(
                select(Decision).where(Decision.kind == "outlet").order_by(Decision.id)
            )
        }
    if story is None:
        return None
    draft = _draft(config, day)
    cards = _cards(draft)
    brief = next((card.story for card in cards if card.story.id == story_id), None)
    labels.update({card.story.id: card.headline for card in cards})
    articles = _articles(store, story_id)
    zone = config.tz
    return {
        "day": day,
        "story": story,
        "brief": brief,
        "headline": shown_label(brief) if brief else story.label,
        "articles": articles,
        "lead": brief.sources[0].url if brief and brief.sources else "",
        "outlets": sorted({(a.source, outlet_names.get(a.source, "")) for a in articles}),
        "choices": [(c.story.id, c.headline) for c in cards if c.story.id != story_id],
        "history": [(_local(d.made_at, zone), d.editor, describe(d, labels)) for d in history],
        "closed": closed_reason(store, day, edition(store, day)),
    }


def _local(moment: datetime, zone: Any) -> str:
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname() or ''}".rstrip()


def mail_preview(config: Config, day: date) -> str:
    """Render the draft's mail (HTML part) exactly as a subscriber of every topic gets it."""
    draft = load_draft(config, day)
    _text, html = render_bodies(
        draft, topics=(), attached=config.mail.attach_pdf, env=make_mail_environment()
    )
    return html
