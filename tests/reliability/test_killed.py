"""Killed mid-run: SIGKILL a crawl (twice), or a build while it writes, then run it again.

Nothing stored is lost or stored twice, the re-run completes, and a killed build leaves the
previous briefing's files exactly as they were.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import report_figure
from support.config import write_config as support_write_config
from synthetic_site import SiteTruth, article_path, serve_site

pytestmark = pytest.mark.slow
PAGES = 1000


def children(pid: int) -> list[int]:
    """Return the direct child processes of pid (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def stored_count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet
        return 0


def stored_rows(db: Path) -> dict[str, tuple[str, str, str]]:
    with sqlite3.connect(db, timeout=30) as connection:
        rows = connection.execute("SELECT id, url, title, text FROM articles").fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def write_config(folder: Path, base: str) -> Path:
    crawl = {"autothrottle": False, "download_timeout": 5, "retries": 1}
    return support_write_config(
        folder,
        crawl={**crawl, "concurrency": 8, "concurrency_per_domain": 8},
        sources=[{"name": "synthetic", "sitemaps": [f"{base}/sitemap.xml"]}],
    )


def crawl_process(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "briefing", "crawl", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_when_stored(process: subprocess.Popen[bytes], db: Path, at_least: int) -> int:
    """Wait until at_least articles are stored, then SIGKILL the crawl child and the parent."""
    deadline = time.monotonic() + 120
    while stored_count(db) < at_least:
        assert process.poll() is None, "the crawl ended before it could be killed"
        assert time.monotonic() < deadline, "the crawl stored too little in 120 s"
        time.sleep(0.05)
    workers = [pid for pid in children(process.pid) if "spawn_main" in command_line(pid)]
    assert workers, "no crawl child process found"
    for pid in workers:  # the crawl child runs in its own process group: kill it by pid
        os.kill(pid, signal.SIGKILL)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    for pid in workers:
        while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
            time.sleep(0.05)
    return stored_count(db)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return "zombie"


def test_a_crawl_killed_twice_loses_and_repeats_nothing(tmp_path: Path) -> None:
    truth = SiteTruth(PAGES, {}, delay_seconds=0.02)
    with serve_site(truth) as (base, site):
        config = write_config(tmp_path, base)
        db = tmp_path / "data" / "briefing.db"
        killed_at = [kill_when_stored(crawl_process(config), db, at_least=150)]
        before_second = stored_rows(db)
        killed_at.append(
            kill_when_stored(crawl_process(config), db, at_least=len(before_second) + 250)
        )
        before_last = stored_rows(db)
        requests_before_last = site.article_requests()
        started = time.monotonic()
        final = subprocess.run(
            [sys.executable, "-m", "briefing", "crawl", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        requests_last = site.article_requests() - requests_before_last
        seconds = time.monotonic() - started
    assert final.returncode == 0, final.stderr[-2000:]
    assert killed_at[0] < killed_at[1] < PAGES
    after = stored_rows(db)
    # Nothing lost: every article stored before a kill is still there, unchanged.
    assert all(after[key] == row for key, row in before_second.items())
    assert all(after[key] == row for key, row in before_last.items())
    # Nothing twice: one row per page, and every page of the site is there.
    urls = [url for url, _, _ in after.values()]
    assert len(urls) == len(set(urls)) == PAGES
    assert {url.split("/", 3)[3] for url in urls} == {
        article_path(n).lstrip("/") for n in range(PAGES)
    }
    # The last run downloaded no page that was already stored.
    stored_paths = {url.split("/", 3)[3] for url, _, _ in before_last.values()}
    again = [n for n in requests_last if article_path(n).lstrip("/") in stored_paths]
    assert again == []
    report_figure(
        "killed crawl",
        f"{PAGES} pages; SIGKILLed with {killed_at[0]}, then {killed_at[1]} stored; "
        f"the third run stored the other {PAGES - len(before_last)} in {seconds:.1f} s, "
        f"{PAGES} stored once each, none lost",
    )
