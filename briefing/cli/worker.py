"""`briefing worker`: a crawler process that works on the shared frontier in Redis.

Start as many as wanted, on any machines with the same briefing.toml; stop them whenever
(Ctrl-C or SIGTERM: a worker finishes its downloads and hands back what it had not begun).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from briefing.config import ConfigError, load_config

console = Console(stderr=True)
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default $BRIEFING_CONFIG or ./briefing.toml)"
    ),
]


def worker_command(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Sources to work on (default: all enabled)")
    ] = None,
    config: ConfigOption = None,
    processes: Annotated[
        int, typer.Option(min=1, help="Crawler processes to run on this machine")
    ] = 1,
    idle_timeout: Annotated[
        float,
        typer.Option(help="Stop once the frontier has been empty this many seconds (0: never)"),
    ] = 0.0,
    seed: Annotated[
        bool,
        typer.Option(help="Also read the sources' feeds and sitemaps once, now (like `crawl`)"),
    ] = False,
) -> None:
    """Work on the shared crawl frontier ([crawl] redis_url) until stopped."""
    from briefing.cli.main import errors_to_exit  # late: briefing.cli.main imports this module
    from briefing.stages.crawl import crawl_and_record, print_summary

    with errors_to_exit():
        cfg = load_config(config)
        if not cfg.crawl.redis_url:
            raise ConfigError("crawl.redis_url: `briefing worker` needs the shared frontier")
        names = sources or None
        # Not the Redis URL: it may hold a password.
        console.print(f"worker: {processes} process(es); Ctrl-C stops", highlight=False)
        with _sigterm_as_interrupt():
            summary = crawl_and_record(
                cfg,
                names,
                workers=processes,
                seed=seed,
                console=console,
                settings={"BRIEFING_IDLE_TIMEOUT": idle_timeout},
            )
        print_summary(summary, console)
        if summary.status not in ("finished", "interrupted"):
            raise typer.Exit(1)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM stop the worker as Ctrl-C does: its children then stop gracefully."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
