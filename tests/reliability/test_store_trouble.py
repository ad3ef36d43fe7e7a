"""Store trouble: a locked database is waited for; a full or read-only disk fails cleanly.

A busy SQLite database is held by a real second connection. Full and read-only disks are
simulated (the tests run as root, for whom permissions do not stop writes) by making the
file system calls under one folder fail as the kernel would, with ENOSPC or EROFS.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from failing_disk import full_disk, read_only
from reliability_support import report_figure, seed_stories
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from briefing.cli.main import app
from briefing.config import load_config
from briefing.stages.transfer import import_jsonl
from briefing.store.engine import Store
from briefing.store.models import Article, BriefingRecord, Delivery

DAY = date(2026, 11, 27)
TEXT = "Talks on the port resumed on Monday. Officials met again in the capital. More follows."
STORIES = [
    (
        "port",
        "Port talks resume",
        [
            ("a1", "yonhap", "Port talks resume", "https://yonhap.example/a1", 3, TEXT),
            ("a2", "kbs", "Talks on the port", "https://kbs.example/a2", 5, TEXT),
        ],
    )
]


def jsonl(count: int, start: int = 0) -> str:
    lines = [
        json.dumps(
            {
                "id": f"imp{n}",
                "url": f"https://wire.example/{n}",
                "source": "wire",
                "title": f"Article {n}",
                "text": f"Body of article {n} with enough words to be an article.",
            }
        )
        for n in range(start, start + count)
    ]
    return "\n".join(lines) + "\n"


def make_config(folder: Path, extra: str = "") -> Path:
    path = folder / "briefing.toml"
    path.write_text(
        '[briefing]\ntitle = "Morning Briefing"\n[mail]\nsender = "Briefing <b@example.org>"\n'
        '[[subscribers]]\nemail = "desk@example.org"\n' + extra,
        encoding="utf-8",
    )
    return path


@contextmanager
def write_lock_held(
    db: Path, seconds: float, after: Callable[[], bool] = lambda: True
) -> Iterator[threading.Event]:
    """Once after() is true, hold SQLite's write lock from another connection for a while."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        deadline = time.monotonic() + 120
        while not after() and time.monotonic() < deadline:
            time.sleep(0.02)
        connection = sqlite3.connect(db, isolation_level=None, timeout=30)
        try:
            connection.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            connection.execute("COMMIT")
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        thread.join(150)
    assert taken.is_set(), "the lock was never taken"


def stored_count(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        return int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])


def run_briefing(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "briefing", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=180,
    )


def quiet(output: str) -> bool:
    lowered = output.lower()
    return not any(word in lowered for word in ("traceback", "error", "locked", "busy", "retry"))


# --- a busy database -------------------------------------------------------------------


@pytest.mark.slow
def test_import_and_build_wait_for_a_locked_database_without_error(tmp_path: Path) -> None:
    config_path = make_config(tmp_path)
    config = load_config(config_path)
    store = Store(config.store.url)
    seed_stories(store, DAY, STORIES)
    store.close()
    db = Path(config.store.url.removeprefix("sqlite:///"))
    (tmp_path / "articles.jsonl").write_text(jsonl(50), encoding="utf-8")
    waits = []
    for command in (["import", "articles.jsonl"], ["build", "--date", DAY.isoformat()]):
        # Held longer than the command takes to start, so that its write meets the lock.
        with write_lock_held(db, seconds=3.0) as released:
            started = time.monotonic()
            result = run_briefing(*command, "--config", str(config_path), cwd=tmp_path)
            waited = released.is_set()
        assert result.returncode == 0, result.stderr
        assert quiet(result.stderr + result.stdout), result.stderr
        assert waited, f"{command[0]} finished before the lock was released"
        assert time.monotonic() - started >= 2.9
        waits.append(f"{command[0]} {time.monotonic() - started:.1f} s")
    store = Store(config.store.url)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 52
        assert session.get(BriefingRecord, DAY) is not None
    store.close()
    report_figure("locked store", f"write lock held 3 s: {', '.join(waits)}, exit 0, no message")


class LockedOnce:
    """Make the nth INSERT fail once with "database is locked", as a busy timeout would."""

    def __init__(self, store: Store, nth: int) -> None:
        self.inserts, self.nth, self.failed = 0, nth, False
        event.listen(store.engine, "before_cursor_execute", self.before)

    def before(self, *args: Any) -> None:
        statement = args[2]
        if statement.lstrip().upper().startswith("INSERT INTO ARTICLES"):
            self.inserts += 1
            if self.inserts == self.nth and not self.failed:
                self.failed = True
                raise sqlite3.OperationalError("database is locked")


def test_a_retried_import_counts_each_article_once(tmp_path: Path) -> None:
    """Store.run re-runs a batch that hit a lock: the report must not count it twice."""
    store = Store(f"sqlite:///{tmp_path / 'briefing.db'}")
    lines = jsonl(10) + jsonl(1, start=3).replace('"imp3"', '"imp3b"')  # same URL, another id
    locked = LockedOnce(store, nth=6)
    report = import_jsonl(store, lines.splitlines())
    assert locked.failed
    assert (report.imported, report.duplicates, report.errors) == (11, 0, [])
    with store.session() as session:
        urls = sorted(session.scalars(select(Article.url)))
    assert len(urls) == 11
    assert urls.count("https://wire.example/3") == 1
    assert "https://wire.example/3#import-id=imp3b" in urls
    store.close()


@pytest.mark.slow
def test_a_crawl_waits_for_a_locked_database(tmp_path: Path) -> None:
    from synthetic_site import SiteTruth, serve_site

    from briefing.config import parse_config
    from briefing.stages.crawl import crawl_and_record

    truth = SiteTruth(200, {}, delay_seconds=0.01)
    with serve_site(truth) as (base, _site):
        config = parse_config(
            {
                "crawl": {"autothrottle": False, "concurrency_per_domain": 8},
                "sources": [{"name": "synthetic", "sitemaps": [f"{base}/sitemap.xml"]}],
            },
            base_dir=tmp_path,
        )
        Store(config.store.url).close()  # create and migrate, so the lock can be taken
        db = Path(config.store.url.removeprefix("sqlite:///"))
        # Taken mid-crawl, once some articles are in: the pipeline's next writes must wait.
        with write_lock_held(db, seconds=2.0, after=lambda: stored_count(db) >= 20) as done:
            summary = crawl_and_record(config, time_limit=120)
            finished_after_lock = done.is_set()
    assert finished_after_lock
    assert summary.status == "finished"
    assert summary.total["stored"] == 200
    assert summary.skipped() == {}


# --- a full or read-only disk ----------------------------------------------------------


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def built_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config whose store has a day's stories; the working folder is tmp_path."""
    monkeypatch.chdir(tmp_path)
    config_path = make_config(tmp_path)
    config = load_config(config_path)
    store = Store(config.store.url)
    seed_stories(store, DAY, STORIES)
    store.close()
    return config_path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def assert_clear_failure(result: Any, *reasons: str) -> str:
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert any(reason in text for reason in reasons), result.output
    return text


@pytest.mark.parametrize("trouble", ["full", "read-only"])
def test_build_on_a_failing_archive_says_why_and_leaves_nothing(
    built_store: Path, tmp_path: Path, trouble: str
) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    failing = full_disk if trouble == "full" else read_only
    with failing(archive):
        result = invoke("build", "--date", DAY.isoformat(), "--config", str(built_store))
    assert_clear_failure(result, "No space left on device", "Read-only file system")
    assert files_under(archive) == []  # no partial or temporary files
    store = Store(load_config(built_store).store.url)
    with store.session() as session:
        assert session.get(BriefingRecord, DAY) is None  # nothing recorded as built
    store.close()


@pytest.mark.parametrize(
    "trouble",
    [
        "full",
        "read-only",
    ],
)
def test_a_failing_archive_error_says_where(
    built_store: Path, tmp_path: Path, trouble: str
) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    with (full_disk if trouble == "full" else read_only)(archive):
        result = invoke("build", "--date", DAY.isoformat(), "--config", str(built_store))
    text = assert_clear_failure(result, "No space left on device", "Read-only file system")
    assert str(archive) in text.replace(" ", "")  # names the folder (wrapped lines rejoined)


@pytest.mark.parametrize("trouble", ["full", "read-only"])
def test_a_failing_archive_keeps_yesterdays_build(
    built_store: Path, tmp_path: Path, trouble: str
) -> None:
    assert invoke("build", "--date", DAY.isoformat(), "--config", str(built_store)).exit_code == 0
    archive = tmp_path / "archive"
    before = {name: (archive / name).read_bytes() for name in files_under(archive)}
    failing = full_disk if trouble == "full" else read_only
    with failing(archive):
        result = invoke("build", "--date", DAY.isoformat(), "--config", str(built_store))
    assert_clear_failure(result, "No space left on device", "Read-only file system")
    assert {name: (archive / name).read_bytes() for name in files_under(archive)} == before


@pytest.mark.parametrize("trouble", ["full", "read-only"])
def test_send_to_a_failing_outbox_says_why_and_sends_nothing(
    built_store: Path, tmp_path: Path, trouble: str
) -> None:
    assert invoke("build", "--date", DAY.isoformat(), "--config", str(built_store)).exit_code == 0
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    failing = full_disk if trouble == "full" else read_only
    with failing(outbox):
        result = invoke("send", "--date", DAY.isoformat(), "--force", "--config", str(built_store))
    text = assert_clear_failure(result, "No space left on device", "Read-only file system")
    assert "outbox" in text
    assert files_under(outbox) == []
    store = Store(load_config(built_store).store.url)
    with store.session() as session:
        rows = list(session.scalars(select(Delivery)))
    store.close()
    assert [(row.recipient, row.status) for row in rows] == [("desk@example.org", "pending")]
    # Once there is room again, the same command delivers, exactly once.
    again = invoke("send", "--date", DAY.isoformat(), "--force", "--config", str(built_store))
    assert again.exit_code == 0, again.output
    assert len(files_under(outbox)) == 1
