"""A small composed briefing, a blank PDF, and the constants the mail tests share."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pypdf import PdfWriter

from briefing.addresses import parse_sender
from briefing.briefs.compose import (
    Briefing,
    Counts,
    GlanceLine,
    QuoteItem,
    Section,
    SourceLink,
    StoryBrief,
    StoryInput,
    compose,
)
from briefing.config import Config
from briefing.output.archive import write_briefing

DAY = date(2024, 5, 14)
WATCH = "DPRK–Russia arms talks"
SENDER = parse_sender("Morning Briefing <briefing@example.org>")
NOW = datetime(2024, 5, 13, 22, 0, tzinfo=UTC)


def story(anchor: str, label: str, topics: tuple[str, ...] = ()) -> StoryBrief:
    return StoryBrief(
        anchor=anchor,
        id=anchor,
        label=label,
        status="developing",
        topics=topics,
        watch_topic=topics[0] if topics else None,
        entities=("North Korea", "Russia"),
        summary=("Shoigu met Kim Jong Un in Pyongyang.", "Seoul protested <loudly>."),
        whats_new=("Talks resumed on Monday.",),
        continuing=True,
        quotes=(QuoteItem("We stand together", "Kim Jong Un", "Reuters", "https://r.example/1"),),
        sources=(
            SourceLink("Reuters", "Kim meets Shoigu", "https://r.example/1", None, "13 May", True),
            SourceLink("Sly", "Click me", "javascript:alert(1)", None, "13 May", False),
        ),
        outlet_count=2,
        article_count=2,
        new_article_count=1,
        latest_at=None,
    )


def make_briefing(label: str = "DPRK–Russia arms talks", day: date = DAY) -> Briefing:
    """Build a small briefing: one watch-topic story, one other story, one also-noted."""
    window_end = datetime.combine(day, datetime.min.time(), UTC) - timedelta(hours=2)
    return Briefing(
        day=day,
        title="Morning Briefing",
        edition="07:00 KST edition",
        generated_at=window_end,
        timezone="Asia/Seoul",
        window_start=window_end - timedelta(hours=24),
        window_end=window_end,
        at_a_glance=(
            GlanceLine("story-1", label, "Talks resumed on Monday.", 2),
            GlanceLine("story-2", "Typhoon season opens", "Rain.", 2),
        ),
        sections=(
            Section("topic-1", WATCH, "topic", (story("story-1", label, (WATCH,)),)),
            Section(
                "top-stories", "Other stories", "top", (story("story-2", "Typhoon season opens"),)
            ),
        ),
        also_noted=(story("noted-1", "Port strike ends"),),
        counts=Counts(3, 6, 3),
        omitted_stories=0,
    )


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def composed(stories: Sequence[StoryInput], *, window_end: datetime, **options: Any) -> Briefing:
    """Compose stories into the 14 May 2024 briefing (Asia/Seoul, a 24-hour window)."""
    settings: dict[str, Any] = {
        "day": date(2024, 5, 14),
        "title": "Morning Briefing",
        "timezone": "Asia/Seoul",
        "window_start": window_end - timedelta(hours=24),
        "window_end": window_end,
        "generated_at": window_end,
    }
    return compose(stories, **{**settings, **options})


def archive(config: Config, day: date = DAY) -> None:
    """File a built briefing for day where `briefing build` puts it (HTML, PDF and JSON)."""
    briefing = make_briefing(day=day)
    write_briefing(config.archive.dir, briefing, "<p>built</p>", blank_pdf())
