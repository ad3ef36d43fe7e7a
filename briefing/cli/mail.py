"""`briefing send`, `briefing deliveries` and `briefing subscribers`: thin wrappers over mail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from briefing.cli.common import (
    DAY_HELP,
    console,
    current_config,
    new_app,
    output,
    parse_day,
    plain,
)
from briefing.config import Config
from briefing.store.engine import Store

if TYPE_CHECKING:
    from briefing.stages.send import DeliveryReport

subscribers_app = new_app("Manage who receives the briefing.")
DateOption = Annotated[str | None, typer.Option("--date", metavar="DATE", help=DAY_HELP)]
STATUS_STYLE = {"sent": "green", "pending": "yellow", "sending": "cyan", "failed": "red"}


def _open() -> tuple[Config, Store]:
    cfg = current_config()
    return cfg, Store(cfg.store.url)


def send_command(
    date: DateOption = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="ADDRESS", help="Send a test to this one address; deliveries untouched."
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try refused recipients again (after a fix).")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Mail an old or empty briefing to everyone all the same."),
    ] = False,
) -> None:
    """Mail the day's briefing to every subscriber who does not have it yet."""
    from briefing.stages.resume import refuse_surprises
    from briefing.stages.send import send_briefing, send_test

    cfg, store = _open()
    day = parse_day(date, cfg.tz)
    if to is not None:
        message_id = send_test(store, cfg, to, day)
        where = f"SMTP {cfg.mail.smtp.host}" if cfg.mail.smtp else f"outbox {cfg.mail.outbox}"
        typer.echo(f"test sent to {to} via {where} (Message-ID {message_id})")
        return
    if not force:
        refuse_surprises(store, cfg, day)
    report = send_briefing(store, cfg, day, retry_failed=retry_failed)
    _print_report(report)
    if not report.complete or report.skipped:
        raise typer.Exit(1)


def _print_report(report: DeliveryReport) -> None:
    """Print one summary line, then a line per address that did not get the briefing."""
    typer.echo(
        f"{report.day}: sent {len(report.sent)}, already sent {len(report.already_sent)}, "
        f"failed {len(report.failed)}, pending {len(report.pending)}"
        + (f", in progress elsewhere {len(report.in_progress)}" if report.in_progress else "")
        + (f", skipped (invalid address) {len(report.skipped)}" if report.skipped else "")
    )
    problems = [
        *(("skipped", a, why) for a, why in report.skipped.items()),
        *(("failed", a, why) for a, why in report.failed.items()),
        *(("pending", a, why) for a, why in report.pending.items()),
    ]
    for kind, address, why in problems:
        console.print(f"{kind} {address}: {why}")
    if report.aborted:
        console.print(f"stopped: {report.aborted}", style="red")
    if report.skipped:
        console.print("fix the invalid addresses in the config's [[subscribers]]", style="red")


def deliveries_command(
    date: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="DATE", help="YYYY-MM-DD, 'today' or 'yesterday' (default: all days)."
        ),
    ] = None,
) -> None:
    """Show who got which briefing, and why anyone did not."""
    from briefing.stages.send import list_deliveries

    cfg, store = _open()
    day = parse_day(date, cfg.tz) if date is not None else None
    rows = list_deliveries(store, day)
    if not rows:
        typer.echo(f"no deliveries recorded{f' for {day}' if day else ''}")
        return
    table = Table("Day", "Recipient", "Status", "Tries", "When", "Message-ID", "Last error")
    for row in rows:
        moment = row.sent_at or row.updated_at
        status = Text(row.status, style=STATUS_STYLE.get(row.status, ""))
        when = f"{moment.astimezone(cfg.tz):%Y-%m-%d %H:%M}"
        table.add_row(
            plain(row.day.isoformat()),
            plain(row.recipient),
            status,
            *map(plain, (row.attempts, when, row.message_id or "", row.last_error or "")),
        )
    output.print(table)


@subscribers_app.command("add")
def add_command(
    email: Annotated[str, typer.Argument(metavar="ADDRESS", help="Email address.")],
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Display name.")] = "",
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", metavar="TOPIC", help="Only this topic (repeatable)."),
    ] = None,
    pdf: Annotated[
        bool | None,
        typer.Option("--pdf/--no-pdf", help="Attach the PDF (default: as [mail] attach_pdf)."),
    ] = None,
    language: Annotated[
        list[str] | None,
        typer.Option(
            "--language",
            metavar="CODE",
            help="Only stories in this language, e.g. ko (repeatable).",
        ),
    ] = None,
) -> None:
    """Subscribe an address (again: update its name, topics, languages and PDF choice)."""
    from briefing.stages.subscribers import add_subscriber

    cfg, store = _open()
    recipient, created = add_subscriber(
        store, cfg, email, name=name, topics=topic or [], attach_pdf=pdf, languages=language or []
    )
    typer.echo(f"{'subscribed' if created else 'updated'} {recipient.email}")


@subscribers_app.command("remove")
def remove_command(
    email: Annotated[str, typer.Argument(metavar="ADDRESS", help="Email address.")],
) -> None:
    """Unsubscribe an address added with `subscribers add`."""
    from briefing.stages.subscribers import remove_subscriber

    cfg, store = _open()
    typer.echo(f"unsubscribed {remove_subscriber(store, cfg, email)}")


@subscribers_app.command("list")
def list_command() -> None:
    """List who receives the briefing, from the config file and from the store."""
    from briefing.stages.subscribers import active_recipients, left_by_link

    cfg, store = _open()
    recipients, invalid = active_recipients(store, cfg)
    table = Table("Email", "Name", "Topics", "Languages", "PDF", "From")
    for recipient in recipients:
        pdf = recipient.attach_pdf
        pdf = cfg.mail.attach_pdf if pdf is None else pdf
        topics, languages = ", ".join(recipient.topics), ", ".join(recipient.languages)
        cells = (recipient.email, recipient.name, topics or "all", languages or "all")
        table.add_row(*map(plain, (*cells, "yes" if pdf else "no", recipient.origin)))
    output.print(table)
    for address in left_by_link(store, cfg):
        console.print(f"unsubscribed by its link, though in the config: {address}")
    for why in invalid.values():
        console.print(f"invalid in the config: {why}", style="red")
    if invalid:
        raise typer.Exit(1)


@subscribers_app.command("log")
def log_command(
    email: Annotated[
        str | None, typer.Argument(metavar="[ADDRESS]", help="Only this address.")
    ] = None,
) -> None:
    """Show every change to the subscriptions: who, what, when and how."""
    from briefing.stages.subscribers import subscription_log

    cfg, store = _open()
    table = Table("When", "Address", "Change", "Via", "Details")
    for event in subscription_log(store, email):
        when = f"{event.at.astimezone(cfg.tz):%Y-%m-%d %H:%M}"
        details = ", ".join(f"{key}={value}" for key, value in sorted(event.detail.items()))
        table.add_row(*map(plain, (when, event.email, event.action, event.via, details)))
    output.print(table)
