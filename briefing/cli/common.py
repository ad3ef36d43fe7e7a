"""What every command shares: the app factory, global options, dates, and the one error boundary.

Global options (`--config/-c`, `--verbose/-v`, `--version`) may stand before or after the
command: `BriefingGroup` moves them to the front before Click parses anything. Every error a
user can cause ends here as one line `label: message` and the error's exit code.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.exc import DatabaseError
from typer.core import TyperGroup

from briefing.config import Config, config_path, load_config
from briefing.errors import BriefingError, UsageError

# Progress and notes go to stderr; results (tables, paths) to stdout. soft_wrap: a message is
# one line whatever the terminal width, so cron mail and log files get whole lines.
console = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)
output = Console(highlight=False, markup=False)

FLAGS = {"-v", "--verbose", "--version"}
VALUED = {"-c", "--config"}
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DAY_HELP = "YYYY-MM-DD, 'today' or 'yesterday' (default: today)"


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move the global options to the front, wherever they stand (up to a `--`)."""
    front: list[str] = []
    rest: list[str] = []
    items = list(args)
    index = 0
    while index < len(items):
        token = items[index]
        if token == "--":
            rest.extend(items[index:])
            break
        if token in FLAGS:
            front.append(token)
        elif token in VALUED and index + 1 < len(items):
            front.extend(items[index : index + 2])
            index += 1
        elif token.startswith("--config=") or (token.startswith("-c") and len(token) > 2):
            front.append(token)
        else:
            rest.append(token)
        index += 1
    return front + rest


def one_line(text: object) -> str:
    """Flatten text to one line: a message must never wrap or spill into the next log line."""
    return " ".join(str(text).split())


def fail(label: str, message: object, code: int) -> typer.Exit:
    """Print `label: message` on one line to stderr and return the exit to raise."""
    typer.echo(f"{label}: {one_line(message)}", err=True)
    return typer.Exit(code)


@contextmanager
def boundary() -> Iterator[None]:
    """Turn every error a user can cause into one line and its exit code, never a traceback."""
    try:
        yield
    except BriefingError as exc:
        raise fail(exc.label, exc, exc.exit_code) from None
    except DatabaseError as exc:  # damage found mid-query, after the store opened fine
        raise fail("store error", _database_problem(exc), 1) from None
    except OSError as exc:
        raise fail("error", exc, 1) from None


def _database_problem(exc: DatabaseError) -> str:
    from briefing.store.engine import describe_database_error

    try:
        url = current_config().store.url
    except BriefingError:
        url = "(unknown)"
    return describe_database_error(exc, url)


class BriefingGroup(TyperGroup):
    """The root command: global options anywhere, one error boundary, one-line usage errors."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

    def invoke(self, ctx: Any) -> Any:
        with boundary():
            return super().invoke(ctx)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False  # errors come back here, to be told on one line
        if not standalone:
            return super().main(*args, **kwargs)
        try:
            result = super().main(*args, **kwargs)
        except typer.TyperException as exc:  # Click's errors: bad options, missing arguments
            sys.exit(_usage_problem(exc))
        except typer.Abort:
            typer.echo("interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


def _usage_problem(exc: Any) -> int:
    """Print a command-line mistake on one line (help text as it is); return the exit code."""
    message = exc.format_message()
    if message.startswith("Usage:"):  # a group called without its command: show its help
        typer.echo(message, err=True)
    else:
        context = getattr(exc, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        typer.echo(f"usage error: {one_line(message)}{hint}", err=True)
    return int(getattr(exc, "exit_code", 2))


def new_app(help: str, **settings: Any) -> typer.Typer:
    """Return a command group with the house settings: plain help (no markup), help on no args."""
    return typer.Typer(help=help, rich_markup_mode=None, no_args_is_help=True, **settings)


@dataclass(frozen=True, slots=True)
class Globals:
    """The global options of one invocation."""

    config: Path | None = None
    verbose: bool = False


INVOCATION: ContextVar[Globals | None] = ContextVar("briefing_globals", default=None)


def globals_() -> Globals:
    """Return this invocation's global options (set by the root command's callback)."""
    return INVOCATION.get() or Globals()


def current_config_path() -> Path:
    """Return the config file this invocation uses (`--config`, $BRIEFING_CONFIG, ./)."""
    return config_path(globals_().config)


def current_config() -> Config:
    """Load this invocation's config file."""
    return load_config(globals_().config)


def parse_day(value: str | None, zone: tzinfo, option: str = "--date") -> date:
    """Parse a day given on the command line: YYYY-MM-DD, 'today' or 'yesterday' (in zone)."""
    from datetime import datetime

    today = datetime.now(zone).date()
    if value is None or value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    if ISO_DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise UsageError(f"{option}: expected YYYY-MM-DD, 'today' or 'yesterday', got {value!r}")


def plain(value: object) -> Text:
    """Wrap a value for a rich table cell so that brackets in it are text, never markup."""
    return Text(str(value))
