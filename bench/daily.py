"""A whole news day end to end: crawl → group → build → send, in each run style side by side.

Serves `../shared/eval/news_day_site.py` (about 690 real articles dated within the last 24 h:
ECB+ texts on eight outlets' feeds, the extraction pages on a wire feed, the metadata pages in
a sitemap) on loopback, runs the daily pipeline into a throwaway store with N subscribers on
a real SMTP server (aiosmtpd, loopback), and prints each stage's seconds, articles per
second, CPU seconds and peak memory of the whole process tree, and the grouping score of the
crawled ECB+ part against day-truth.json, for each run style next to the other:

- batch: the stages one after another (crawl, then `briefing group` enriches and groups);
- step: enrichment in step with the crawl (what `briefing run` and the daemon do), then group.

Each style of each round starts from an empty store. On a machine busy with other work the
figures are "loaded machine" figures: the load average is printed first.

Usage: .venv/bin/python bench/daily.py [--subscribers N] [--styles batch,step] [--rounds N]
                                       [--keep DIR]
Prints a message and exits 0 when ../shared/eval is absent.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(REPO))

# The pipeline is imported where it is used: spawned children (the crawl, the enrichment,
# spaCy's workers) import this script again as their main module, and must stay as small as
# they are under `briefing run`.
if TYPE_CHECKING:
    from briefing.config import Config
    from briefing.store.engine import Store


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
def news_day(workdir: Path) -> Iterator[tuple[str, int]]:
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
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(10)


def make_config(workdir: Path, base: str, smtp_port: int, subscribers: int) -> Config:
    from briefing.config import parse_config

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


def grouping_score(store: Store, truth_file: Path) -> dict[str, Any] | None:
    """Score the crawled ECB+ articles' stories against day-truth.json."""
    from sqlalchemy import select

    from briefing.store.models import Article, ArticleUrl, StoryArticle

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


class ProcessTree:
    """Sample this process and its descendants (not the site server) every interval seconds.

    Keeps the peak of the summed resident memory, the largest single process, and each
    process's last CPU time, so workers of workers (spaCy's) are counted whoever reaps them.
    CPU counts from the run's start: this process's earlier rounds and imports are not the
    run's.
    """

    def __init__(self, exclude: set[int], interval: float = 0.25) -> None:
        self.exclude = exclude
        self.interval = interval
        self.peak_total = 0
        self.peak_single = 0
        self.peaks: dict[int, int] = {}  # pid -> its own peak resident memory
        self.labels: dict[int, str] = {}
        self.cpu: dict[int, float] = {}
        # CPU a process had used before the run began (this process's earlier rounds): not
        # the run's, so it is subtracted.
        self.cpu_before: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessTree:
        self.sample()
        self.cpu_before = dict(self.cpu)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        """Walk the tree from this process down (/proc/PID/task/TID/children)."""
        total, todo = 0, [(os.getpid(), 0)]
        while todo:
            pid, depth = todo.pop()
            if pid in self.exclude:
                continue
            try:
                stat = process_stat(pid)
                kids = [
                    int(kid)
                    for task in Path(f"/proc/{pid}/task").iterdir()
                    for kid in (task / "children").read_text().split()
                ]
            except (OSError, IndexError):
                continue
            todo += [(kid, depth + 1) for kid in kids]
            # /proc/PID/stat field N is stat[N - 3]: rss is field 24.
            rss = int(stat[21]) * PAGE
            total += rss
            self.peak_single = max(self.peak_single, rss)
            self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            self.cpu[pid] = stat_cpu(stat)
            # Every time: a child is first seen before it runs its program or names itself.
            self.labels[pid] = label(pid, depth)
        self.peak_total = max(self.peak_total, total)

    def cpu_by_label(self) -> dict[str, float]:
        """Add up CPU seconds by kind of process (workers of one kind together)."""
        by_label: dict[str, float] = {}
        for pid, seconds in self.run_cpu().items():
            name = self.labels.get(pid, "?")
            by_label[name] = by_label.get(name, 0.0) + seconds
        return dict(sorted(by_label.items(), key=lambda item: -item[1]))

    @property
    def cpu_seconds(self) -> float:
        return sum(self.run_cpu().values())

    def run_cpu(self) -> dict[int, float]:
        """Each process's CPU seconds since the run began."""
        return {pid: cpu - self.cpu_before.get(pid, 0.0) for pid, cpu in self.cpu.items()}


def process_stat(pid: int) -> list[str]:
    """Return the fields of /proc/PID/stat after the command name (field N is [N - 3])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def stat_cpu(stat: list[str]) -> float:
    """Return the CPU seconds (utime and stime, fields 14 and 15) of a process_stat."""
    return (int(stat[11]) + int(stat[12])) / TICKS


def process_cpu(pid: int) -> float:
    """Return a process's CPU seconds so far (user and system), 0 if it has gone."""
    try:
        return stat_cpu(process_stat(pid))
    except (OSError, IndexError):
        return 0.0


def label(pid: int, depth: int) -> str:
    """Name a process of the tree: its own name if it set one, else what it runs, and depth."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        command = name = ""
    if depth == 0:
        return "bench"
    if name.startswith("briefing-"):
        return f"{name}@{depth}"
    kinds = {"pdf_worker": "pdf", "resource_tracker": "tracker", "spawn_main": "spawned"}
    return f"{next((k for key, k in kinds.items() if key in command), name)}@{depth}"


PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class StyleRun:
    """The figures of one style's run over the news day."""

    style: str
    laps: dict[str, float] = field(default_factory=dict)
    stored: int = 0
    enriched_in_crawl: int = 0
    enriched_while_crawling: int = 0
    enriched_in_group: int = 0
    crawl_seconds: float = 0.0  # the crawl itself (in step, before the last enrichment pass)
    seconds_after_crawl: float = 0.0  # in step: enriching what was left when the crawl ended
    stories: int = 0
    sent: int = 0
    accepted: int = 0
    cpu: float = 0.0
    site_cpu: float = 0.0  # the loopback news site's own CPU: not ours, but on the same cores
    peak_total_mb: float = 0.0
    peak_single_mb: float = 0.0
    processes: int = 0
    largest_mb: list[float] = field(default_factory=list)  # each process's peak, largest first
    score: dict[str, Any] | None = None

    @property
    def total(self) -> float:
        return sum(self.laps.values())


STAGES = ("crawl", "group", "build", "send")
STYLES = {
    "batch": "stages one after another (crawl, then enrich + group)",
    "step": "enrichment in step with the crawl, then group",
}


def run_style(
    style: str, workdir: Path, base: str, truth: Path, subscribers: int, exclude: set[int]
) -> StyleRun:
    """Crawl, group, build and send the day into a fresh store in workdir, the given way."""
    from aiosmtpd.controller import Controller

    from briefing.stages.build import build_day
    from briefing.stages.crawl import crawl_and_record
    from briefing.stages.enrich_along import crawl_and_enrich
    from briefing.stages.group import group_pending
    from briefing.stages.send import send_briefing
    from briefing.store.engine import Store

    handler = Counting()
    smtp = Controller(handler, hostname="127.0.0.1", port=free_port())
    smtp.start()
    config = make_config(workdir, base, smtp.port, subscribers)
    store = Store(config.store.url)
    day = config.briefing_day()
    result = StyleRun(style)

    def timed(label: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = action()
        result.laps[label] = time.perf_counter() - started
        print(f"  {style:<5} {label:<5} {result.laps[label]:7.1f} s", flush=True)
        return value

    site_before = sum(process_cpu(pid) for pid in exclude)
    try:
        with ProcessTree(exclude) as tree:
            if style == "step":
                summary = timed("crawl", lambda: crawl_and_enrich(config))
                counts = summary.enrichment
                if counts is not None:
                    result.enriched_in_crawl = counts.total
                    result.enriched_while_crawling = counts.while_crawling
                    result.seconds_after_crawl = counts.seconds_after
                    if counts.error:
                        print(f"  enrichment alongside the crawl stopped: {counts.error}")
            else:
                summary = timed("crawl", lambda: crawl_and_record(config))
            grouped = timed("group", lambda: group_pending(store, config))
            built = timed("build", lambda: build_day(store, config, day))
            sent = timed("send", lambda: send_briefing(store, config, day))
    finally:
        smtp.stop()
    result.stored = summary.total.get("stored", 0)
    result.crawl_seconds = summary.seconds
    result.enriched_in_group = grouped.enriched
    result.stories, result.sent, result.accepted = built.stories, len(sent.sent), handler.messages
    result.cpu = tree.cpu_seconds
    result.site_cpu = sum(process_cpu(pid) for pid in exclude) - site_before
    result.peak_total_mb = tree.peak_total / 2**20
    result.peak_single_mb = tree.peak_single / 2**20
    result.processes = len(tree.peaks)
    largest = sorted(tree.peaks.items(), key=lambda item: -item[1])
    result.largest_mb = [peak / 2**20 for _, peak in largest]
    by_kind = ", ".join(f"{name} {cpu:.1f}" for name, cpu in tree.cpu_by_label().items())
    print(f"  {style} CPU s by process (kind@depth): {by_kind}")
    print(f"  {style} peak memory of the largest processes (kind@depth): "
          + ", ".join(f"{tree.labels.get(pid, '?')} {peak / 2**20:.0f}"
                      for pid, peak in largest[:7]) + " MB")  # fmt: skip
    result.score = grouping_score(store, truth)
    store.close()
    return result


def report(runs: list[StyleRun], subscribers: int) -> None:
    """Print one column per style (its median round), stage by stage."""
    styles = list(dict.fromkeys(run.style for run in runs))
    chosen = {style: middle([run for run in runs if run.style == style]) for style in styles}
    rounds = sum(run.style == styles[0] for run in runs)
    print(f"\nnews day, {subscribers} subscribers, the median of {rounds} round(s) per style:")
    for style in styles:
        print(f"  {style}: {STYLES[style]}")

    def row(label: str, cell: Callable[[StyleRun], object]) -> None:
        print(f"  {label:<36}" + "".join(f"{cell(chosen[s])!s:>12}" for s in styles))

    row("", lambda r: r.style)
    for stage in STAGES:
        row(f"{stage} s", lambda r, stage=stage: f"{r.laps.get(stage, 0):.1f}")  # type: ignore[misc]
    row("total s", lambda r: f"{r.total:.1f}")
    row("s per 1,000 stored", lambda r: f"{r.total / max(r.stored, 1) * 1000:.1f}")
    row("stored", lambda r: r.stored)
    row("stored per s of the crawl stage", lambda r: f"{r.stored / r.laps['crawl']:.1f}")
    row("enriched in the crawl stage", lambda r: r.enriched_in_crawl)
    row("  of which while still crawling", lambda r: r.enriched_while_crawling)
    row("the crawl itself, s", lambda r: f"{r.crawl_seconds:.1f}")
    row("enriching the rest after it, s", lambda r: f"{r.seconds_after_crawl:.1f}")
    row("enriched in the group stage", lambda r: r.enriched_in_group)
    row("articles per s, crawl to grouped", crawl_to_grouped)
    row("CPU s (whole process tree)", lambda r: f"{r.cpu:.1f}")
    row("  site server CPU s (not counted)", lambda r: f"{r.site_cpu:.1f}")
    row("peak memory MB (tree, summed RSS)", lambda r: f"{r.peak_total_mb:.0f}")
    row("largest process MB", lambda r: f"{r.peak_single_mb:.0f}")
    row("processes", lambda r: r.processes)
    row("stories built", lambda r: r.stories)
    row("mails sent / accepted", lambda r: f"{r.sent}/{r.accepted}")
    row("B-cubed F1 (crawled ECB+ part)", score_cell("b3_f1"))
    row("pairwise F1", score_cell("pair_f1"))
    row("stories gold / ours", stories_cell)
    if rounds > 1:
        for style in styles:
            totals = ", ".join(f"{run.total:.1f}" for run in runs if run.style == style)
            print(f"  {style} totals, every round: {totals}")


def middle(runs: list[StyleRun]) -> StyleRun:
    """Return the round with the median total (the lower of the two middle ones)."""
    ordered = sorted(runs, key=lambda run: run.total)
    return ordered[(len(ordered) - 1) // 2]


def score_cell(key: str) -> Callable[[StyleRun], str]:
    return lambda run: f"{run.score[key]:.3f}" if run.score else "-"


def stories_cell(run: StyleRun) -> str:
    return f"{run.score['gold_clusters']}/{run.score['pred_clusters']}" if run.score else "-"


def crawl_to_grouped(run: StyleRun) -> str:
    return f"{run.stored / (run.laps['crawl'] + run.laps['group']):.1f}"


def run(workdir: Path, subscribers: int, styles: list[str], rounds: int) -> None:
    runs = []
    with news_day(workdir) as (base, server):
        exclude = {server}
        for number in range(1, rounds + 1):
            for style in styles:
                print(f"round {number}, {style}: {STYLES[style]}", flush=True)
                folder = workdir / f"{style}-{number}"
                folder.mkdir()
                runs.append(
                    run_style(style, folder, base, workdir / "day-truth.json", subscribers, exclude)
                )
    report(runs, subscribers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--styles", default="batch,step",
                        help="comma-separated, run in this order each round: "
                             + "; ".join(f"{k}: {v}" for k, v in STYLES.items()))  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="rounds of every style")
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it")
    args = parser.parse_args()
    styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    unknown = [s for s in styles if s not in STYLES]
    if unknown or not styles or args.rounds < 1:
        parser.error(f"--styles takes {', '.join(STYLES)}; --rounds at least 1")
    if not (EVAL / "news_day_site.py").is_file():
        print(f"bench/daily.py: {EVAL} is absent; nothing to measure (it needs ../shared/eval).")
        return
    logging.basicConfig(level=logging.ERROR)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.subscribers, styles, args.rounds)
        return
    with tempfile.TemporaryDirectory(prefix="bench-daily-") as folder:
        run(Path(folder), args.subscribers, styles, args.rounds)


if __name__ == "__main__":
    main()
