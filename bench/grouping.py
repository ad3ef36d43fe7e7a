"""Measure story grouping on the ECB+ development half, and its time and memory at scale.

Prints: the default settings' B-cubed and pairwise F1; a sweep over k, resolution and the
edge floor; a cross-validation over topics; incremental runs over three simulated days; the
TF-IDF average-linkage baseline; seconds and peak memory for 1,000 and 10,000 articles.

Usage: .venv/bin/python bench/grouping.py [--quick] [--cache FILE]
(--cache keeps the NLP results of the 462 articles in FILE so that reruns skip spaCy.)
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
DATA = EVAL / "clustering" / "ecbplus-dev.jsonl"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(EVAL))

from briefing.stories.clustering import STOP_WORDS  # noqa: E402
from briefing.stories.tracking import ArticleFeatures, GroupingParams, StoryState, group  # noqa: E402

NOW = datetime(2024, 3, 1, 18, tzinfo=UTC)
GRID_K = (3, 4, 5, 6, 8)
GRID_RESOLUTION = (0.015, 0.02, 0.03, 0.04, 0.05)
GRID_FLOOR = (0.1, 0.15, 0.2)


def score(gold: dict[str, str], pred: dict[str, str]) -> dict:
    """Score with the evaluation's own scorer."""
    from score_clusters import score as official

    return official(gold, pred)


def enrich(rows: list[dict], cache: Path | None) -> dict[str, tuple]:
    """Return id -> (entities, key phrases) from briefing.nlp.enrich, cached in a file if asked."""
    if cache and cache.exists():
        return pickle.loads(cache.read_bytes())
    from briefing.nlp.enrich import Enricher

    started = time.perf_counter()
    with Enricher() as enricher:
        results = enricher.enrich_many((r["title"], body(r)) for r in rows)
        out = {
            r["id"]: (tuple((e.text, e.label, e.count) for e in res.entities), res.key_phrases)
            for r, res in zip(rows, results, strict=True)
        }
    print(f"enriched {len(rows)} articles in {time.perf_counter() - started:.0f} s")
    if cache:
        cache.write_bytes(pickle.dumps(out))
    return out


def body(row: dict) -> str:
    """Return the text without a first line that only repeats the title."""
    text = row["text"]
    if row.get("title_is_first_sentence") and text.startswith(row["title"]):
        return text[len(row["title"]) :].lstrip()
    return text


def features(rows: list[dict], nlp: dict[str, tuple], dated: str = "") -> list[ArticleFeatures]:
    """Build grouping input; with dated="guess", use the corpus' date guesses as dates."""
    out = []
    for r in rows:
        when = None
        if dated == "guess" and r.get("date_guess"):
            when = datetime.fromisoformat(r["date_guess"]).replace(tzinfo=UTC)
        entities, phrases = nlp[r["id"]]
        out.append(
            ArticleFeatures(
                r["id"],
                r.get("source") or "",
                r["title"],
                body(r),
                when,
                tuple(entities),
                tuple(phrases),
            )
        )
    return out


def predictions(stories: list[StoryState]) -> dict[str, str]:
    """Map article id -> story id."""
    return {a: s.id for s in stories for a in s.article_ids}


def run_batch(articles, gold, params: GroupingParams) -> dict:
    """Group all articles in one run and score them."""
    subset = {a.id: gold[a.id] for a in articles}
    return score(subset, predictions(group(articles, [], now=NOW, params=params)))


def fmt(s: dict) -> str:
    """Format one score."""
    return f"B3 {s['b3_f1']:.3f} pairwise {s['pair_f1']:.3f} ({s['pred_clusters']} stories)"


def grid_runs(articles, base: GroupingParams) -> dict[tuple, dict[str, str]]:
    """Group the whole corpus once per (k, resolution, min_similarity) of the grid."""
    return {
        (k, res, floor): predictions(
            group(
                articles,
                [],
                now=NOW,
                params=replace(base, neighbours=k, resolution=res, min_similarity=floor),
            )
        )
        for k in GRID_K
        for res in GRID_RESOLUTION
        for floor in GRID_FLOOR
    }


def sweep(runs: dict[tuple, dict[str, str]], gold: dict[str, str]) -> None:
    """Print B3/pairwise F1 over k x resolution for each edge floor."""
    for floor in GRID_FLOOR:
        print(f"\nsweep, min_similarity {floor}: rows k, columns resolution (B3 / pairwise)")
        print("  k  " + "".join(f"{r:>14}" for r in GRID_RESOLUTION))
        for k in GRID_K:
            cells = [score(gold, runs[(k, res, floor)]) for res in GRID_RESOLUTION]
            print(f"  {k:<3}" + "".join(f"{c['b3_f1']:>8.3f}/{c['pair_f1']:.3f}" for c in cells))


def other_knobs(articles, gold, base: GroupingParams) -> None:
    """Print the score as the edge sharpening and the block weights move off their defaults."""
    print("\nother knobs (one at a time, the rest at defaults):")
    for power in (1.5, 2.0, 2.5, 3.0):
        s = run_batch(articles, gold, replace(base, edge_power=power))
        print(f"  edge_power {power}: {fmt(s)}")
    for words, bigrams, entities in (
        (1, 0, 0),
        (0.6, 0.2, 0.2),
        (0.5, 0.2, 0.3),
        (0.4, 0.3, 0.3),
        (0.4, 0.2, 0.4),
        (0.5, 0, 0.5),
    ):
        p = replace(base, word_weight=words, bigram_weight=bigrams, entity_weight=entities)
        print(
            f"  weights words {words} bigrams {bigrams} entities {entities}: "
            f"{fmt(run_batch(articles, gold, p))}"
        )


def neighbourhood(setting: tuple) -> list[tuple]:
    """Return a grid setting and its neighbours one step away along each axis."""
    axes = (GRID_K, GRID_RESOLUTION, GRID_FLOOR)
    out = [setting]
    for axis, values in enumerate(axes):
        i = values.index(setting[axis])
        for j in (i - 1, i + 1):
            if 0 <= j < len(values):
                out.append((*setting[:axis], values[j], *setting[axis + 1 :]))
    return out


def cross_validate(runs, gold, topic_of, base: GroupingParams, folds: int = 5) -> None:
    """Choose k, resolution and edge floor on four fifths of the topics; score the rest.

    Each setting grouped the whole corpus once; a fold picks the setting whose grid
    neighbourhood scores best on its training topics (a plateau, not a lucky point) and
    reports the score on its held-out topics.
    """
    topics = sorted(set(topic_of.values()), key=int)
    default = (base.neighbours, base.resolution, base.min_similarity)

    def part(setting: tuple, chosen_topics: set[str]) -> dict:
        subset = {a: g for a, g in gold.items() if topic_of[a] in chosen_topics}
        return score(subset, {a: runs[setting][a] for a in subset})

    print(f"\ncross-validation over topics ({folds} folds; setting chosen on the other folds)")
    held, held_default = [], []
    for fold in range(folds):
        test = set(topics[fold::folds])
        train = set(topics) - test
        train_b3 = {setting: part(setting, train)["b3_f1"] for setting in runs}
        best = max(
            runs,
            key=lambda st: statistics.mean(train_b3[n] for n in neighbourhood(st)),
        )
        held.append(part(best, test))
        held_default.append(part(default, test))
        print(
            f"  fold {fold}: held-out topics {sorted(test, key=int)}: chose k={best[0]} "
            f"res={best[1]} floor={best[2]} -> {fmt(held[-1])}; defaults -> {fmt(held_default[-1])}"
        )
    for name, scores in (("chosen", held), ("defaults", held_default)):
        b3 = statistics.mean(s["b3_f1"] for s in scores)
        pw = statistics.mean(s["pair_f1"] for s in scores)
        print(f"  mean over held-out folds, {name}: B3 {b3:.3f} pairwise {pw:.3f}")


def incremental(articles, gold, params: GroupingParams, seed: int, days: int = 3) -> dict:
    """Spread articles over days at random, group day by day, score the final stories."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=days)
    stories: list[StoryState] = []
    day_of = {a.id: rng.randrange(days) for a in articles}
    for day in range(days):
        morning = start + timedelta(days=day, hours=6)
        batch = [
            replace(a, published_at=morning + timedelta(hours=rng.uniform(0, 12)))
            for a in articles
            if day_of[a.id] == day
        ]
        stories = group(
            batch, stories, now=morning + timedelta(hours=13), members=articles, params=params
        )
    return score(gold, predictions(stories))


def baseline(rows: list[dict], gold: dict[str, str]) -> None:
    """Print TF-IDF cosine + average-linkage clustering over a threshold sweep."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
        [f"{r['title']}\n{body(r)}" for r in rows]
    )
    print("\nbaseline: TF-IDF cosine, average linkage (distance threshold -> score)")
    best = None
    for threshold in (0.7, 0.75, 0.8, 0.85, 0.9):
        labels = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold
        ).fit_predict(matrix.toarray())
        s = score(gold, {r["id"]: str(label) for r, label in zip(rows, labels, strict=True)})
        best = s if best is None or s["b3_f1"] > best["b3_f1"] else best
        print(f"  {threshold:.2f}: {fmt(s)}")
    print(f"  best: {fmt(best)}")


def synthetic(articles: list[ArticleFeatures], gold: dict[str, str], size: int, seed: int = 1):
    """Make a day of `size` articles from copies of the corpus, each copy a set of sibling events.

    Copy c renames every entity word and number with a copy-specific suffix, replaces a
    copy-specific half of the other word types with pseudo-words, and drops a fifth of the
    sentences after the first: the copies are events of the same kinds with other names
    and partly other wording, the hardest kind of neighbour a real day has. Whole stories
    are drawn at random until the day is full, so story sizes do not shrink with the sample.
    """
    rng = random.Random(seed)
    stories: dict[str, list[ArticleFeatures]] = {}
    for copy in range(1, size // len(articles) + 2):
        for a in articles:
            rewrite = _rewriter(copy, {w for name, _, _ in a.entities for w in name.split()})
            sentences = a.text.split("\n")
            kept = [s for i, s in enumerate(sentences) if i == 0 or rng.random() > 0.2]
            stories.setdefault(f"{copy}:{gold[a.id]}", []).append(
                replace(
                    a,
                    id=f"{copy}:{a.id}",
                    title=rewrite(a.title),
                    text=rewrite("\n".join(kept)),
                    entities=tuple((rewrite(n), label, c) for n, label, c in a.entities),
                    key_phrases=tuple(rewrite(p) for p in a.key_phrases),
                )
            )
    names = sorted(stories)
    rng.shuffle(names)
    day = [a for name in names for a in stories[name]][:size]
    truth = {a.id: name for name in names for a in stories[name]}
    return day, {a.id: truth[a.id] for a in day}


def _rewriter(copy: int, names: set[str]):
    """Return a function that rewrites text the way copy number `copy` does."""
    suffix = f"q{copy}x"

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if word in names or word.isdigit():
            return word + suffix
        if low in STOP_WORDS or zlib.crc32(f"{low}|{copy}".encode()) % 2:
            return word
        return word + suffix

    return lambda text: re.sub(r"[A-Za-z0-9]+", swap, text)


def child(path: Path) -> None:
    """Group the pickled days in turn; print seconds, memory and predictions as JSON."""
    payload = pickle.loads(path.read_bytes())
    before = peak_rss_mb()
    stories: list[StoryState] = []
    seconds, cpu = [], []
    seen: list[ArticleFeatures] = []
    for number, day in enumerate(payload["days"]):
        started, started_cpu = time.perf_counter(), time.process_time()
        now = NOW + timedelta(days=number)
        stories = group(day, stories, now=now, members=seen, params=payload["params"])
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        seen += day
    peak = peak_rss_mb()
    result = {"seconds": seconds, "cpu": cpu, "rss_before_mb": before, "peak_rss_mb": peak}
    print(json.dumps({**result, "pred": predictions(stories)}))


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB since it started its program.

    VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the high-water mark of the process that
    forked us, which here is the whole bench.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(days: list[list[ArticleFeatures]], params: GroupingParams) -> dict:
    """Run child() in a fresh Python process, so its peak memory is the grouping's own."""
    with tempfile.NamedTemporaryFile(suffix=".pickle") as handle:
        handle.write(pickle.dumps({"days": days, "params": params}))
        handle.flush()
        done = subprocess.run(
            [sys.executable, __file__, "--child", handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale(articles, gold, params: GroupingParams, sizes: tuple[int, ...]) -> None:
    """Time grouping of synthetic days in a fresh process each, and score them."""
    print("\nscale: synthetic days (copies of the corpus as sibling events; one process each)")
    runs = []
    for size in sizes:
        day, truth = synthetic(articles, gold, size)
        runs.append((f"{size} articles, one run", [day], truth, params))
    if max(sizes) > 2000:
        both, truth = synthetic(articles, gold, 2 * max(sizes), seed=2)
        halves = [[a for i, a in enumerate(both) if i % 2 == half] for half in (0, 1)]
        runs.append((f"2 days of {max(sizes)}, the second with day 1 open", halves, truth, params))
    for name, days, truth, p in runs:
        result = in_child(days, p)
        s = score(truth, result["pred"])
        runs_timed = zip(result["seconds"], result["cpu"], strict=True)
        timing = " then ".join(f"{t:.1f} s ({c:.1f} s CPU)" for t, c in runs_timed)
        print(
            f"  {name}: {timing}, peak RSS {result['peak_rss_mb']:.0f} MB (before grouping "
            f"{result['rss_before_mb']:.0f} MB); {fmt(s)} of {s['gold_clusters']}"
        )


def labels(articles, gold, params: GroupingParams) -> None:
    """Print the labels of the largest stories."""
    stories = sorted(group(articles, [], now=NOW, params=params), key=lambda s: -len(s.article_ids))
    print("\nlabels of the ten largest stories:")
    for story in stories[:10]:
        print(f"  {len(story.article_ids):>3}  {story.label}")


def main() -> None:
    """Run every measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the sweep and the 10k run")
    parser.add_argument("--cache", type=Path, help="file keeping the NLP results between runs")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not DATA.exists():
        print(f"evaluation data not found at {DATA}; nothing to measure")
        return
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    gold = {r["id"]: str(r["cluster"]) for r in rows}
    topic_of = {r["id"]: str(r["topic"]) for r in rows}
    nlp = enrich(rows, args.cache)
    articles = features(rows, nlp)
    params = GroupingParams()
    print(f"\nECB+ dev, {len(rows)} articles, {len(set(gold.values()))} stories, one run, no dates")
    print(f"  defaults {params.neighbours=} {params.resolution=} {params.min_similarity=}")
    print(f"  {fmt(run_batch(articles, gold, params))}")
    by_seed = [run_batch(articles, gold, replace(params, seed=seed)) for seed in range(1, 6)]
    print(
        "  Louvain seeds 1-5: B3 "
        + " ".join(f"{s['b3_f1']:.3f}" for s in by_seed)
        + " | pairwise "
        + " ".join(f"{s['pair_f1']:.3f}" for s in by_seed)
    )
    dated = features(rows, nlp, dated="guess")
    print(f"  with the corpus' date guesses as dates: {fmt(run_batch(dated, gold, params))}")
    for seed in (1, 2, 3):
        s = incremental(articles, gold, params, seed)
        print(f"  incremental, 3 days (random split, seed {seed}): {fmt(s)}")
    labels(articles, gold, params)
    baseline(rows, gold)
    if not args.quick:
        runs = grid_runs(articles, params)
        sweep(runs, gold)
        cross_validate(runs, gold, topic_of, params)
        other_knobs(articles, gold, params)
    scale(articles, gold, params, (1000,) if args.quick else (1000, 10000))


if __name__ == "__main__":
    main()
