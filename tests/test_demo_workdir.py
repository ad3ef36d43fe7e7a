"""`briefing demo --workdir` never overwrites or deletes a folder the demo did not create."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.demo.run import prepare_workdir
from briefing.errors import UsageError


def an_instance(folder: Path) -> dict[Path, bytes]:
    """Lay out a real instance's files; return them with their contents."""
    files = {
        folder / "briefing.toml": b'[store]\nurl = "sqlite:///data/briefing.db"\n',
        folder / "data" / "briefing.db": b"the team's store",
        folder / "archive" / "2026" / "05" / "14" / "briefing.html": b"<p>a past briefing</p>",
        folder / "outbox" / "2026-05-14_desk.eml": b"Subject: sent mail",
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def untouched(files: dict[Path, bytes]) -> bool:
    return all(path.read_bytes() == data for path, data in files.items())


def test_demo_in_an_existing_instance_refuses_and_touches_nothing(tmp_path: Path) -> None:
    files = an_instance(tmp_path)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, ["demo", "--workdir", "."])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("usage error: --workdir: ") and "demo" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert untouched(files) and sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_folder_with_anything_else_in_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not created by `briefing demo`"):
        prepare_workdir(tmp_path, "http://127.0.0.1:1/")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_demo_reuses_its_own_folder(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    prepare_workdir(workdir, "http://127.0.0.1:1/")  # a new folder
    (workdir / "archive" / "old").mkdir(parents=True)
    prepare_workdir(workdir, "http://127.0.0.1:2/")  # its own: refreshed
    assert not (workdir / "archive" / "old").exists()
    assert "127.0.0.1:2" in (workdir / "briefing.toml").read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_workdir(empty, "http://127.0.0.1:1/")  # an empty folder is taken


def test_a_demo_folder_from_an_earlier_version_is_still_reused(tmp_path: Path) -> None:
    (tmp_path / "briefing.toml").write_text("# Written by `briefing demo` for the demo site\n")
    (tmp_path / "data").mkdir()
    prepare_workdir(tmp_path, "http://127.0.0.1:1/")
    assert "127.0.0.1:1" in (tmp_path / "briefing.toml").read_text()
