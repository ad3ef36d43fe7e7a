"""A whole news day end to end: crawl → group → build → send, stage by stage.

Serves `../shared/eval/news_day_site.py` (about 690 real articles dated within the last 24 h:
ECB+ texts on eight outlets' feeds, the extraction pages on a wire feed, the metadata pages in
a sitemap) on loopback, runs the daily pipeline into a throwaway store with N subscribers on
a real SMTP server (aiosmtpd, loopback), and prints each stage's seconds, articles per
second, peak memory, and the grouping score of the crawled ECB+ part against day-truth.json.

Usage: .venv/bin/python bench/daily.py [--subscribers N] [--keep DIR]
Prints a message and exits 0 when ../shared/eval is absent.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(REPO))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import select  # noqa: E402

from briefing.config import Config, parse_config  # noqa: E402
from briefing.stages.build import build_day  # noqa: E402
from briefing.stages.crawl import crawl_and_record  # noqa: E402
from briefing.stages.group import group_pending  # noqa: E402
from briefing.stages.send import send_briefing  # noqa: E402
from briefing.store.engine import Store  # noqa: E402
from briefing.store.models import Article, ArticleUrl, StoryArticle  # noqa: E402


class Counting:
    """An aiosmtpd handler that only counts what it accepts."""

    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def news_day(workdir: Path) -> Iterator[str]:
    """Serve the news day on a free loopback port until the block ends."""
    port = free_port()
    log = workdir / "site.log"
    server = subprocess.Popen(
        [sys.executable, str(EVAL / "news_day_site.py"), str(EVAL), str(port), str(log)]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/robots.txt", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def make_config(workdir: Path, base: str, smtp_port: int, subscribers: int) -> Config:
    sources: list[dict[str, Any]] = [
        {"name": f"outlet-{n}", "feeds": [f"{base}/o{n}/rss.xml"]} for n in range(8)
    ]
    sources.append({"name": "wire", "feeds": [f"{base}/wire/rss.xml"]})
    sources.append({"name": "papers", "sitemaps": [f"{base}/papers/sitemap.xml"]})
    data = {
        "timezone": "UTC",
        "store": {"url": f"sqlite:///{workdir / 'briefing.db'}"},
        "crawl": {"obey_robots": False, "autothrottle": False, "concurrency": 32,
                  "concurrency_per_domain": 32},
        "sources": sources,
        "briefing": {"window_hours": 30},
        "schedule": {"daily": "23:59"},
        "mail": {"sender": "Briefing <briefing@example.org>", "attach_pdf": True,
                 "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"}},
        "subscribers": [{"email": f"reader{n}@example.org"} for n in range(subscribers)],
    }  # fmt: skip
    return parse_config(data, base_dir=workdir)


def timed(label: str, laps: list[tuple[str, float]], action: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = action()
    laps.append((label, time.perf_counter() - started))
    print(f"  {label:<6} {laps[-1][1]:7.1f} s", flush=True)
    return result


def grouping_score(store: Store, truth_file: Path) -> dict[str, Any] | None:
    """Score the crawled ECB+ articles' stories against day-truth.json."""
    sys.path.insert(0, str(EVAL))
    from score_clusters import score  # type: ignore[import-not-found]

    truth = json.loads(truth_file.read_text())
    with store.session() as session:
        by_url = {url: ref for url, ref in session.execute(select(Article.url, Article.id))}
        aliases = select(ArticleUrl.url, ArticleUrl.article_id)
        by_url.update({url: ref for url, ref in session.execute(aliases)})
        members = select(StoryArticle.article_id, StoryArticle.story_id)
        story_of = {ref: story for ref, story in session.execute(members)}
    gold, pred = {}, {}
    for url, entry in truth.items():
        article = by_url.get(url)
        if article is None:
            continue  # not crawled: scored over what was stored
        gold[entry["id"]] = str(entry["cluster"])
        if article in story_of:
            pred[entry["id"]] = story_of[article]
    return {**score(gold, pred), "missing": len(truth) - len(gold)} if gold else None


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def run(workdir: Path, subscribers: int) -> None:
    handler = Counting()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    laps: list[tuple[str, float]] = []
    try:
        with news_day(workdir) as base:
            config = make_config(workdir, base, smtp.port, subscribers)
            store = Store(config.store.url)
            day = config.briefing_day()
            print(f"stages (one after another), {subscribers} subscribers:")
            summary = timed("crawl", laps, lambda: crawl_and_record(config))
        grouped = timed("group", laps, lambda: group_pending(store, config))
        built = timed("build", laps, lambda: build_day(store, config, day))
        sent = timed("send", laps, lambda: send_briefing(store, config, day))
    finally:
        smtp.stop()
    stored = summary.total.get("stored", 0)
    total = sum(seconds for _, seconds in laps)
    own, children = peak_mb()
    print(f"  {'total':<6} {total:7.1f} s  ({total / max(stored, 1) * 1000:.1f} s per 1,000 "
          f"stored articles)")  # fmt: skip
    print(f"stored {stored} articles ({stored / laps[0][1]:.1f}/s crawling), enriched "
          f"{grouped.enriched} ({grouped.enriched / laps[1][1]:.1f}/s grouping), "
          f"{built.stories} stories built, {len(sent.sent)} mails sent "
          f"({handler.messages} accepted by the SMTP server)")  # fmt: skip
    print(f"peak memory: this process {own:.0f} MB, largest child {children:.0f} MB")
    scored = grouping_score(store, workdir / "day-truth.json")
    if scored:
        print(f"grouping on the crawled ECB+ part ({scored['docs']} articles, "
              f"{scored['missing']} not stored): B-cubed F1 {scored['b3_f1']:.3f}, pairwise F1 "
              f"{scored['pair_f1']:.3f}, stories gold {scored['gold_clusters']} / ours "
              f"{scored['pred_clusters']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it")
    args = parser.parse_args()
    if not (EVAL / "news_day_site.py").is_file():
        print(f"bench/daily.py: {EVAL} is absent; nothing to measure (it needs ../shared/eval).")
        return
    logging.basicConfig(level=logging.ERROR)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.subscribers)
        return
    with tempfile.TemporaryDirectory(prefix="bench-daily-") as folder:
        run(Path(folder), args.subscribers)


if __name__ == "__main__":
    main()
