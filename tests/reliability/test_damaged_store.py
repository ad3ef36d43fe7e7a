"""A damaged store, or one from a newer version, gives one `store error:` line, no traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.config import write_config

from briefing.store.engine import Store

COMMANDS = [["stories"], ["build"], ["send"], ["export", "articles"]]


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "briefing", "--config", str(folder / "briefing.toml"), *args],
        cwd=folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def instance(folder: Path) -> Path:
    """Write a config whose store is folder/b.db; return the database's path."""
    write_config(folder, store={"url": "sqlite:///b.db"})
    return folder / "b.db"


def assert_one_store_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1 and lines[0].startswith("store error: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    instance(tmp_path).write_bytes(b"\x89PNG not a database at all " * 800)
    for command in COMMANDS[:2]:
        result = run(tmp_path, *command)
        assert_one_store_error(result, "b.db", "not a database", "backup")


def test_a_database_damaged_in_the_middle(tmp_path: Path) -> None:
    db = instance(tmp_path)
    store = Store(f"sqlite:///{db}")
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO articles (id, url, source, title, authors, fetched_at, text, word_count)"
            " VALUES (?, ?, 'x', 'title', '[]', '2026-01-01 00:00:00', ?, 200)",
            [(f"a{n}", f"https://x.example/{n}", "words " * 200) for n in range(400)],
        )
    store.close()
    with sqlite3.connect(db) as connection:  # everything into the main file, no WAL left
        connection.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(db.read_bytes())
    assert len(data) > 64 * 1024
    data[16 * 1024 : len(data) - 4096] = b"\xa5" * (len(data) - 4096 - 16 * 1024)
    db.write_bytes(bytes(data))
    Path(f"{db}-wal").unlink(missing_ok=True)
    result = run(tmp_path, "export", "articles")
    assert_one_store_error(result, "b.db", "backup")


def test_a_store_from_a_newer_version(tmp_path: Path) -> None:
    db = instance(tmp_path)
    Store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    for command in COMMANDS:
        result = run(tmp_path, *command)
        assert_one_store_error(result, "0099_from_the_future", "newer version", "upgrade")


@pytest.mark.parametrize("trouble", ["garbage", "newer"])
def test_the_library_raises_store_error(tmp_path: Path, trouble: str) -> None:
    from briefing.errors import StoreError

    db = instance(tmp_path)
    if trouble == "garbage":
        db.write_bytes(b"garbage" * 1000)
    else:
        Store(f"sqlite:///{db}").close()
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE alembic_version SET version_num = 'zz_newer'")
    with pytest.raises(StoreError):
        Store(f"sqlite:///{db}")
