"""Measure enrichment speed (articles/s) and peak memory on the ECB+ development articles.

Usage: .venv/bin/python bench/enrich.py [--limit N] [--repeat R] [--processes 1,2] [--components]
(--components also prints, in this process, the CPU time per article of each spaCy component
and of our reading of the parse, and the same by article length.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "eval" / "clustering" / "ecbplus-dev.jsonl"
sys.path.insert(0, str(REPO))

from briefing.nlp.enrich import PIPE_BATCH, Enricher, _joined, _single_threaded_blas  # noqa: E402


def load_articles(limit: int, repeat: int) -> list[tuple[str, str]]:
    """Read (title, text) pairs, repeated to make a long enough run."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    articles = [(r.get("title") or "", r.get("text") or "") for r in rows[:limit]]
    return articles * repeat


def cpu_seconds(pids: list[int]) -> float:
    """Return user+system CPU seconds of this process and of the given live worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def peak_rss_mb() -> tuple[float, float]:
    """Return peak resident memory (MB) of this process and of its largest child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def run(articles: list[tuple[str, str]], n_process: int, batch_size: int) -> None:
    """Enrich every article once and print the rates."""
    with Enricher(n_process=n_process, batch_size=batch_size) as enricher:
        # Warm up: start the workers and load their models before the clock starts.
        list(enricher.enrich_many(articles[: batch_size * n_process]))
        pool = enricher._pool  # bench only: the worker pids, to count their CPU time
        pids = list(pool._processes) if pool is not None else []
        words = sum(len(title.split()) + len(text.split()) for title, text in articles)
        cpu0, wall0 = cpu_seconds(pids), time.perf_counter()
        each0 = [cpu_seconds([pid]) - cpu_seconds([]) for pid in pids]
        results = list(enricher.enrich_many(articles))
        wall, cpu = time.perf_counter() - wall0, cpu_seconds(pids) - cpu0
        each = [
            cpu_seconds([pid]) - cpu_seconds([]) - c for pid, c in zip(pids, each0, strict=True)
        ]
    assert len(results) == len(articles)
    rate = len(articles) / wall
    scale = words / len(articles) / 500  # a 500-word article costs about this many of ours
    cpu_ms = cpu / len(articles) * 1000
    print(
        f"n_process={n_process}: {rate:6.1f} articles/s wall ({words / wall:6.0f} words/s, "
        f"~{rate * scale:5.1f}/s at 500 words); {cpu_ms:5.1f} ms CPU per article, so "
        f"{n_process * 1000 / cpu_ms * scale:5.1f}/s at 500 words on {n_process} idle core(s)"
    )
    if len(each) > 1:  # how evenly the work was shared: the busiest worker sets the pace
        print(
            f"  worker CPU s: {' / '.join(f'{c:.2f}' for c in each)}; busiest / mean "
            f"{max(each) / (sum(each) / len(each)):.3f}, so {len(articles) / max(each):5.1f} "
            f"articles/s with a core per worker"
        )


def components(articles: list[tuple[str, str]]) -> None:
    """Print the CPU time per article of each pipeline step, overall and by article length."""
    enricher = Enricher()
    nlp = enricher.nlp
    joined = [_joined(title, text) for title, text in articles]
    steps = ["tokenizer", *nlp.pipe_names, "our reading"]
    spent = {step: [0.0] * len(joined) for step in steps}
    with _single_threaded_blas():
        for first in range(0, len(joined), PIPE_BATCH):
            part = range(first, min(first + PIPE_BATCH, len(joined)))
            started = time.process_time()
            docs = [nlp.make_doc(joined[i][0]) for i in part]
            # A batch's time is shared by its articles in proportion to their tokens.
            shares = [len(doc) / max(sum(map(len, docs)), 1) for doc in docs]
            timed = [("tokenizer", time.process_time() - started)]
            for name, component in nlp.pipeline:
                started = time.process_time()
                docs = list(component.pipe(docs, batch_size=PIPE_BATCH))
                timed.append((name, time.process_time() - started))
            for step, seconds in timed:
                for i, share in zip(part, shares, strict=True):
                    spent[step][i] += seconds * share
            for i, doc in zip(part, docs, strict=True):
                started = time.process_time()
                enricher._from_doc(doc, joined[i][1]).to_dict()
                spent["our reading"][i] += time.process_time() - started
    words = [len(text.split()) for text, _ in joined]
    bands = [(0, 200), (200, 500), (500, 1000), (1000, 10**9)]
    print(f"{'CPU ms per article, one process:':45}" + "".join(f"{s:>12}" for s in steps))
    for low, high in [(0, 10**9), *bands]:
        chosen = [i for i, n in enumerate(words) if low <= n < high]
        if not chosen:
            continue
        label = "all" if high == 10**9 and low == 0 else f"{low}-{high if high < 10**9 else ''}"
        cells = "".join(
            f"{sum(spent[s][i] for i in chosen) / len(chosen) * 1000:12.2f}" for s in steps
        )
        print(f"  {label:>9} words ({len(chosen):4d} articles){'':12}{cells}")
    total = sum(map(sum, spent.values())) / len(joined) * 1000
    print(f"  total {total:.1f} ms per article")


def main() -> int:
    """Measure with n_process 1 and 2 (by default) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=462)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--components", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"evaluation data not found at {DATA}; nothing to measure")
        return 0
    articles = load_articles(args.limit, args.repeat)
    words = sum(len(t.split()) + len(x.split()) for t, x in articles)
    print(f"{len(articles)} articles, {words / len(articles):.0f} words each on average")
    if args.components:
        components(articles)
    for n_process in (int(n) for n in args.processes.split(",")):
        run(articles, n_process, args.batch_size)
    own, kids = peak_rss_mb()
    print(f"peak RSS: {own:.0f} MB main process, {kids:.0f} MB largest worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
