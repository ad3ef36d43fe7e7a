"""`briefing archive export DIR`: a static copy of the archive that any web server can serve."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import ExportError
from briefing.web.app import ARCHIVE_FILES, archive_file
from briefing.web.data import briefings_by_story, months
from briefing.web.pages import WEB_TEMPLATES, Site, story_path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExportReport:
    directory: Path
    briefings: int
    stories: int
    files: int


def _check_target(out_dir: Path, archive_dir: Path) -> Path:
    out, archive = out_dir.resolve(), archive_dir.resolve()
    if out == archive or out.is_relative_to(archive):
        raise ExportError(f"export into {out_dir}, not inside the archive {archive_dir}")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out_dir} exists and is not a folder")
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def export_site(site: Site, out_dir: Path, *, base_url: str = "") -> ExportReport:
    """Write index, month and day pages, the briefings' files, story pages and the feed."""
    out = _check_target(Path(out_dir), site.archive_dir)
    static = dataclasses.replace(site, static=True)
    days = static.days()
    written = 0
    _write(out / "index.html", static.index())
    _write(out / "feed.xml", static.feed(base_url))
    (out / "static").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WEB_TEMPLATES / "web.css", out / "static" / "web.css")
    written += 3
    for first, _count in months(days):
        _write(out / f"{first:%Y/%m}/index.html", static.month(first) or "")
        written += 1
    for day in days:
        _write(out / f"{day:%Y/%m/%d}/index.html", static.day(day) or "")
        written += 1
        for name in ARCHIVE_FILES:
            source = archive_file(site.archive_dir, day, name)
            if source is not None:
                shutil.copyfile(source, out / f"{day:%Y/%m/%d}" / name)
                written += 1
    with site.store.session() as session:
        story_ids = set(briefings_by_story(session, set(days)))
    exported = set()
    for story_id in sorted(story_ids):
        page, path = static.story(story_id), story_path(story_id)
        if page is not None and path is not None:
            _write(out / path, page)
            exported.add(story_id)
    _write(out / "stories" / "index.html", static.stories(only=exported))
    _write(out / "sources" / "index.html", static.sources())
    written += len(exported) + 1
    log.info("exported %d briefings and %d stories to %s", len(days), len(exported), out)
    return ExportReport(out, len(days), len(exported), written)
