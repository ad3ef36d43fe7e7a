"""A full or read-only disk under one folder, as the kernel reports them (ENOSPC, EROFS).

The tests run as root, for whom permissions do not stop writes, and a read-only mount is
not available: so the file system calls that would fail are made to fail, under root only.
"""

from __future__ import annotations

import builtins
import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def _inside(path: Any, root: Path) -> bool:
    try:
        return Path(os.fsdecode(path)).resolve().is_relative_to(root.resolve())
    except (TypeError, ValueError):
        return False


def _fail(code: int, path: Any = None) -> OSError:
    return OSError(code, os.strerror(code), *([os.fsdecode(path)] if path is not None else []))


@contextmanager
def read_only(root: Path) -> Iterator[None]:
    """Fail every change under root with EROFS: new folders, new files, renames, modes."""
    real_mkdir, real_open = os.mkdir, os.open

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(path, root):
            if Path(path).exists():
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))
            raise _fail(errno.EROFS, path)
        real_mkdir(path, *args, **kwargs)

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        writing = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC)
        if writing and _inside(path, root):
            raise _fail(errno.EROFS, path)
        return real_open(path, flags, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "mkdir", mkdir)
        patch.setattr(os, "open", open_)
        for name in ("replace", "rename", "chmod", "link", "unlink"):
            patch.setattr(os, name, _refuse_under(root, getattr(os, name)))
        yield


def _refuse_under(root: Path, real: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if any(_inside(arg, root) for arg in args[:2] if isinstance(arg, str | Path)):
            raise _fail(errno.EROFS, args[0])
        return real(*args, **kwargs)

    return guarded


class _FullDisk:
    """A file whose writes stop at a few kilobytes with ENOSPC, like a disk filling up."""

    def __init__(self, handle: Any, room: int) -> None:
        self.handle, self.room = handle, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.handle.write(data[: self.room])
            self.handle.flush()
            self.room = 0
            raise _fail(errno.ENOSPC)
        self.room -= len(data)
        return int(self.handle.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


@contextmanager
def full_disk(root: Path, room: int = 4096) -> Iterator[None]:
    """Let files under root take only `room` bytes each before ENOSPC."""
    real_open, real_fdopen = builtins.open, os.fdopen

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if "w" in mode and _inside(file, root):
            return _FullDisk(handle, room)
        return handle

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, mode, *args, **kwargs)
        if "w" in mode and _inside(os.readlink(f"/proc/self/fd/{fd}"), root):
            return _FullDisk(handle, room)
        return handle

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builtins, "open", open_)
        patch.setattr(os, "fdopen", fdopen)
        yield
