"""`briefing demo`: the whole pipeline on the bundled demo site, served on loopback.

The demo site's articles span four days ending yesterday; the demo crawls them once, then
replays the mornings: for each day it groups what had been published by 07:00 and builds
that day's briefing, so the archive holds the earlier briefings and stories develop across
them. Today's edition is left as a draft on the editor's desk (review is on in the demo):
the demo editor's sign-in is printed, and approving at the desk mails it to the demo
subscriber (an .eml file in the outbox).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from briefing.config import Config, parse_config
from briefing.demo.site import demo_sources, serve_demo_site
from briefing.errors import UsageError
from briefing.stages.build import build_day
from briefing.stages.crawl import crawl_and_record, print_summary
from briefing.stages.group import group_pending
from briefing.store.engine import Store

log = logging.getLogger(__name__)
DEMO_DAYS = 4
MARKER = ".briefing-demo"  # written into every folder the demo creates
HEADER = "# Written by `briefing demo`"  # the first line of the demo's config, every version
DEMO_TIMEZONE = "Asia/Seoul"
DEMO_EDITOR = "editor@demo.example.org"
DEMO_WEB = "http://127.0.0.1:8080/"
DEMO_TOPICS = [
    {
        "name": "DPRK–Russia arms talks",
        "entities": ["North Korea", "Russia"],
        "keywords": ["arms", "weapons", "munitions", "ammunition", "military"],
    }
]


def demo_config_text(base_url: str) -> str:
    """Return the demo's briefing.toml, pointing at the site served at base_url."""
    lines = [
        f"{HEADER} for the demo site it serves on loopback.",
        f'timezone = "{DEMO_TIMEZONE}"',
        "",
        "[crawl]",
        "autothrottle = false  # a local site needs no throttling",
        "download_timeout = 10",
        "concurrency_per_domain = 16",
        "",
        "[briefing]",
        'title = "Morning Briefing (demo)"',
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
    lines += ["[mail]", 'sender = "Demo Briefing <briefing@demo.example.org>"', ""]
    # `briefing serve --config demo/briefing.toml` answers here: the mail's links work.
    lines += ["[web]", f'base_url = "{DEMO_WEB}"', ""]
    lines += ["[[subscribers]]", 'email = "desk@demo.example.org"', 'name = "Demo desk"', ""]
    lines += ["[review]", "enabled = true", "", "[[editors]]", f'email = "{DEMO_EDITOR}"', ""]
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


def _made_by_the_demo(workdir: Path) -> bool:
    """Tell whether workdir is new, empty, or a folder an earlier demo run created."""
    if not workdir.exists() or (workdir / MARKER).is_file():
        return True
    if not workdir.is_dir():
        return False
    if not any(workdir.iterdir()):
        return True
    config = workdir / "briefing.toml"
    try:  # earlier versions wrote no marker, but always this first line
        return config.is_file() and config.read_text("utf-8").startswith(HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def check_workdir(workdir: Path) -> None:
    """Refuse a folder the demo did not create: it replaces the config, store and archive."""
    if not _made_by_the_demo(workdir):
        raise UsageError(
            f"--workdir: {workdir} is not empty and was not created by `briefing demo`; the "
            "demo replaces briefing.toml, data/, archive/ and outbox/ in its folder, so choose "
            "a new or empty folder (the default is ./demo)"
        )


def prepare_workdir(workdir: Path, base_url: str) -> Config:
    """Write a fresh demo config, store, archive and outbox in workdir (the demo's own)."""
    check_workdir(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("This folder was created by `briefing demo`.\n")
    for folder in ("data", "archive", "outbox"):
        shutil.rmtree(workdir / folder, ignore_errors=True)
    path = workdir / "briefing.toml"
    path.write_text(demo_config_text(base_url), encoding="utf-8")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return parse_config(data, base_dir=workdir.resolve(), origin=str(path))


def run_demo(workdir: Path, *, console: Console, today: date | None = None) -> str:
    """Serve the demo site, crawl it, replay the mornings, mail yesterday's, draft today's.

    Return the demo editor's password (printed too), made afresh for each run.
    """
    from briefing.stages.editors import set_password
    from briefing.stages.review import make_draft
    from briefing.stages.send import send_briefing

    check_workdir(workdir)  # before serving or crawling anything
    today = today or datetime.now(ZoneInfo(DEMO_TIMEZONE)).date()
    # The site's newest articles are from yesterday, so today's 07:00 briefing has them all.
    with serve_demo_site(today=today - timedelta(days=1)) as (base_url, _site):
        console.print(f"demo site served at {base_url}", highlight=False)
        config = prepare_workdir(workdir, base_url)
        summary = crawl_and_record(config, console=console)
    print_summary(summary, console)
    store = Store(config.store.url)
    for offset in range(DEMO_DAYS - 1, 0, -1):
        day = today - timedelta(days=offset)
        grouped = group_pending(store, config, now=config.briefing_due(day))
        built = build_day(store, config, day, now=config.briefing_due(day))
        console.print(
            f"{day}: grouped {grouped.grouped} new articles; briefing with {built.stories} "
            f"stories from {built.articles} articles",
            highlight=False,
        )
    # Yesterday's briefing goes out as the daily run would have sent it: a mail in the outbox.
    delivery = send_briefing(store, config, day)
    console.print(f"{day}: mailed to {len(delivery.sent)} subscriber(s)", highlight=False)
    password = secrets.token_urlsafe(9)
    set_password(store, config, DEMO_EDITOR, password)
    draft = make_draft(config, today, now=config.briefing_due(today))
    shown = len(draft.briefing.stories) + len(draft.briefing.also_noted)
    console.print(f"{today}: draft with {shown} stories, waiting on the desk", highlight=False)
    console.print(f"\nbriefings: {built.html.parent.parent.parent.parent}", highlight=False)
    console.print(f"draft:     {draft.paths.html}", highlight=False)
    console.print(f"mail:      {config.mail.outbox}", highlight=False)
    console.print(
        f"\nthe editor's desk: briefing serve --config {workdir}/briefing.toml, then open "
        f"http://127.0.0.1:8080/desk/\n  sign in as {DEMO_EDITOR} with password {password}\n"
        f"  correct a story, then 'Approve and send now': the mail lands in {config.mail.outbox}",
        highlight=False,
    )
    return password
