"""`briefing demo` end to end: what `make demo` runs on a fresh machine."""

from __future__ import annotations

import email
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from briefing.demo.run import DEMO_DAYS, run_demo
from briefing.output.archive import list_briefings, load_briefing

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("demo")
    run_demo(workdir, console=Console(file=io.StringIO()), today=TODAY)
    return workdir


def test_demo_archives_one_briefing_per_morning(demo_dir: Path) -> None:
    days = list_briefings(demo_dir / "archive")
    assert days == [TODAY - timedelta(days=n) for n in range(DEMO_DAYS - 1, -1, -1)]
    for day in days:
        folder = demo_dir / "archive" / f"{day:%Y/%m/%d}"
        assert (folder / "briefing.pdf").read_bytes().startswith(b"%PDF")
        assert (folder / "briefing.html").stat().st_size > 5_000


def test_demo_follows_the_anchor_story_across_days(demo_dir: Path) -> None:
    labels_by_day = {}
    for day in list_briefings(demo_dir / "archive"):
        briefing = load_briefing(demo_dir / "archive", day)
        labels_by_day[day] = [s.label for s in (*briefing.stories, *briefing.also_noted)]
        topic = [section for section in briefing.sections if section.kind == "topic"]
        assert topic and topic[0].title == "DPRK–Russia arms talks"
    anchored = [
        day
        for day, labels in labels_by_day.items()
        if any("North Korea" in label or "DPRK" in label for label in labels)
    ]
    assert len(anchored) >= 3
    latest = load_briefing(demo_dir / "archive", TODAY)
    anchor = next(s for s in latest.stories if "North Korea" in s.label or "DPRK" in s.label)
    assert anchor.continuing and anchor.whats_new


def test_demo_mails_todays_briefing_to_the_outbox(demo_dir: Path) -> None:
    messages = list((demo_dir / "outbox").glob("*.eml"))
    assert len(messages) == 1
    message = email.message_from_bytes(messages[0].read_bytes(), policy=email.policy.default)
    assert str(message["Subject"]).endswith("Morning Briefing (demo), 29 Nov")
    assert (
        message["List-Id"] == '"Morning Briefing (demo)" <morning-briefing-demo.demo.example.org>'
    )
    assert "<http://127.0.0.1:8080/unsubscribe/" in str(message["List-Unsubscribe"])
    html = message.get_body(("html",)).get_content()
    assert 'class="preheader"' in html and "http://127.0.0.1:8080/2026/11/29/briefing.html" in html
    assert '<strong class="ink" style="color:#333333;">The Pacific Ledger</strong>' in html
    assert ">pacific-ledger<" not in html  # outlets by name, not by config id
    types = [part.get_content_type() for part in message.walk()]
    assert {"text/plain", "text/html", "application/pdf"} <= set(types)
