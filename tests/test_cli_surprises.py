"""Surprising defaults made explicit: build's window and dates, send's old or empty days,
export's --since, and what `run` says when a stage fails."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.briefings import blank_pdf, make_briefing
from support.config import SENDER, smtp_section, write_config
from support.http import unused_port
from typer.testing import CliRunner

from briefing.briefs.compose import Counts
from briefing.cli import app
from briefing.config import load_config
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp

DESK = {"email": "desk@example.org"}
TEXT = "Talks on the port resumed on Monday. Officials met again in the capital. More follows."


def instance(folder: Path, **sections: Any) -> Path:
    defaults: dict[str, Any] = {"timezone": "Asia/Seoul", "mail": {"sender": SENDER}}
    return write_config(folder, **{**defaults, **sections})


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.output


def add_article(
    store: Store, article_id: str, published: datetime | None, fetched: datetime, grouped: bool
) -> None:
    """Store an enriched article, grouped into no story unless grouped is set."""
    with store.session() as session:
        session.add(
            Article(
                id=article_id, url=f"https://wire.example/{article_id}", source="wire",
                title=f"Port talks {article_id}", text=TEXT, published_at=published,
                fetched_at=fetched, word_count=len(TEXT.split()),
                grouped_at=fetched if grouped else None,
            )
        )  # fmt: skip
        session.flush()
        data = {"sentences": TEXT.split(". "), "entities": [], "quotes": [], "key_phrases": []}
        session.add(ArticleNlp(article_id=article_id, model="seeded", data=data))


def file_briefing(config: Path, day: date, *, empty: bool = False) -> None:
    folder = load_config(config).archive.dir / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    folder.mkdir(parents=True)
    briefing = make_briefing(day=day)
    if empty:
        nothing: dict[str, object] = {"at_a_glance": (), "sections": (), "also_noted": ()}
        briefing = dataclasses.replace(briefing, counts=Counts(0, 0, 0), **nothing)  # type: ignore[arg-type]
    (folder / "briefing.json").write_text(json.dumps(briefing.to_dict()))
    (folder / "briefing.pdf").write_bytes(blank_pdf())


# build


def test_build_refuses_a_future_date(tmp_path: Path) -> None:
    config = instance(tmp_path)
    tomorrow = datetime.now(load_config(config).tz).date() + timedelta(days=1)
    code, output = invoke(config, "build", "--date", tomorrow.isoformat())
    assert code == 2 and output.startswith("usage error: --date: ") and "future" in output
    assert not (tmp_path / "archive").exists()


def test_build_groups_articles_not_yet_grouped_first(tmp_path: Path) -> None:
    config = instance(tmp_path)
    store = Store(load_config(config).store.url)
    day = date(2026, 5, 14)
    due = datetime(2026, 5, 13, 22, 0, tzinfo=UTC)  # 07:00 in Seoul
    for n in (1, 2):
        add_article(store, f"a{n}", due - timedelta(hours=n), due - timedelta(hours=n), False)
    code, output = invoke(config, "build", "--date", day.isoformat())
    assert code == 0, output
    assert "grouped 2 new articles first" in output
    assert "1 stories from 2 articles" in output


def test_build_in_the_evening_says_the_window_ends_at_the_daily_time(tmp_path: Path) -> None:
    config = instance(tmp_path, schedule={"daily": "00:00"})
    store = Store(load_config(config).store.url)
    now = datetime.now(UTC)
    add_article(store, "late", now - timedelta(seconds=1), now, True)
    code, output = invoke(config, "build")
    assert code == 0, output
    assert "the window ends at the daily time (00:00 KST)" in output
    assert "1 article published since then goes into tomorrow's briefing" in output


# send


@pytest.mark.parametrize("empty", [False, True])
def test_send_of_an_old_or_empty_briefing_needs_force(tmp_path: Path, empty: bool) -> None:
    config = instance(tmp_path, subscribers=[DESK])
    today = datetime.now(load_config(config).tz).date()
    day = today if empty else today - timedelta(days=3)
    file_briefing(config, day, empty=empty)
    code, output = invoke(config, "send", "--date", day.isoformat())
    assert code == 2 and output.startswith("usage error: ") and "--force" in output, output
    assert ("empty" if empty else "days old") in output
    assert not (tmp_path / "outbox").exists()
    code, output = invoke(config, "send", "--date", day.isoformat(), "--force")
    assert code == 0 and "sent 1" in output, output
    assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_a_bad_subscriber_address_makes_send_fail_and_say_so(tmp_path: Path) -> None:
    config = instance(tmp_path, subscribers=[DESK, {"email": "desk@@nowhere"}])
    file_briefing(config, datetime.now(load_config(config).tz).date())
    code, output = invoke(config, "send")
    assert code == 1, output
    assert "sent 1" in output and "desk@@nowhere" in output and "skipped" in output
    assert len(list((tmp_path / "outbox").iterdir())) == 1


# export


def test_export_since_filters_on_publication_time(tmp_path: Path) -> None:
    config = instance(tmp_path)
    store = Store(load_config(config).store.url)
    recent = datetime(2026, 5, 10, 3, 0, tzinfo=UTC)
    old = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
    add_article(store, "new", recent, recent, True)
    add_article(store, "refetched", old, recent, True)  # an old article fetched again lately
    add_article(store, "undated", None, recent, True)  # no date: its fetch time stands in
    add_article(store, "undated-old", None, old, True)
    out = tmp_path / "out.jsonl"
    code, output = invoke(config, "export", "articles", "--since", "2026-05-01", "-o", str(out))
    assert code == 0, output
    ids = sorted(json.loads(line)["id"] for line in out.read_text().splitlines())
    assert ids == ["new", "undated"]


# run


@pytest.mark.slow
def test_run_with_smtp_down_says_which_stage_failed_and_why(tmp_path: Path) -> None:
    config = instance(
        tmp_path,
        mail={"sender": SENDER, "smtp": smtp_section(unused_port(), timeout=2)},
        subscribers=[DESK],
    )
    code, output = invoke(config, "run", "--no-crawl")
    lines = output.strip().splitlines()
    assert code == 1 and len(lines) == 1, output
    assert "status None" not in output
    assert "send" in lines[0] and "Connection refused" in lines[0] and "pending" in lines[0]
