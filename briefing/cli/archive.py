"""`briefing serve` and `briefing archive list|open|export`: thin wrappers over the web app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import webbrowser
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.table import Table
from rich.text import Text

from briefing.cli.common import console, current_config, new_app, output, parse_day, plain
from briefing.config import Config
from briefing.errors import UsageError
from briefing.network import is_loopback
from briefing.output.archive import paths_for
from briefing.store.engine import Store

archive_app = new_app("The archive from the shell: list, open and export briefings.")


def run_server(app: Any, host: str, port: int) -> None:
    """Serve app with uvicorn until interrupted (tests replace this)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def _site(cfg: Config) -> Any:
    from briefing.web.pages import Site

    site = Site(Path(cfg.archive.dir), Store(cfg.store.url), cfg.briefing.title, cfg.tz)
    site.outlet_name = cfg.outlet_name
    return site


def _desk(config: Config, site: Any, host: str, local: bool) -> Any:
    """Return the editor's desk when the config names editors (refused beyond loopback on http)."""
    if not config.editors:
        return None
    from briefing.web.desk import Desk, check_exposure

    check_exposure(config, host, local)
    return Desk(site, config, site.store)


def serve_command(
    host: Annotated[
        str, typer.Option(metavar="HOST", help="Address to listen on (default: loopback).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(metavar="PORT", min=1, max=65535, help="Port to listen on.")
    ] = 8080,
) -> None:
    """Serve the archive (briefings, stories, search, feed) and the subscription pages."""
    from briefing.store.search import refresh_index
    from briefing.web.app import LOOPBACK_HOSTS, create_app
    from briefing.web.subscribe import Subscriptions

    config = current_config()
    site = _site(config)
    refresh_index(site.store)
    local = is_loopback(host)
    desk = _desk(config, site, host, local)
    if not local:
        console.print(
            f"WARNING: listening on {host}, not loopback: anyone who can reach this machine on "
            f"port {port} can read every briefing and story. Use --host 127.0.0.1 to keep the "
            "archive to this machine.",
            style="bold red",
        )
    hosts = None
    if local:  # behind a reverse proxy, requests name the public host of [web] base_url
        public = urlsplit(config.web.base_url).hostname if config.web.base_url else None
        hosts = LOOPBACK_HOSTS + ([public] if public else [])
    subscriptions = Subscriptions(site, config)
    app = create_app(site, allowed_hosts=hosts, desk=desk, subscriptions=subscriptions)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"serving the archive at http://{shown}:{port}/ (Ctrl+C stops)")
    if desk is not None:
        console.print(f"the editor's desk: http://{shown}:{port}/desk/")
    run_server(app, host, port)


@archive_app.command("list")
def list_command() -> None:
    """List the archived briefings, newest first, with their PDF paths."""
    from briefing.web.data import archive_days, day_entry

    archive_dir = Path(current_config().archive.dir)
    entries = [day_entry(archive_dir, day) for day in archive_days(archive_dir)]
    if not entries:
        typer.echo(f"no briefing in {archive_dir} yet; `briefing build` files one")
        return
    table = Table("Date", "Title", "Stories", "Articles", "PDF")
    for entry in entries:
        if entry is None:
            continue
        pdf = paths_for(archive_dir, entry.day).pdf
        shown = plain(pdf) if entry.has_pdf else Text("missing", style="dim")
        cells = (entry.day.isoformat(), entry.title, entry.counts[0], entry.counts[1])
        table.add_row(*map(plain, cells), shown)
    output.print(table)


def open_path(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    launch: Callable[[list[str]], object] | None = None,
) -> bool:
    """Open path with the desktop's opener; False when there is no desktop to open it on."""
    env = os.environ if env is None else env
    launch = launch or (
        lambda argv: subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
    )
    if sys.platform == "darwin":
        launch(["open", str(path)])
        return True
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]
        return True
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return False  # a server or a terminal session: nothing could show it
    if which("xdg-open"):
        launch(["xdg-open", str(path)])
        return True
    return webbrowser.open(path.resolve().as_uri())


def _archived_day(value: str, archive_dir: Path, config: Config) -> date:
    """Parse DATE for `archive open`: a day as everywhere, or 'latest'."""
    from briefing.web.data import archive_days

    if value == "latest":
        days = archive_days(archive_dir)
        if not days:
            raise UsageError(f"no briefing in {archive_dir} yet")
        return days[0]
    return parse_day(value, config.tz, "DATE")


@archive_app.command("open")
def open_command(
    day: Annotated[
        str, typer.Argument(metavar="DATE", help="YYYY-MM-DD, 'today', 'yesterday' or 'latest'.")
    ],
) -> None:
    """Open a day's PDF with the desktop's viewer (without a desktop, print its path)."""
    config = current_config()
    archive_dir = Path(config.archive.dir)
    pdf = paths_for(archive_dir, _archived_day(day, archive_dir, config)).pdf
    if not pdf.is_file():
        console.print(f"no PDF at {pdf}; `briefing archive list` shows the days")
        raise typer.Exit(1)
    opened = open_path(pdf)
    typer.echo(str(pdf))
    if not opened:
        console.print("no desktop to open it on: the path is printed above")


@archive_app.command("export")
def export_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write into.")],
    base_url: Annotated[
        str,
        typer.Option(
            "--base-url", metavar="URL", help="Public address, for absolute links in the feed."
        ),
    ] = "",
) -> None:
    """Write a static copy of the archive that any web server can serve."""
    from briefing.web.export import export_site

    if base_url and not base_url.endswith("/"):
        base_url += "/"
    if base_url and not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url: expected an http(s) address, got {base_url!r}")
    report = export_site(_site(current_config()), directory, base_url=base_url)
    typer.echo(
        f"exported {report.briefings} briefings and {report.stories} stories "
        f"({report.files} files) to {report.directory}"
    )
