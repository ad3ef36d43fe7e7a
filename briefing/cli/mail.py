"""`briefing send`, `briefing deliveries` and `briefing subscribers`: thin wrappers over mail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from briefing.config import Config, ConfigError, load_config
from briefing.mail.message import MailError
from briefing.store.engine import Store

subscribers_app = typer.Typer(help="Manage who receives the briefing.", no_args_is_help=True)
console = Console(stderr=True)
output = Console()
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default $BRIEFING_CONFIG or ./briefing.toml)"
    ),
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="Briefing date, YYYY-MM-DD (default: today)")
]
STATUS_STYLE = {"sent": "green", "pending": "yellow", "sending": "cyan", "failed": "red"}


@contextmanager
def mail_errors_to_exit() -> Iterator[None]:
    """Turn mail errors, like the other library errors, into one clear line and exit 1."""
    from briefing.cli.main import errors_to_exit  # late: briefing.cli.main imports this module

    with errors_to_exit():
        try:
            yield
        except MailError as exc:
            console.print(f"[red]mail error:[/red] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"--date: expected YYYY-MM-DD, got {value!r}") from None


def _open(config: Path | None) -> tuple[Config, Store]:
    cfg = load_config(config)
    return cfg, Store(cfg.store.url)


def send_command(
    date: DateOption = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Send a test to this one address; deliveries are untouched"),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try refused recipients again (after a fix)")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Mail the day's briefing to every subscriber who does not have it yet."""
    from briefing.stages.send import send_briefing, send_test

    with mail_errors_to_exit():
        cfg, store = _open(config)
        day = _day(date)
        if to is not None:
            message_id = send_test(store, cfg, to, day)
            where = f"SMTP {cfg.mail.smtp.host}" if cfg.mail.smtp else f"outbox {cfg.mail.outbox}"
            typer.echo(f"test sent to {to} via {where} (Message-ID {message_id})")
            return
        report = send_briefing(store, cfg, day, retry_failed=retry_failed)
    typer.echo(
        f"{report.day}: sent {len(report.sent)}, already sent {len(report.already_sent)}, "
        f"failed {len(report.failed)}, pending {len(report.pending)}"
        + (f", in progress elsewhere {len(report.in_progress)}" if report.in_progress else "")
    )
    problems = [
        *(("skipped", a, why) for a, why in report.skipped.items()),
        *(("failed", a, why) for a, why in report.failed.items()),
        *(("pending", a, why) for a, why in report.pending.items()),
    ]
    for kind, address, why in problems:
        console.print(f"{kind} {escape(address)}: {escape(why)}", highlight=False)
    if report.aborted:
        console.print(f"[red]stopped:[/red] {escape(report.aborted)}", highlight=False)
    if not report.complete:
        raise typer.Exit(1)


def deliveries_command(date: DateOption = None, config: ConfigOption = None) -> None:
    """Show who got which briefing, and why anyone did not."""
    from briefing.stages.send import list_deliveries

    with mail_errors_to_exit():
        cfg, store = _open(config)
        day = _day(date)
        rows = list_deliveries(store, day)
    if not rows:
        typer.echo(f"no deliveries recorded{f' for {day}' if day else ''}")
        return
    table = Table("Day", "Recipient", "Status", "Tries", "When", "Message-ID", "Last error")
    for row in rows:
        moment = row.sent_at or row.updated_at
        style = STATUS_STYLE.get(row.status, "")
        table.add_row(
            row.day.isoformat(),
            escape(row.recipient),
            f"[{style}]{row.status}[/{style}]" if style else escape(row.status),
            str(row.attempts),
            f"{moment.astimezone(cfg.tz):%Y-%m-%d %H:%M}",
            escape(row.message_id or ""),
            escape(row.last_error or ""),
        )
    output.print(table)


@subscribers_app.command("add")
def add_command(
    email: Annotated[str, typer.Argument(help="Email address")],
    name: Annotated[str, typer.Option("--name", help="Display name")] = "",
    topic: Annotated[
        list[str] | None, typer.Option("--topic", help="Only this topic (repeatable)")
    ] = None,
    pdf: Annotated[
        bool | None, typer.Option("--pdf/--no-pdf", help="Attach the PDF (default: [mail])")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Subscribe an address (again: update its name, topics and PDF choice)."""
    from briefing.stages.send import add_subscriber

    with mail_errors_to_exit():
        cfg, store = _open(config)
        recipient, created = add_subscriber(
            store, cfg, email, name=name, topics=topic or [], attach_pdf=pdf
        )
    typer.echo(f"{'subscribed' if created else 'updated'} {recipient.email}")


@subscribers_app.command("remove")
def remove_command(
    email: Annotated[str, typer.Argument(help="Email address")], config: ConfigOption = None
) -> None:
    """Unsubscribe an address added with `subscribers add`."""
    from briefing.stages.send import remove_subscriber

    with mail_errors_to_exit():
        cfg, store = _open(config)
        address = remove_subscriber(store, cfg, email)
    typer.echo(f"unsubscribed {address}")


@subscribers_app.command("list")
def list_command(config: ConfigOption = None) -> None:
    """List who receives the briefing, from the config file and from the store."""
    from briefing.stages.send import active_recipients

    with mail_errors_to_exit():
        cfg, store = _open(config)
        recipients, invalid = active_recipients(store, cfg)
    table = Table("Email", "Name", "Topics", "PDF", "From")
    for recipient in recipients:
        pdf = recipient.attach_pdf
        pdf = cfg.mail.attach_pdf if pdf is None else pdf
        table.add_row(
            escape(recipient.email),
            escape(recipient.name),
            escape(", ".join(recipient.topics) or "all"),
            "yes" if pdf else "no",
            recipient.origin,
        )
    output.print(table)
    for why in invalid.values():
        console.print(f"[red]invalid in the config:[/red] {escape(why)}", highlight=False)
    if invalid:
        raise typer.Exit(1)
