"""Run `build_day` in a child process that stalls at a chosen point, to be SIGKILLed there.

Usage: python build_child.py pdf|swap CONFIG DAY NOW_ISO SIGNAL_FILE
  pdf   stall halfway through writing the PDF's temporary file
  swap  stall after the first of the three files was renamed into place
The child touches SIGNAL_FILE when it has stalled.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path

from briefing.config import load_config
from briefing.output import archive
from briefing.stages import build as build_stage
from briefing.store.engine import Store


def stall(signal_file: Path) -> None:
    signal_file.touch()
    time.sleep(600)


def main() -> None:
    mode, config_path, day, now, signal = sys.argv[1:6]
    signal_file = Path(signal)
    if mode == "pdf":

        def half_then_stall(path: Path, data: bytes) -> None:
            if ".briefing.pdf." not in path.name:
                archive.write_synced(path, data)
                return
            with open(path, "wb") as handle:
                handle.write(data[: len(data) // 2])
                handle.flush()
                os.fsync(handle.fileno())
            stall(signal_file)

        writer = functools.partial(archive.write_briefing, writer=half_then_stall)
        build_stage.write_briefing = writer  # type: ignore[assignment]
    else:
        replace = os.replace

        def replace_then_stall(source: str | Path, target: str | Path) -> None:
            replace(source, target)
            if Path(target).name == archive.HTML_NAME:
                stall(signal_file)

        os.replace = replace_then_stall  # type: ignore[assignment]
    config = load_config(config_path)
    build_stage.build_day(
        Store(config.store.url), config, date.fromisoformat(day), now=datetime.fromisoformat(now)
    )


if __name__ == "__main__":
    main()
