"""A build killed while it writes leaves the previous briefing's files as they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from reliability_support import seed_stories
from support.config import write_config

from briefing.config import Config, load_config
from briefing.output.archive import paths_for
from briefing.stages.build import build_day
from briefing.store.engine import Store

pytestmark = pytest.mark.slow
DAY = date(2026, 11, 27)
OLD_BUILD = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
NEW_BUILD = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
CHILD = Path(__file__).with_name("build_child.py")
TEXT = "Talks on the port resumed on Monday. Officials met again in the capital. More follows."
STORIES = [
    (
        "port",
        "Port talks resume",
        [
            ("a1", "yonhap", "Port talks resume", "https://yonhap.example/a1", 3, TEXT),
            ("a2", "kbs", "Talks on the port", "https://kbs.example/a2", 5, TEXT),
        ],
    ),
    (
        "rain",
        "Heavy rain in the south",
        [
            ("b1", "ap", "Rain floods roads", "https://ap.example/b1", 4, "Rain fell all night."),
            ("b2", "kbs", "Trains halted", "https://kbs.example/b2", 6, "Trains were halted."),
        ],
    ),
]


def built_config(folder: Path) -> tuple[Path, Config]:
    path = write_config(folder, briefing={"title": "Morning Briefing"})
    config = load_config(path)
    store = Store(config.store.url)
    seed_stories(store, DAY, STORIES)
    build_day(store, config, DAY, now=OLD_BUILD)
    store.close()
    return path, config


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def visible(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def kill_build(mode: str, config_path: Path, folder: Path) -> None:
    """Start the stalling build child, wait until it stalls, and SIGKILL it there."""
    signal_file = folder / f"stalled-{mode}"
    log = folder / f"build-{mode}.log"
    with log.open("wb") as errors:
        child = subprocess.Popen(
            [
                sys.executable,
                str(CHILD),
                mode,
                str(config_path),
                DAY.isoformat(),
                NEW_BUILD.isoformat(),
                str(signal_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    deadline = time.monotonic() + 120
    while not signal_file.exists():
        if child.poll() is not None:
            raise AssertionError(log.read_text(errors="replace")[-2000:])
        assert time.monotonic() < deadline, "the build never reached the point to kill it at"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def fresh_build(folder: Path) -> dict[str, bytes]:
    """Build NEW_BUILD's files in a separate archive, to know what a finished build writes."""
    _, config = built_config(folder)
    store = Store(config.store.url)
    build_day(store, config, DAY, now=NEW_BUILD)
    store.close()
    return snapshot(paths_for(config.archive.dir, DAY).directory)


def test_build_killed_while_writing_the_pdf_keeps_the_old_files(tmp_path: Path) -> None:
    config_path, config = built_config(tmp_path)
    day_dir = paths_for(config.archive.dir, DAY).directory
    old = snapshot(day_dir)
    assert sorted(old) == ["briefing.html", "briefing.json", "briefing.pdf"]
    kill_build("pdf", config_path, tmp_path)
    assert visible(day_dir) == sorted(old)
    assert {name: (day_dir / name).read_bytes() for name in old} == old
    # The store still points at the intact files, and a new build then replaces them.
    store = Store(config.store.url)
    result = build_day(store, config, DAY, now=NEW_BUILD)
    assert result.pdf.read_bytes() != old["briefing.pdf"]
    assert result.pdf.read_bytes().startswith(b"%PDF") and b"%%EOF" in result.pdf.read_bytes()[-64:]


def test_build_killed_between_renames_leaves_each_file_whole(tmp_path: Path) -> None:
    config_path, config = built_config(tmp_path / "killed")
    new = fresh_build(tmp_path / "fresh")
    day_dir = paths_for(config.archive.dir, DAY).directory
    old = snapshot(day_dir)
    kill_build("swap", config_path, tmp_path / "killed")
    assert visible(day_dir) == sorted(old)
    now = {name: (day_dir / name).read_bytes() for name in old}
    assert now["briefing.html"] == new["briefing.html"]  # renamed just before the kill
    for name in ("briefing.pdf", "briefing.json"):
        assert now[name] == old[name], name


def test_rebuild_clears_what_a_killed_build_left(tmp_path: Path) -> None:
    config_path, config = built_config(tmp_path)
    kill_build("pdf", config_path, tmp_path)
    store = Store(config.store.url)
    build_day(store, config, DAY, now=NEW_BUILD)
    day_dir = paths_for(config.archive.dir, DAY).directory
    assert sorted(p.name for p in day_dir.iterdir()) == [
        "briefing.html",
        "briefing.json",
        "briefing.pdf",
    ]
