"""`briefing serve` and `briefing archive list|open|export`: thin wrappers over the web app."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
import webbrowser
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from briefing.config import Config, ConfigError, load_config
from briefing.output.archive import paths_for
from briefing.store.engine import Store

archive_app = typer.Typer(
    help="The archive from the shell: list, open and export briefings.", no_args_is_help=True
)
console = Console(stderr=True)
output = Console()
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default $BRIEFING_CONFIG or ./briefing.toml)"
    ),
]


def run_server(app: Any, host: str, port: int) -> None:
    """Serve app with uvicorn until interrupted (tests replace this)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


@contextmanager
def archive_errors_to_exit() -> Iterator[None]:
    """Turn export errors, like the other library errors, into one clear line and exit 1."""
    from briefing.cli.main import errors_to_exit  # late: briefing.cli.main imports this module
    from briefing.store.search import SearchError
    from briefing.web.export import ExportError

    with errors_to_exit():
        try:
            yield
        except (ExportError, SearchError) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None


def _site(cfg: Config) -> Any:
    from briefing.web.pages import Site

    return Site(Path(cfg.archive.dir), Store(cfg.store.url), cfg.briefing.title, cfg.tz)


def is_loopback(host: str) -> bool:
    """Tell whether host names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)] = 8080,
    config: ConfigOption = None,
) -> None:
    """Serve the archive as a read-only web app: briefings, stories, search, feed."""
    from briefing.store.search import refresh_index
    from briefing.web.app import LOOPBACK_HOSTS, create_app

    with archive_errors_to_exit():
        site = _site(load_config(config))
        refresh_index(site.store)
    local = is_loopback(host)
    if not local:
        console.print(
            f"[bold red]WARNING:[/bold red] listening on {escape(host)}, not loopback: anyone "
            f"who can reach this machine on port {port} can read every briefing and story. "
            "Use --host 127.0.0.1 to keep the archive to this machine.",
            highlight=False,
        )
    app = create_app(site, allowed_hosts=LOOPBACK_HOSTS if local else None)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"serving the archive at http://{shown}:{port}/ (Ctrl+C stops)", highlight=False)
    run_server(app, host, port)


@archive_app.command("list")
def list_command(config: ConfigOption = None) -> None:
    """List the archived briefings, newest first, with their PDF paths."""
    from briefing.web.data import archive_days, day_entry

    with archive_errors_to_exit():
        archive_dir = Path(load_config(config).archive.dir)
        entries = [day_entry(archive_dir, day) for day in archive_days(archive_dir)]
    if not entries:
        typer.echo(f"no briefing in {archive_dir} yet; `briefing build` files one")
        return
    table = Table("Date", "Title", "Stories", "Articles", "PDF")
    for entry in entries:
        if entry is None:
            continue
        pdf = paths_for(archive_dir, entry.day).pdf
        table.add_row(
            entry.day.isoformat(),
            escape(entry.title),
            str(entry.counts[0]),
            str(entry.counts[1]),
            escape(str(pdf)) if entry.has_pdf else "[dim]missing[/dim]",
        )
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


def _parse_day(value: str, archive_dir: Path) -> date:
    from briefing.web.data import archive_days

    if value == "latest":
        days = archive_days(archive_dir)
        if not days:
            raise ConfigError(f"no briefing in {archive_dir} yet")
        return days[0]
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"DATE: expected YYYY-MM-DD or 'latest', got {value!r}") from None


@archive_app.command("open")
def open_command(
    day: Annotated[str, typer.Argument(metavar="DATE", help="YYYY-MM-DD, or 'latest'")],
    config: ConfigOption = None,
) -> None:
    """Open a day's PDF with the desktop's viewer (without a desktop, print its path)."""
    with archive_errors_to_exit():
        archive_dir = Path(load_config(config).archive.dir)
        pdf = paths_for(archive_dir, _parse_day(day, archive_dir)).pdf
        if not pdf.is_file():
            console.print(
                f"no PDF at {escape(str(pdf))}; `briefing archive list` shows the days",
                highlight=False,
            )
            raise typer.Exit(1)
        opened = open_path(pdf)
    typer.echo(str(pdf))
    if not opened:
        console.print("no desktop to open it on: the path is printed above", highlight=False)


@archive_app.command("export")
def export_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write into")],
    base_url: Annotated[
        str, typer.Option("--base-url", help="Public address, for absolute links in the feed")
    ] = "",
    config: ConfigOption = None,
) -> None:
    """Write a static copy of the archive that any web server can serve."""
    from briefing.web.export import export_site

    if base_url and not base_url.endswith("/"):
        base_url += "/"
    with archive_errors_to_exit():
        if base_url and not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url: expected an http(s) address, got {base_url!r}")
        report = export_site(_site(load_config(config)), directory, base_url=base_url)
    typer.echo(
        f"exported {report.briefings} briefings and {report.stories} stories "
        f"({report.files} files) to {report.directory}"
    )
