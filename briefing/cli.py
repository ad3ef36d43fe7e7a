"""The `briefing` command: thin wrappers that parse, call the library, and report."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from briefing.config import Config, ConfigError, config_path, load_config
from briefing.store import Store, StoreError

app = typer.Typer(help="Scheduled news scraper and daily briefing.", no_args_is_help=True)
export_app = typer.Typer(help="Export articles or stories for other tools.")
app.add_typer(export_app, name="export")
console = Console(stderr=True)
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default $BRIEFING_CONFIG or ./briefing.toml)"
    ),
]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Turn library errors into one clear line and an exit code, never a traceback."""
    try:
        yield
    except ConfigError as exc:
        console.print(
            f"[red]config error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    except StoreError as exc:
        console.print(
            f"[red]store error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    except OSError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _load(path: Path | None) -> Config:
    return load_config(path)


def _run(action: Callable[[], Any]) -> Any:
    with errors_to_exit():
        return action()


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config")] = Path("briefing.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented starter briefing.toml."""
    if path.exists() and not force:
        console.print(f"{path} exists; use --force to overwrite it")
        raise typer.Exit(1)
    path.write_text(resources.files("briefing").joinpath("starter.toml").read_text("utf-8"))
    typer.echo(f"wrote {path}")


@app.command()
def crawl(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources to crawl (default: all)")
    ] = None,
    config: ConfigOption = None,
    workers: Annotated[int, typer.Option(help="Crawler processes sharing one frontier")] = 1,
    time_limit: Annotated[
        int | None,
        typer.Option(
            "--time-limit",
            min=1,
            help="Stop after this many minutes (default: [schedule] crawl_time_limit_minutes)",
        ),
    ] = None,
) -> None:
    """Run the spiders now and print a summary."""
    from briefing.crawling import crawl_and_record, print_summary

    def action() -> None:
        cfg = _load(config)
        minutes = time_limit or cfg.schedule.crawl_time_limit_minutes
        summary = crawl_and_record(
            cfg, sources or None, workers=workers, console=console, time_limit=minutes * 60
        )
        print_summary(summary, console)
        if summary.status != "finished":
            raise typer.Exit(1)

    _run(action)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="JSONL file, one article a line ('-' for stdin)")],
    config: ConfigOption = None,
) -> None:
    """Import articles from a JSONL file (the export format)."""
    from briefing.transfer import import_jsonl

    def action() -> None:
        store = Store(_load(config).store.url)
        stream = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
        with stream:
            report = import_jsonl(store, stream)
        for number, message in report.errors:
            console.print(f"line {number}: {message}", highlight=False)
        typer.echo(
            f"imported {report.imported}, duplicates {report.duplicates}, "
            f"bad lines {len(report.errors)}"
        )
        if report.errors and not report.imported:
            raise typer.Exit(1)

    _run(action)


@export_app.command("articles")
def export_articles_cmd(
    config: ConfigOption = None,
    format: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
    since: Annotated[str | None, typer.Option(help="Only articles since DATE (YYYY-MM-DD)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export articles as JSON Lines."""
    from briefing.transfer import export_jsonl

    def action() -> None:
        if format != "jsonl":
            raise ConfigError(f"--format: articles export as jsonl, not {format!r}")
        start = _parse_day(since, "--since") if since else None
        store = Store(_load(config).store.url)
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            count = export_jsonl(store, out, start)
        finally:
            if output:
                out.close()
        console.print(f"exported {count} articles", highlight=False)

    _run(action)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Folder for the demo's store and archive")] = Path(
        "demo"
    ),
) -> None:
    """Run the whole pipeline on the bundled demo site, served on loopback."""
    from briefing.demo import run_demo

    _run(lambda: run_demo(workdir, console=console))


def _parse_day(value: str, option: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ConfigError(f"{option}: expected YYYY-MM-DD, got {value!r}") from None


def config_file(explicit: Path | None) -> Path:
    return config_path(explicit)


@app.command("group")
def group_cmd(config: ConfigOption = None) -> None:
    """Enrich the new articles and group them into stories."""
    from briefing.group_stage import group_pending

    def action() -> None:
        cfg = _load(config)
        report = group_pending(Store(cfg.store.url), cfg)
        typer.echo(
            f"enriched {report.enriched}, grouped {report.grouped} articles: "
            f"{report.new_stories} new stories, {report.developing} developing"
        )

    _run(action)


@app.command("stories")
def stories_cmd(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="How many stories to list")] = 50,
) -> None:
    """List the most recently active stories."""
    from rich.table import Table

    from briefing.story_views import story_rows

    def action() -> None:
        cfg = _load(config)
        with Store(cfg.store.url).session() as session:
            rows = story_rows(session, limit)
        table = Table("story", "status", "articles", "outlets", "last seen", "topics", "id")
        for row in rows:
            seen = (
                row["last_seen"].astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M")
                if row["last_seen"]
                else "–"
            )
            table.add_row(
                row["label"],
                row["status"],
                str(row["articles"]),
                str(row["outlets"]),
                seen,
                ", ".join(row["topics"]),
                row["id"],
            )
        Console().print(table)

    _run(action)


@export_app.command("stories")
def export_stories_cmd(
    config: ConfigOption = None,
    format: Annotated[str, typer.Option("--format", help="json")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export stories as JSON: [{id, label, status, first_seen, last_seen, articles}]."""
    import json

    from briefing.story_views import export_stories

    def action() -> None:
        if format != "json":
            raise ConfigError(f"--format: stories export as json, not {format!r}")
        with Store(_load(config).store.url).session() as session:
            data = export_stories(session)
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
        console.print(f"exported {len(data)} stories", highlight=False)

    _run(action)


def _day_or_today(value: str | None, cfg: Config) -> date:
    if value:
        return _parse_day(value, "--date").date()
    return datetime.now(cfg.tz).date()


@app.command("build")
def build_cmd(
    config: ConfigOption = None,
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Compose and render the day's briefing into the archive; print the paths."""
    from briefing.build_stage import build_day

    def action() -> None:
        cfg = _load(config)
        result = build_day(Store(cfg.store.url), cfg, _day_or_today(day, cfg))
        for path in (result.html, result.pdf, result.json):
            typer.echo(str(path))
        console.print(f"{result.stories} stories from {result.articles} articles", highlight=False)

    _run(action)


def _register_stage_commands() -> None:
    """Attach the delivery and scheduling commands, which live in their own modules."""
    from briefing.cli_archive import archive_app, serve_command
    from briefing.cli_mail import deliveries_command, send_command, subscribers_app
    from briefing.cli_schedule import run as run_command
    from briefing.cli_schedule import schedule as schedule_command
    from briefing.cli_worker import worker_command

    app.add_typer(subscribers_app, name="subscribers")
    app.command("send")(send_command)
    app.command("deliveries")(deliveries_command)
    app.command("schedule")(schedule_command)
    app.command("run")(run_command)
    app.add_typer(archive_app, name="archive")
    app.command("serve")(serve_command)
    app.command("worker")(worker_command)


_register_stage_commands()
