"""`briefing demo`: the whole pipeline on the bundled demo site, served on loopback."""

from __future__ import annotations

import logging
import shutil
import tomllib
from pathlib import Path
from typing import Any

from rich.console import Console

from briefing.config import Config, parse_config
from briefing.crawling import crawl_and_record, print_summary
from briefing.demosite import demo_sources, serve_demo_site

log = logging.getLogger(__name__)
DEMO_TOPICS = [
    {
        "name": "DPRK–Russia arms talks",
        "entities": ["North Korea", "Russia"],
        "keywords": ["arms", "weapons", "munitions", "ammunition"],
    }
]


def demo_config_text(base_url: str) -> str:
    """Return the demo's briefing.toml, pointing at the site served at base_url."""
    lines = [
        "# Written by `briefing demo` for the demo site it serves on loopback.",
        'timezone = "Asia/Seoul"',
        "",
        "[crawl]",
        "autothrottle = false  # a local site needs no throttling",
        "download_timeout = 10",
        "concurrency_per_domain = 16",
        "",
    ]
    for source in demo_sources(base_url):
        lines.append("[[sources]]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in source.items())
        lines.append("")
    for topic in DEMO_TOPICS:
        lines.append("[[topics]]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in topic.items())
        lines.append("")
    lines += ["[mail]", 'sender = "Demo Briefing <briefing@demo.invalid>"', ""]
    lines += ["[[subscribers]]", 'email = "desk@demo.invalid"', 'name = "Demo desk"', ""]
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def prepare_workdir(workdir: Path, base_url: str) -> Config:
    """Write a fresh demo config and store in workdir (the archive and outbox are kept)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(workdir / "data", ignore_errors=True)
    path = workdir / "briefing.toml"
    path.write_text(demo_config_text(base_url), encoding="utf-8")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return parse_config(data, base_dir=workdir.resolve(), origin=str(path))


def run_demo(workdir: Path, *, console: Console) -> None:
    """Serve the demo site, crawl it with the real spiders, and print what happened."""
    with serve_demo_site() as (base_url, _site):
        console.print(f"demo site served at {base_url}", highlight=False)
        config = prepare_workdir(workdir, base_url)
        summary = crawl_and_record(config, console=console)
    print_summary(summary, console)
    console.print(f"store: {config.store.url}", highlight=False)
