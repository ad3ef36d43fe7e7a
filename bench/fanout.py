"""Fan-out inputs at the default limits: time and peak memory of a crawl of each.

The inputs are the reliability suite's (tests/reliability/fanout_site.py): a 600,000-URL
.xml.gz sitemap, an endless chain of sitemap indexes, a section page with 100,000 links.
Each is crawled alone, with the default [crawl] settings (50,000 URLs per list, 10,000 per
source), in a process of its own whose children's peak RSS the kernel reports.
robots.txt refuses the article pages, so the figures are for reading and queueing.
Usage: python bench/fanout.py [SOURCE...]   (bigmap, chain, wide)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

RELIABILITY = Path(__file__).resolve().parents[1] / "tests" / "reliability"
sys.path.insert(0, str(RELIABILITY))

from fanout_site import fanout_sources, serve_fanout_site  # noqa: E402


def crawl(base: str, name: str) -> dict:
    """Crawl one fan-out source in a fresh process; return its figures."""
    source = next(s for s in fanout_sources(base) if s["name"] == name)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "briefing.toml"
        lines = ["[crawl]", "autothrottle = false", "", "[[sources]]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(RELIABILITY / "measured_crawl.py"), str(config)],
            capture_output=True,
            text=True,
            cwd=folder,
        )
    if done.returncode != 0:
        raise SystemExit(f"{name}: crawl failed\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    names = sys.argv[1:] or ["bigmap", "chain", "wide"]
    with serve_fanout_site() as (base, site):
        for name in names:
            figures = crawl(base, name)
            stats = figures["summary"]["per_source"][name]
            skipped = {k.removeprefix("skipped/"): v for k, v in stats.items() if "/" in k}
            print(
                f"{name}: {figures['summary']['status']} in {figures['seconds']} s "
                f"({figures['cpu_seconds']} s CPU), peak {figures['peak_rss_mb']} MB; "
                f"links {stats['links']}, skipped {skipped}"
            )
        print(f"sitemap-index fetches of the chain: {site.chain_requests()}")


if __name__ == "__main__":
    main()
