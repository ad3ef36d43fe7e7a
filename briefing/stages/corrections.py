"""The corrections an editor can make, each checked and stored as one decision (desk and CLI).

Each function checks what it is given (the story, article or source exists; text is short
and printable), records the decision with who and when, and, for merges and moves, puts
the articles where they now belong at once. Mistakes raise DeskError; nothing is half done.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from briefing.briefs.overrides import ALSO_NOTED, quote_key
from briefing.errors import DeskError
from briefing.stages.decisions import apply_in, record, refresh_spans
from briefing.store.engine import Store
from briefing.store.models import Article, Story, StoryArticle, utcnow

MAX_HEADLINE = 200
MAX_KICKER = 60
MAX_NOTE = 2000
MAX_NAME = 80


def clean_text(value: str, limit: int, what: str, *, lines: bool = False) -> str:
    """Return value without control characters and extra spaces, or raise DeskError if long."""
    kept = "".join(c for c in value if (lines and c == "\n") or unicodedata.category(c)[0] != "C")
    text = "\n".join(" ".join(line.split()) for line in kept.split("\n")).strip()
    if len(text) > limit:
        raise DeskError(f"{what} is too long ({len(text)} characters; at most {limit})")
    return text


def _story(session: Session, story_id: str) -> Story:
    story = session.get(Story, story_id)
    if story is None:
        raise DeskError(f"no story {story_id!r} (`briefing review` lists the draft's stories)")
    return story


def _members(session: Session, story_id: str) -> list[str]:
    query = select(StoryArticle.article_id).where(StoryArticle.story_id == story_id)
    return sorted(session.scalars(query))


def rename(
    store: Store,
    story_id: str,
    headline: str,
    kicker: str,
    editor: str,
    now: datetime | None = None,
) -> None:
    """Give a story a headline and kicker (both empty: back to the machine's)."""
    headline = clean_text(headline, MAX_HEADLINE, "the headline")
    kicker = clean_text(kicker, MAX_KICKER, "the kicker")

    def work(session: Session) -> None:
        _story(session, story_id)
        value = {"headline": headline, "kicker": kicker, "basis": _members(session, story_id)}
        record(session, "headline", editor, story_id=story_id, value=value, now=now)

    store.run(work)


def merge(store: Store, story_id: str, into: str, editor: str, now: datetime | None = None) -> None:
    """Merge story_id into another story, for good: later grouping keeps them together."""
    if story_id == into:
        raise DeskError("a story cannot be merged into itself")

    def work(session: Session) -> None:
        _story(session, story_id), _story(session, into)
        articles = _members(session, story_id) + _members(session, into)
        value = {"articles": articles}
        record(session, "merge", editor, story_id=story_id, target=into, value=value, now=now)
        apply_in(session, now)

    store.run(work)


def move_article(
    store: Store, article_id: str, to: str | None, editor: str, now: datetime | None = None
) -> str:
    """Move an article to another story, or to a new story of its own; return that story's id."""
    now = now or utcnow()

    def work(session: Session) -> str:
        row = session.get(StoryArticle, article_id)
        article = session.get(Article, article_id)
        if row is None or article is None:
            raise DeskError(f"no grouped article {article_id!r}")
        if to:
            _story(session, to)
        target = to or _new_story(session, article, now)
        value = {"from": row.story_id, "new": to is None}
        record(session, "move", editor, article_id=article_id, story_id=row.story_id,
               target=target, value=value, now=now)  # fmt: skip
        apply_in(session, now)
        refresh_spans(session, [target, str(value["from"])], now)
        return target

    return store.run(work)


def _new_story(session: Session, article: Article, now: datetime) -> str:
    story_id = f"ed-{secrets.token_hex(6)}"
    seen = article.published_at or article.fetched_at
    label = " ".join(article.title.split())[:MAX_HEADLINE]
    session.add(Story(id=story_id, label=label, status="new", first_seen=seen, last_seen=seen,
                      topics=[], profile={}, updated_at=now))  # fmt: skip
    session.flush()
    return story_id


def drop(
    store: Store, day: date, story_id: str, editor: str, *, dropped: bool = True,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Leave a story out of day's edition (or bring it back)."""

    def work(session: Session) -> None:
        _story(session, story_id)
        value = {"dropped": dropped}
        record(session, "drop", editor, day=day, story_id=story_id, value=value, now=now)

    store.run(work)


def reorder(
    store: Store, day: date, story_id: str, step: int, order: Sequence[str], editor: str,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Move a story step places up (negative) or down in day's reading order."""
    current = list(order)
    if story_id not in current:
        raise DeskError(f"story {story_id!r} is not in the edition of {day}")
    index = current.index(story_id)
    wanted = min(max(index + step, 0), len(current) - 1)
    current.insert(wanted, current.pop(index))
    value = {"order": current, "story": story_id, "step": step}
    store.run(lambda s: record(s, "order", editor, day=day, story_id=story_id, value=value,
                               now=now))  # fmt: skip


def set_section(
    store: Store, day: date, story_id: str, section: str, sections: Sequence[str], editor: str,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Put a story in another section of day's edition (or in "Also noted")."""
    if section not in (*sections, ALSO_NOTED):
        raise DeskError(f"no section {section!r} (choose from {', '.join(sections)})")
    value = {"section": section}
    store.run(lambda s: record(s, "section", editor, day=day, story_id=_story(s, story_id).id,
                               value=value, now=now))  # fmt: skip


def set_lead(
    store: Store, story_id: str, article_id: str, editor: str, now: datetime | None = None
) -> None:
    """Mark an article as its story's lead: listed first wherever the story appears."""

    def work(session: Session) -> None:
        if article_id not in _members(session, _story(session, story_id).id):
            raise DeskError(f"article {article_id!r} is not in story {story_id!r}")
        record(session, "lead", editor, story_id=story_id, article_id=article_id, now=now)

    store.run(work)


def fix_quote(
    store: Store, story_id: str, text: str, speaker: str | None, editor: str,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """Give a quote its right speaker, or drop it (speaker None), wherever it appears."""
    if not text.strip():
        raise DeskError("which quote? its text is empty")
    value: dict[str, object] = {"text": clean_text(text, 1000, "the quote")}
    if speaker is None:
        value["drop"] = True
    else:
        value["speaker"] = clean_text(speaker, MAX_NAME, "the speaker")
        if not value["speaker"]:
            raise DeskError("the speaker is empty (to remove the quote, drop it)")
    store.run(lambda s: record(s, "quote", editor, story_id=story_id, target=quote_key(text),
                               value=value, now=now))  # fmt: skip


def rename_outlet(
    store: Store, source: str, name: str, editor: str, now: datetime | None = None
) -> None:
    """Set the name readers see for a source (empty: back to the source's own name)."""
    name = clean_text(name, MAX_NAME, "the outlet's name")

    def work(session: Session) -> None:
        if session.scalar(select(Article.id).where(Article.source == source).limit(1)) is None:
            raise DeskError(f"no articles from a source called {source!r}")
        record(session, "outlet", editor, target=source, value={"name": name}, now=now)

    store.run(work)


def set_note(store: Store, day: date, text: str, editor: str, now: datetime | None = None) -> None:
    """Set the editor's note printed at the top of day's edition (empty: none)."""
    value = {"text": clean_text(text, MAX_NOTE, "the note", lines=True)}
    store.run(lambda s: record(s, "note", editor, day=day, value=value, now=now))
