"""`briefing worker`: a crawler process that works on the shared frontier in Redis.

Start as many as wanted, on any machines with the same briefing.toml; stop them whenever
(Ctrl-C or SIGTERM: a worker finishes its downloads and hands back what it had not begun).
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from briefing.cli.common import console, current_config
from briefing.errors import ConfigError
from briefing.processes import on_signals, raise_interrupt


def worker_command(
    sources: Annotated[
        list[str] | None,
        typer.Argument(metavar="[SOURCE]...", help="Sources to work on (default: all enabled)."),
    ] = None,
    processes: Annotated[
        int, typer.Option(metavar="N", min=1, help="Crawler processes to run on this machine.")
    ] = 1,
    idle_timeout: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Stop once the frontier has been empty this many seconds (0: never).",
        ),
    ] = 0.0,
    seed: Annotated[
        bool,
        typer.Option(help="Also read the sources' feeds and sitemaps once, now (like `crawl`)."),
    ] = False,
) -> None:
    """Work on the shared crawl frontier ([crawl] redis_url) until stopped."""
    from briefing.stages.crawl import crawl_and_record, print_summary

    cfg = current_config()
    if not cfg.crawl.redis_url:
        raise ConfigError("crawl.redis_url: `briefing worker` needs the shared frontier")
    # Not the Redis URL: it may hold a password.
    console.print(f"worker: {processes} process(es); Ctrl-C stops")
    # SIGTERM stops the worker as Ctrl-C does: its children then stop gracefully.
    with on_signals(raise_interrupt, [signal.SIGTERM]):
        summary = crawl_and_record(
            cfg,
            sources or None,
            workers=processes,
            seed=seed,
            console=console,
            settings={"BRIEFING_IDLE_TIMEOUT": idle_timeout},
        )
    print_summary(summary, console)
    if summary.status not in ("finished", "interrupted"):
        raise typer.Exit(1)
