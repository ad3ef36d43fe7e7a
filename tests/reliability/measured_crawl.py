"""Run `briefing crawl`'s library call in this process and report its figures as JSON.

Usage: python measured_crawl.py CONFIG [SOURCE…]
Prints {"summary": …, "seconds": …, "peak_rss_mb": …}: the peak resident memory of the
crawl child (this process's children), as the kernel counted it.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from briefing.config import load_config
from briefing.stages.crawl import crawl_and_record


def main() -> None:
    config = load_config(sys.argv[1])
    started = time.monotonic()
    summary = crawl_and_record(config, sys.argv[2:] or None, time_limit=300)
    seconds = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "summary": summary.to_dict(),
                "seconds": round(seconds, 1),
                "cpu_seconds": round(children.ru_utime + children.ru_stime, 1),
                "peak_rss_mb": round(children.ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
