"""Durable file writes: a reader never sees half a file, and a crash never leaves one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644  # mkstemp makes 0600; archive and outbox files are for other readers too


def write_synced(path: Path, data: bytes) -> None:
    """Write bytes to a path and flush them to disk."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_directory(directory: Path) -> None:
    """Make renames in directory durable (some filesystems refuse, which is harmless)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def atomic_write(target: Path, data: bytes) -> None:
    """Write target whole or not at all: a synced temp file in its folder, then a rename."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    os.close(handle)
    try:
        write_synced(Path(temporary), data)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)
