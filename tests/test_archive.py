"""Archive: layout, atomic writes, all-or-nothing rebuilds, listing."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from support.briefings import make_briefing

import briefing.output.archive as archive
from briefing.output.archive import list_briefings, load_briefing, paths_for, write_briefing

END = datetime(2024, 5, 13, 22, 0, tzinfo=UTC)


def contents(paths: archive.ArchivePaths) -> tuple[str, bytes, str]:
    return paths.html.read_text(), paths.pdf.read_bytes(), paths.json.read_text()


def test_paths_follow_the_date(tmp_path: Path) -> None:
    paths = paths_for(tmp_path, date(2024, 5, 4))
    assert paths.directory == tmp_path / "2024" / "05" / "04"
    assert (paths.html.name, paths.pdf.name, paths.json.name) == (
        "briefing.html",
        "briefing.pdf",
        "briefing.json",
    )


def test_write_files_three_readable_files(tmp_path: Path) -> None:
    briefing = make_briefing()
    paths = write_briefing(tmp_path, briefing, "<p>héllo</p>", b"%PDF-1.7 one")
    assert contents(paths)[:2] == ("<p>héllo</p>", b"%PDF-1.7 one")
    assert json.loads(paths.json.read_text())["day"] == "2024-05-14"
    assert load_briefing(tmp_path, briefing.day) == briefing
    assert sorted(p.name for p in paths.directory.iterdir()) == [
        "briefing.html",
        "briefing.json",
        "briefing.pdf",
    ]
    assert stat.S_IMODE(paths.pdf.stat().st_mode) == 0o644


def test_rebuild_replaces_all_three(tmp_path: Path) -> None:
    write_briefing(tmp_path, make_briefing(), "old", b"old pdf")
    paths = write_briefing(tmp_path, make_briefing(label="Floods, updated"), "new", b"new pdf")
    html, pdf, data = contents(paths)
    assert (html, pdf) == ("new", b"new pdf") and "Floods, updated" in data
    assert len(list(paths.directory.iterdir())) == 3


def test_failing_pdf_writer_keeps_the_old_files(tmp_path: Path) -> None:
    old = write_briefing(tmp_path, make_briefing(), "old", b"old pdf")
    before = contents(old)

    def flaky_writer(path: Path, data: bytes) -> None:
        archive.write_synced(path, data[:3])  # a partial temp file is left to clean up
        if path.name.startswith(".briefing.pdf."):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_briefing(tmp_path, make_briefing(label="New"), "new", b"new pdf", writer=flaky_writer)
    assert contents(old) == before
    assert len(list(old.directory.iterdir())) == 3  # no temp files left behind


def test_failure_halfway_through_the_renames_restores_the_old_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = write_briefing(tmp_path, make_briefing(), "old", b"old pdf")
    before = contents(old)
    real_replace = os.replace
    calls: list[str] = []

    def replace_then_fail(source, target):
        calls.append(str(target))
        if len(calls) == 2:
            raise OSError("rename failed")
        return real_replace(source, target)

    monkeypatch.setattr(archive.os, "replace", replace_then_fail)
    with pytest.raises(OSError, match="rename failed"):
        write_briefing(tmp_path, make_briefing(label="New"), "new", b"new pdf")
    monkeypatch.undo()
    assert contents(old) == before
    assert len(list(old.directory.iterdir())) == 3


def test_failed_first_build_leaves_no_partial_day(tmp_path: Path) -> None:
    def failing_writer(path: Path, data: bytes) -> None:
        raise OSError("no space")

    with pytest.raises(OSError):
        write_briefing(tmp_path, make_briefing(), "x", b"y", writer=failing_writer)
    assert list_briefings(tmp_path) == []
    assert list(paths_for(tmp_path, date(2024, 5, 14)).directory.iterdir()) == []


def test_list_briefings_sorted_and_ignores_strays(tmp_path: Path) -> None:
    for day in (date(2024, 5, 14), date(2023, 12, 31), date(2024, 1, 2)):
        write_briefing(tmp_path, make_briefing(day=day), "x", b"y")
    (tmp_path / "2024" / "13" / "40").mkdir(parents=True)
    (tmp_path / "2024" / "13" / "40" / "briefing.html").write_text("not a date")
    (tmp_path / "notes").mkdir()
    (tmp_path / "2024" / "02" / "03").mkdir(parents=True)  # no briefing inside
    assert list_briefings(tmp_path) == [date(2023, 12, 31), date(2024, 1, 2), date(2024, 5, 14)]
    assert list_briefings(tmp_path / "missing") == []
