"""The PDF child process: print HTML on stdin, PDF on stdout (see render_pdf_within).

Run as `python -m briefing.output.pdf_worker TEMPLATES_DIR`. It exits by itself when its
parent dies, so a killed build never leaves a layout running for minutes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def main() -> int:
    """Lay out the HTML read from stdin and write the PDF to stdout."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr)
    from briefing.output.render import html_to_pdf

    html = sys.stdin.buffer.read().decode("utf-8")
    pdf = html_to_pdf(html, templates_dir=Path(sys.argv[1]))
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
