"""The `briefing` command: global options, and the commands that run one stage each.

Each command parses its arguments, calls one library function and reports; errors are
turned into one line at the single boundary in `briefing.cli.common`. Nothing heavy (spaCy,
scikit-learn, WeasyPrint) is imported until a command needs it, so `--help` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from briefing.cli.common import (
    DAY_HELP,
    INVOCATION,
    BriefingGroup,
    Globals,
    console,
    current_config,
    new_app,
    output,
    parse_day,
    plain,
)
from briefing.errors import UsageError
from briefing.resources import software_name
from briefing.store.engine import Store

if TYPE_CHECKING:
    from briefing.config import Config

app = new_app(
    "Scheduled news scraper and daily briefing. Global options may stand before or after the "
    "command.",
    cls=BriefingGroup,
)
export_app = new_app("Export articles or stories for other tools.")
app.add_typer(export_app, name="export")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(software_name())
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="Config file (default: $BRIEFING_CONFIG, else ./briefing.toml).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log what each stage does.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Set up logging and remember the global options for the command that follows."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    INVOCATION.set(Globals(config=config, verbose=verbose))


@app.command()
def init(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Where to write the config.")] = Path(
        "briefing.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter briefing.toml."""
    if path.exists() and not force:
        raise UsageError(f"{path} exists; use --force to overwrite it")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    path.write_text(resources.files("briefing").joinpath("starter.toml").read_text("utf-8"))
    typer.echo(f"wrote {path}")


@app.command()
def crawl(
    sources: Annotated[
        list[str] | None,
        typer.Argument(metavar="[SOURCE]...", help="Sources to crawl (default: all enabled)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(metavar="N", min=1, help="Crawler processes sharing one frontier.")
    ] = 1,
    time_limit: Annotated[
        int | None,
        typer.Option(
            "--time-limit",
            metavar="MINUTES",
            min=1,
            help="Stop after this many minutes (default: [schedule] crawl_time_limit_minutes).",
        ),
    ] = None,
) -> None:
    """Run the spiders now and print a summary."""
    from briefing.stages.crawl import crawl_and_record, print_summary
    from briefing.store.search import refresh_after

    cfg = current_config()
    minutes = time_limit or cfg.schedule.crawl_time_limit_minutes
    summary = crawl_and_record(
        cfg, sources or None, workers=workers, console=console, time_limit=minutes * 60
    )
    refresh_after(Store(cfg.store.url), "crawl")
    print_summary(summary, console)
    if summary.status == "interrupted":
        raise typer.Exit(130)  # as a shell reports Ctrl-C
    if summary.status != "finished":
        raise typer.Exit(1)


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="JSONL file, one article a line ('-': stdin).")
    ],
) -> None:
    """Import articles from a JSONL file (the export format)."""
    from briefing.stages.transfer import import_jsonl

    store = Store(current_config().store.url)
    stream = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
    with stream:
        report = import_jsonl(store, stream)
    for number, message in report.errors:
        console.print(f"line {number}: {message}", markup=False)
    typer.echo(
        f"imported {report.imported}, duplicates {report.duplicates}, "
        f"bad lines {len(report.errors)}"
    )
    if report.errors and not report.imported:
        raise typer.Exit(1)


@export_app.command("articles")
def export_articles(
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="jsonl.")] = "jsonl",
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Only articles published since DATE (YYYY-MM-DD, 'yesterday'); undated: "
            "fetched since.",
        ),
    ] = None,
    output_file: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Default: stdout.")
    ] = None,
) -> None:
    """Export articles as JSON Lines."""
    from datetime import UTC

    from briefing.stages.transfer import export_jsonl

    if format != "jsonl":
        raise UsageError(f"--format: articles export as jsonl, not {format!r}")
    cfg = current_config()
    start = None
    if since is not None:
        day = parse_day(since, cfg.tz, "--since")
        start = datetime.combine(day, datetime.min.time(), cfg.tz).astimezone(UTC)
    store = Store(cfg.store.url)
    out = output_file.open("w", encoding="utf-8") if output_file else sys.stdout
    try:
        count = export_jsonl(store, out, start)
    finally:
        if output_file:
            out.close()
    console.print(f"exported {count} articles")


@app.command()
def demo(
    workdir: Annotated[
        Path, typer.Option(metavar="DIR", help="Folder for the demo's store and archive.")
    ] = Path("demo"),
) -> None:
    """Run the whole pipeline on the bundled demo site, served on loopback."""
    from briefing.demo.run import run_demo

    run_demo(workdir, console=console)


@app.command("group")
def group() -> None:
    """Enrich the new articles and group them into stories."""
    from briefing.stages.group import group_pending
    from briefing.store.search import refresh_after

    cfg = current_config()
    store = Store(cfg.store.url)
    report = group_pending(store, cfg)
    refresh_after(store, "group")
    for line in report.describe_failures():  # skipped, kept in the store, the run goes on
        typer.echo(line, err=True)
    typer.echo(
        f"enriched {report.enriched}, grouped {report.grouped} articles: "
        f"{report.new_stories} new stories, {report.developing} developing"
    )


@app.command("stories")
def stories(
    limit: Annotated[int, typer.Option(metavar="N", min=1, help="How many stories to list.")] = 50,
) -> None:
    """List the most recently active stories."""
    from briefing.store.story_queries import story_rows

    cfg = current_config()
    with Store(cfg.store.url).session() as session:
        rows = story_rows(session, limit)
    table = Table("story", "language", "status", "articles", "outlets", "last seen", "topics", "id")
    for row in rows:
        seen = row["last_seen"]
        shown = seen.astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M") if seen else "–"
        cells = (row["label"], row["language"], row["status"], row["articles"], row["outlets"])
        table.add_row(*map(plain, (*cells, shown, ", ".join(row["topics"]), row["id"])))
    output.print(table)


@app.command("sources")
def sources(
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Judge the sources again from the store.")
    ] = True,
) -> None:
    """List each source's health (healthy, degraded, silent, failing) and why."""
    from briefing.stages.health import STATUS_STYLE, check_sources, source_health

    cfg = current_config()
    store = Store(cfg.store.url)
    if check:
        check_sources(store, cfg)
    table = Table("source", "status", "why", "recent", "median body", "checked")
    for row in source_health(store):
        checked = row.checked_at.astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M")
        median = f"{row.figures.get('median_body_chars', 0)} chars"
        figures = (row.reason, row.figures.get("recent_articles", 0), median, checked)
        status = Text(row.status, style=STATUS_STYLE[row.status])
        table.add_row(plain(row.source), status, *map(plain, figures))
    output.print(table)


@export_app.command("stories")
def export_stories(
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="json.")] = "json",
    output_file: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Default: stdout.")
    ] = None,
) -> None:
    """Export stories as JSON: [{id, label, status, language, first_seen, last_seen, articles}]."""
    from briefing.stages.story_export import export_stories as stories_data

    if format != "json":
        raise UsageError(f"--format: stories export as json, not {format!r}")
    with Store(current_config().store.url).session() as session:
        data = stories_data(session)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output_file:
        output_file.write_text(text + "\n", encoding="utf-8")
    else:
        typer.echo(text)
    console.print(f"exported {len(data)} stories")


@app.command("build")
def build(
    day: Annotated[str | None, typer.Option("--date", metavar="DATE", help=DAY_HELP)] = None,
) -> None:
    """Group new articles, then compose and render the day's briefing; print the paths."""
    from briefing.stages.build import build_day, ungrouped_before
    from briefing.stages.group import group_pending

    cfg = current_config()
    store = Store(cfg.store.url)
    when, now = parse_day(day, cfg.tz), datetime.now(cfg.tz)
    if when > now.date():
        raise UsageError(f"--date: {when} is in the future; a briefing can be built for today "
                         "or an earlier day")  # fmt: skip
    if ungrouped_before(store, cfg, when):
        grouped = group_pending(store, cfg)
        console.print(f"grouped {grouped.grouped} new articles first")
    result = build_day(store, cfg, when)
    for path in (result.html, result.pdf, result.json):
        if path is not None:
            typer.echo(str(path))
    console.print(f"{result.stories} stories from {result.articles} articles")
    if result.pdf is None:
        console.print(f"no PDF: {result.pdf_note}; the mail goes out without it")
    if now >= cfg.briefing_due(when):
        _say_window_ends(cfg, store, when, now)


def _say_window_ends(cfg: Config, store: Store, day: date, now: datetime) -> None:
    """Tell that news after the daily time waits for the next briefing (evening builds)."""
    from briefing.stages.build import published_after

    later = published_after(store, cfg, day, now)
    if day != now.date() or not later:
        return
    due = cfg.briefing_due(day).astimezone(cfg.tz)
    articles = "1 article published since then goes" if later == 1 else (
        f"{later} articles published since then go"
    )  # fmt: skip
    console.print(
        f"note: the window ends at the daily time ({due:%H:%M %Z}); {articles} into "
        "tomorrow's briefing"
    )


def _register_stage_commands() -> None:
    """Attach the commands that live in their own modules (mail, schedule, archive, worker)."""
    from briefing.cli.archive import archive_app, serve_command
    from briefing.cli.desk import approve_command, editors_app, review_command, story_app
    from briefing.cli.mail import deliveries_command, send_command, subscribers_app
    from briefing.cli.schedule import run_command, schedule_command
    from briefing.cli.worker import worker_command

    app.add_typer(subscribers_app, name="subscribers")
    app.command("send")(send_command)
    app.command("deliveries")(deliveries_command)
    app.command("schedule")(schedule_command)
    app.command("run")(run_command)
    app.add_typer(archive_app, name="archive")
    app.command("serve")(serve_command)
    app.command("worker")(worker_command)
    app.command("review")(review_command)
    app.add_typer(story_app, name="story")
    app.command("approve")(approve_command)
    app.add_typer(editors_app, name="editors")


_register_stage_commands()
