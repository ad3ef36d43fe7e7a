"""One real news day end to end: crawl the evaluation's loopback site, group, score the stories.

Serves ../shared/eval/news_day_site.py (about 690 real articles dated in the last 24 hours on
ten sources), crawls it with `briefing crawl`'s library function, runs `briefing group`
(spaCy enrichment and grouping), and scores the stories of the ECB+ pages against the site's
day-truth.json with the evaluation's scorer. Prints each stage's seconds, and the crawl
child's CPU seconds.

Usage: .venv/bin/python bench/news_day.py [--keep DIR]   (DIR keeps the store and day-truth.json)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(EVAL))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_served(base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/o0/rss.xml", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{base} did not come up")


def crawl_and_group(base: str, folder: Path) -> tuple[dict[str, str], list[str]]:
    """Crawl the site into a store in folder and group it; return URL -> story and a report."""
    from sqlalchemy import select

    from briefing.config import parse_config
    from briefing.stages.crawl import crawl_and_record
    from briefing.stages.group import group_pending
    from briefing.store.engine import Store
    from briefing.store.models import ArticleUrl, StoryArticle

    sources = [{"name": f"o{k}", "feeds": [f"{base}/o{k}/rss.xml"]} for k in range(8)]
    sources += [
        {"name": "wire", "feeds": [f"{base}/wire/rss.xml"]},
        {"name": "papers", "sitemaps": [f"{base}/papers/sitemap.xml"]},
    ]
    crawl = {"autothrottle": False, "concurrency_per_domain": 16}
    config = parse_config({"crawl": crawl, "sources": sources}, base_dir=folder)
    started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = crawl_and_record(config)
    crawled = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the crawl child, reaped by now
    child_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    store = Store(config.store.url)
    started = time.perf_counter()
    report = group_pending(store, config)
    grouped = time.perf_counter() - started
    with store.session() as session:
        query = select(ArticleUrl.url, StoryArticle.story_id).join(
            StoryArticle, StoryArticle.article_id == ArticleUrl.article_id
        )
        story_of = {str(url): str(story) for url, story in session.execute(query)}
    store.close()
    return story_of, [
        f"crawl: {summary.total.get('stored', 0)} articles stored in {crawled:.1f} s"
        f" (crawl child {child_cpu:.1f} s CPU, {summary.total.get('fetched', 0)} pages fetched)",
        f"group: {report.enriched} enriched, {report.grouped} grouped into "
        f"{report.new_stories} stories in {grouped:.1f} s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, help="copy the store and day-truth.json here")
    args = parser.parse_args()
    if not (EVAL / "news_day_site.py").exists():
        print(f"evaluation data not found at {EVAL}; nothing to measure")
        return
    from score_clusters import score

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        site = subprocess.Popen(
            [sys.executable, str(EVAL / "news_day_site.py"), str(EVAL), str(port), f"{tmp}/log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_served(f"http://127.0.0.1:{port}")
            story_of, lines = crawl_and_group(f"http://127.0.0.1:{port}", Path(tmp))
            truth = json.loads((Path(tmp) / "day-truth.json").read_text())
            if args.keep:
                shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
        finally:
            site.terminate()
            site.wait()
    print("\n".join(lines))
    gold = {url: str(entry["cluster"]) for url, entry in truth.items()}
    pred = {url: story_of[url] for url in gold if url in story_of}
    crawled_gold = {url: cluster for url, cluster in gold.items() if url in pred}
    for name, truth_part in (("all ECB+ pages", gold), ("crawled ECB+ pages", crawled_gold)):
        s = score(truth_part, pred)  # a page not crawled counts as a story of its own
        print(
            f"{name} ({len(truth_part)}): B3 {s['b3_f1']:.3f} pairwise {s['pair_f1']:.3f} "
            f"({s['pred_clusters']} stories, {s['gold_clusters']} gold; "
            f"B3 precision {s['b3_p']:.3f} recall {s['b3_r']:.3f})"
        )


if __name__ == "__main__":
    main()
