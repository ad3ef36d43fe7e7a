"""File briefings in archive/YYYY/MM/DD/, replacing a day's three files together."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefing.errors import ArchiveError
from briefing.files import FILE_MODE, fsync_directory, write_synced

if TYPE_CHECKING:  # compose pulls in scikit-learn; listing the archive needs none of it
    from briefing.briefs.compose import Briefing

logger = logging.getLogger(__name__)

HTML_NAME = "briefing.html"
PDF_NAME = "briefing.pdf"
JSON_NAME = "briefing.json"

Writer = Callable[[Path, bytes], None]


@dataclass(frozen=True, slots=True)
class ArchivePaths:
    """Where one day's briefing lives."""

    directory: Path
    html: Path
    pdf: Path
    json: Path


def paths_for(archive_dir: Path, day: date) -> ArchivePaths:
    """Return the paths of a day's briefing files (whether or not they exist)."""
    directory = Path(archive_dir) / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    return ArchivePaths(
        directory, directory / HTML_NAME, directory / PDF_NAME, directory / JSON_NAME
    )


def _temp_path(target: Path, suffix: str) -> Path:
    # The writer's pid is in the name, so a later build can tell a dead writer's leftovers.
    prefix = f".{target.name}.{os.getpid()}."
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=suffix)
    os.close(descriptor)
    return Path(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _remove_leftovers(directory: Path) -> None:
    """Delete temp and backup files that a killed build left (their writer is gone)."""
    for path in directory.glob(".briefing.*.*.*"):
        parts = path.name.split(".")
        if len(parts) > 3 and parts[3].isdigit() and not _alive(int(parts[3])):
            logger.info("Removing %s, left by an interrupted build", path.name)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _backup(target: Path) -> Path:
    """Keep the old file under a second name, so a failed swap can restore it."""
    backup = _temp_path(target, ".old")
    try:
        os.unlink(backup)
        os.link(target, backup)  # a second name, no copy
    except OSError:  # filesystems without hard links
        shutil.copy2(target, backup)
    return backup


def _swap_in(staged: dict[Path, Path]) -> None:
    """Rename temp files over their targets; on failure, put the old files back."""
    backups: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        for target in staged:
            if target.exists():
                backups[target] = _backup(target)
        for target, temp in staged.items():
            os.replace(temp, target)
            done.append(target)
    except BaseException:
        for target in done:
            if target in backups:
                os.replace(backups.pop(target), target)
            else:
                target.unlink()
        raise
    finally:
        _remove(list(backups.values()))


def write_briefing(
    archive_dir: Path,
    briefing: Briefing,
    html: str,
    pdf: bytes | None,
    *,
    writer: Writer = write_synced,
) -> ArchivePaths:
    """Write a day's HTML, PDF and JSON atomically; the old files stay if anything fails.

    Without a PDF (it took too long), an earlier build's PDF of the day is removed: it
    would not match the new HTML.
    """
    paths = paths_for(archive_dir, briefing.day)
    paths.directory.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(briefing.to_dict(), ensure_ascii=False, indent=2) + "\n"
    contents = {paths.html: html.encode("utf-8"), paths.pdf: pdf, paths.json: payload.encode()}
    written = {target: data for target, data in contents.items() if data is not None}
    _remove_leftovers(paths.directory)
    staged: dict[Path, Path] = {}
    try:
        for target, data in written.items():
            staged[target] = _temp_path(target, ".tmp")
            writer(staged[target], data)
            os.chmod(staged[target], FILE_MODE)  # mkstemp makes 0600; readers need 0644
        _swap_in(staged)
    except BaseException as exc:
        _remove(list(staged.values()))
        logger.warning("Could not write the briefing for %s; kept the old files", briefing.day)
        if isinstance(exc, OSError) and not exc.filename:
            # A failed write() names no file: say which folder, so the user knows where.
            message = f"{exc.strerror or exc}: cannot write the briefing into {paths.directory}"
            raise (OSError(exc.errno, message) if exc.errno else OSError(message)) from exc
        raise
    if pdf is None:
        _remove([paths.pdf])
    fsync_directory(paths.directory)
    logger.info("Filed the briefing for %s in %s", briefing.day, paths.directory)
    return paths


def list_briefings(archive_dir: Path) -> list[date]:
    """List the days that have a briefing in the archive, oldest first."""
    found: list[date] = []
    for html in Path(archive_dir).glob(f"[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/{HTML_NAME}"):
        day_dir = html.parent
        try:
            day = date(int(day_dir.parent.parent.name), int(day_dir.parent.name), int(day_dir.name))
        except ValueError:
            continue
        found.append(day)
    return sorted(found)


def read_json(json_path: Path) -> dict[str, Any]:
    """Read an archived briefing's JSON as data, or raise ArchiveError saying what to do."""
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchiveError(
            f"no briefing built at {json_path} (`briefing build` files one)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"cannot read the briefing at {json_path}: {exc}") from None
    if not isinstance(data, dict):
        raise ArchiveError(f"{json_path} does not hold a briefing")
    return data


def read_briefing(json_path: Path) -> Briefing:
    """Read an archived briefing back, or raise ArchiveError."""
    from briefing.briefs.compose import Briefing

    data = read_json(json_path)
    try:
        return Briefing.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(
            f"{json_path} is not a briefing this version can read: {exc!r}"
        ) from None


def load_briefing(archive_dir: Path, day: date) -> Briefing:
    """Read a day's composed briefing back from its JSON file."""
    return read_briefing(paths_for(archive_dir, day).json)
