"""The PDF child process: print HTML on stdin, PDF on stdout (see render_pdf_within).

Run as `python -m briefing.output.pdf_worker TEMPLATES_DIR`. It exits by itself when its
parent dies, so a killed build never leaves a layout running for minutes.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


@contextlib.contextmanager
def _libraries_by_file_name() -> Iterator[None]:
    """Have cffi load libraries by the names given, without ctypes.util.find_library.

    WeasyPrint tries several names per library (Windows, macOS and Linux spellings). cffi
    hands each name that does not load as it is to find_library, which on Linux runs
    ldconfig, then gcc and ld: about 200 programs started for WeasyPrint's seven
    libraries, half a second of this process's start-up. Linux sonames are on the list
    and load directly. What WeasyPrint prints when a library is missing goes nowhere:
    stdout is the PDF.
    """
    import ctypes.util

    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        ctypes.util.find_library = find_library


def load_renderer() -> Callable[..., bytes]:
    """Import WeasyPrint fast; where only find_library locates its libraries, as usual."""
    try:
        with _libraries_by_file_name():
            from briefing.output.render import html_to_pdf
    except OSError:  # a library not found by its file names: the import was undone
        from briefing.output.render import html_to_pdf
    return html_to_pdf


def main() -> int:
    """Lay out the HTML read from stdin and write the PDF to stdout."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr)
    html_to_pdf = load_renderer()
    # One document, then exit: the cyclic garbage collector ran 350 times during a news
    # day's layout (0.09-0.19 s) to free next to nothing (peak memory 109 -> 110 MB). It
    # now runs every 50,000 allocations, and never looks at the imported modules again.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    html = sys.stdin.buffer.read().decode("utf-8")
    pdf = html_to_pdf(html, templates_dir=Path(sys.argv[1]))
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # No interpreter teardown: freeing the laid-out document took 0.14-0.19 s, and the
    # parent waits for this process to end before it goes on.
    os._exit(code)
