"""Load the demo site's data (seeds/demo): outlets and their articles, dated from a run date."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from briefing.resources import seeds_dir

DEMO_ROOT = seeds_dir() / "demo"


@dataclass(frozen=True)
class Outlet:
    """One outlet of the demo site: how its URLs look, how it renders, how it is discovered."""

    key: str
    name: str
    layout: str
    discovery: str
    timezone: str
    article_path: str
    section_path: str
    feed: str | None = None
    news_sitemap: str | None = None
    page_size: int = 50
    start_sections: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()

    def section_url(self, section: str, page: int = 1) -> str:
        """Return the path of a section list page (page 2 and on get a /page/N suffix)."""
        path = self.section_path.format(section=section)
        if page == 1:
            return path
        return f"{path.rstrip('/')}/page/{page}" + ("/" if path.endswith("/") else "")


@dataclass(frozen=True)
class DemoArticle:
    """One article of the demo site, and the ground truth crawlers are measured against."""

    path: str
    outlet: str
    section: str
    slug: str
    title: str
    authors: tuple[str, ...]
    published_at: datetime  # UTC
    local_time: datetime  # the same moment in the outlet's time zone, as the page shows it
    story: str
    story_label: str
    paragraphs: tuple[str, ...]
    copy_of: str | None = None  # path of the original, for wire copies
    private: bool = False


def load_outlets(root: Path = DEMO_ROOT) -> dict[str, Outlet]:
    """Read outlets.toml."""
    data = tomllib.loads((root / "outlets.toml").read_text(encoding="utf-8"))
    outlets = {}
    for key, spec in data.items():
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()
        }
        outlets[key] = Outlet(key=key, **fields)
    return outlets


def _article(raw: dict[str, Any], outlet: Outlet, today: date, root: Path) -> DemoArticle:
    day = today + timedelta(days=raw["day_offset"])
    local = datetime.combine(day, time.fromisoformat(raw["time"]), ZoneInfo(raw["timezone"]))
    local = local.astimezone(ZoneInfo(outlet.timezone))
    fields = {"section": raw["section"], "slug": raw["slug"], "serial": raw.get("serial", "")}
    path = outlet.article_path.format(
        yyyy=f"{local.year:04d}", mm=f"{local.month:02d}", dd=f"{local.day:02d}", **fields
    )
    if "body_file" in raw:
        text = (root / raw["body_file"]).read_text(encoding="utf-8")
        body = tuple(line for line in text.splitlines() if line.strip())
    else:
        body = tuple(raw.get("body", ()))
    private = raw.get("private", False)
    return DemoArticle(
        path=("/private" + path) if private else path,
        outlet=outlet.key,
        section=raw["section"],
        slug=raw["slug"],
        title=raw["title"],
        authors=tuple(raw["authors"]),
        published_at=local.astimezone(UTC),
        local_time=local,
        story=raw["story"],
        story_label=raw["label"],
        paragraphs=body,
        copy_of=raw.get("copy_of"),
        private=private,
    )


def load_articles(root: Path, outlets: dict[str, Outlet], today: date) -> list[DemoArticle]:
    """Read every story file and date its articles relative to `today`, newest first."""
    articles: list[DemoArticle] = []
    footers: dict[int, str] = {}
    for story_file in sorted((root / "stories").glob("*.toml")):
        data = tomllib.loads(story_file.read_text(encoding="utf-8"))
        for raw in data["articles"]:
            raw = {"story": data.get("key"), "label": data.get("label"), **raw}
            if "copy_of" in raw:
                footers[len(articles)] = raw.get("footer", "")
            articles.append(_article(raw, outlets[raw["outlet"]], today, root))
    by_key = {f"{a.outlet}/{a.slug}": a for a in articles}
    for index, footer in footers.items():  # a wire copy takes its original's text
        original = by_key[articles[index].copy_of or ""]
        text = (*original.paragraphs, footer) if footer else original.paragraphs
        articles[index] = replace(articles[index], paragraphs=text, copy_of=original.path)
    return sorted(articles, key=lambda a: a.published_at, reverse=True)
