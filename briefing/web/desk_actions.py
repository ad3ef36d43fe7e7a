"""What each desk form does: one correction (or the approval), then the draft rebuilt."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from briefing.config import Config
from briefing.errors import DeskError
from briefing.stages import corrections
from briefing.stages.approval import approve
from briefing.stages.review import load_draft, refresh_draft
from briefing.store.engine import Store

# Fixed messages shown after a redirect (never text from the request).
DONE = {
    "rename": "Headline saved.",
    "drop": "Story dropped from this edition.",
    "undrop": "Story back in this edition.",
    "up": "Story moved up.",
    "down": "Story moved down.",
    "section": "Story moved to its new section.",
    "merge": "Stories merged; they stay merged in later editions.",
    "move": "Article moved.",
    "lead": "Lead article set.",
    "quote_speaker": "Speaker fixed wherever this quote appears.",
    "quote_drop": "Quote dropped wherever it appears.",
    "outlet": "Outlet name saved.",
    "note": "Editor's note saved.",
    "approve": "Approved: this edition goes out at the send time.",
    "approve_send": "Approved and sent.",
}
BACK = re.compile(r"^/desk/\d{4}-\d{2}-\d{2}/(story/[A-Za-z0-9_-]{1,64})?$")


def _order(config: Config, day: date) -> list[str]:
    draft = load_draft(config, day)
    return [story.id for story in (*draft.stories, *draft.also_noted)]


def _sections(config: Config, day: date) -> list[str]:
    return [section.title for section in load_draft(config, day).sections]


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value.strip():
        raise DeskError(f"the form is missing its {name}")
    return value


def _corrections(
    store: Store, config: Config, day: date, who: str, form: dict[str, str]
) -> dict[str, Callable[[], object]]:
    story = form.get("story", "")
    return {
        "rename": lambda: corrections.rename(
            store, _field(form, "story"), form.get("headline", ""), form.get("kicker", ""), who
        ),
        "drop": lambda: corrections.drop(store, day, _field(form, "story"), who),
        "undrop": lambda: corrections.drop(store, day, _field(form, "story"), who, dropped=False),
        "up": lambda: corrections.reorder(store, day, story, -1, _order(config, day), who),
        "down": lambda: corrections.reorder(store, day, story, 1, _order(config, day), who),
        "section": lambda: corrections.set_section(
            store, day, story, _field(form, "section"), _sections(config, day), who
        ),
        "merge": lambda: corrections.merge(store, story, _field(form, "into"), who),
        "move": lambda: corrections.move_article(
            store,
            _field(form, "article"),
            None if form.get("to") == "new" else form.get("to"),
            who,
        ),
        "lead": lambda: corrections.set_lead(store, story, _field(form, "article"), who),
        "quote_speaker": lambda: corrections.fix_quote(
            store, story, _field(form, "quote"), form.get("speaker", ""), who
        ),
        "quote_drop": lambda: corrections.fix_quote(store, story, _field(form, "quote"), None, who),
        "outlet": lambda: corrections.rename_outlet(
            store, _field(form, "source"), form.get("name", ""), who
        ),
        "note": lambda: corrections.set_note(store, day, form.get("note", ""), who),
    }


def act(store: Store, config: Config, day: date, who: str, form: dict[str, str]) -> str:
    """Carry out one desk form; return where to go next (a desk page, with its message)."""
    action = form.get("action", "")
    back = form.get("back", "")
    if not BACK.match(back) or not back.startswith(f"/desk/{day.isoformat()}/"):
        back = f"/desk/{day.isoformat()}/"
    if action in ("approve", "approve_send"):
        approve(store, config, day, who, send_now=action == "approve_send")
        return f"/desk/{day.isoformat()}/?done={action}"
    table = _corrections(store, config, day, who, form)
    if action not in table:
        raise DeskError(f"unknown action {action[:40]!r}")
    if action == "merge":  # the merged-away story's page is empty now: go to the day's
        back = f"/desk/{day.isoformat()}/"
    table[action]()
    refresh_draft(store, config, day)
    return f"{back}?done={action}"
