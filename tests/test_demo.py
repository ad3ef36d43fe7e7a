"""`briefing demo` end to end: what `make demo` runs on a fresh machine."""

from __future__ import annotations

import email
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from briefing.demo.run import DEMO_DAYS, DEMO_EDITOR, run_demo
from briefing.output.archive import list_briefings, load_briefing, read_briefing
from briefing.stages.review import draft_paths

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    password = run_demo(workdir, console=Console(file=printed), today=TODAY)
    (workdir / "printed.txt").write_text(printed.getvalue())
    (workdir / "password.txt").write_text(password)
    return workdir


def demo_config(demo_dir: Path):  # type: ignore[no-untyped-def]
    from briefing.config import load_config

    return load_config(demo_dir / "briefing.toml")


def test_demo_archives_one_briefing_per_morning_and_drafts_today(demo_dir: Path) -> None:
    days = list_briefings(demo_dir / "archive")
    assert days == [TODAY - timedelta(days=n) for n in range(DEMO_DAYS - 1, 0, -1)]
    for day in days:
        folder = demo_dir / "archive" / f"{day:%Y/%m/%d}"
        assert (folder / "briefing.pdf").read_bytes().startswith(b"%PDF")
        assert (folder / "briefing.html").stat().st_size > 5_000
    draft = draft_paths(demo_config(demo_dir), TODAY)
    assert draft.pdf.read_bytes().startswith(b"%PDF") and draft.html.stat().st_size > 5_000


def test_demo_prints_the_editors_sign_in(demo_dir: Path) -> None:
    printed = (demo_dir / "printed.txt").read_text()
    password = (demo_dir / "password.txt").read_text()
    assert f"sign in as {DEMO_EDITOR} with password {password}" in printed
    assert "briefing serve --config" in printed and "/desk/" in printed


def test_demo_follows_the_anchor_story_across_days(demo_dir: Path) -> None:
    labels_by_day = {}
    draft = draft_paths(demo_config(demo_dir), TODAY).json
    for day in [*list_briefings(demo_dir / "archive"), TODAY]:
        briefing = (
            read_briefing(draft) if day == TODAY else load_briefing(demo_dir / "archive", day)
        )
        labels_by_day[day] = [s.label for s in (*briefing.stories, *briefing.also_noted)]
        topic = [section for section in briefing.sections if section.kind == "topic"]
        assert topic and topic[0].title == "DPRK–Russia arms talks"
    anchored = [
        day
        for day, labels in labels_by_day.items()
        if any("North Korea" in label or "DPRK" in label for label in labels)
    ]
    assert len(anchored) >= 3
    latest = read_briefing(draft)
    anchor = next(s for s in latest.stories if "North Korea" in s.label or "DPRK" in s.label)
    assert anchor.continuing and anchor.whats_new


def test_demo_tells_the_editor_then_mails_the_approved_briefing(demo_dir: Path) -> None:
    from briefing.stages.approval import approve
    from briefing.store.engine import Store

    before = sorted((demo_dir / "outbox").glob("*.eml"))
    assert len(before) == 2  # yesterday's briefing, as sent, and the editor's note
    mailed = [email.message_from_bytes(m.read_bytes()) for m in before]
    yesterday = TODAY - timedelta(days=1)
    assert any(f"{yesterday.day} Nov" in str(m["Subject"]) for m in mailed)
    (note,) = [m for m, parsed in zip(before, mailed, strict=True) if parsed["To"] == DEMO_EDITOR]
    told = email.message_from_bytes(note.read_bytes())
    assert "Draft ready" in told["Subject"]
    config = demo_config(demo_dir)
    approve(Store(config.store.url), config, TODAY, DEMO_EDITOR, send_now=True)
    messages = [m for m in (demo_dir / "outbox").glob("*.eml") if m not in before]
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
