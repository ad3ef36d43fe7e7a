"""Stopping cleanly: signal handlers that are restored after use, and children that never linger.

The daemon, `briefing run`, `briefing worker` and the crawl runtime all stop the same way:
SIGTERM is turned into their own kind of stop, and child processes get SIGTERM (Scrapy's
graceful stop) then SIGKILL if they linger.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def on_signals(
    handler: Callable[[signal.Signals], None], signals: Iterable[signal.Signals] = STOP_SIGNALS
) -> Iterator[None]:
    """Call handler(signal) on each given signal while inside; restore the old handlers after.

    Outside the main thread nothing is installed (only the main thread may set handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def relay(signum: int, _frame: FrameType | None) -> None:
        handler(signal.Signals(signum))

    previous = {sig: signal.signal(sig, relay) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def raise_interrupt(_signal: signal.Signals) -> None:
    """Treat a signal like Ctrl-C: raise KeyboardInterrupt in the main thread."""
    raise KeyboardInterrupt


def stop_processes(children: Iterable[Any], grace: float) -> list[int]:
    """Terminate live children (SIGTERM), wait up to grace seconds, then kill stragglers."""
    live = [child for child in children if child.is_alive()]
    for child in live:
        child.terminate()
    deadline = time.monotonic() + grace
    for child in live:
        child.join(timeout=max(0.1, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()  # Scrapy's graceful stop can wait on slow downloads
            child.join(timeout=5)
    return [child.pid for child in live if child.pid is not None]


def stop_children(grace: float = 3.0) -> list[int]:
    """Stop every multiprocessing child of this process (crawls); return their pids."""
    return stop_processes(multiprocessing.active_children(), grace)
