"""Measure grouping across days on the ECB+ development half turned into a seven-day stream.

Prints B-cubed and pairwise F1 of: the stream grouped one day at a time (as the daily product
does), the same articles in one batch, two shuffled orders (input order shuffled and each
day cut into a random number of runs), a cross-validation over topics of the resolution,
the "related" links against the gold sibling events, and the cost of a day's run over a
week of open stories as the day grows (synthetic copies, one fresh process each).

Usage: .venv/bin/python bench/stream.py [--cache FILE] [--quick] [--store]
(--cache keeps the NLP results in FILE; --store also runs the stream through the real store:
`import` then `group_pending` per day, then `export stories`, as a user would.)
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
DATA = EVAL / "clustering" / "ecbplus-dev.jsonl"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(EVAL))

from briefing.stories.tracking import (  # noqa: E402
    ArticleFeatures,
    GroupingParams,
    StoryState,
    group,
    touched_stories,
)

GRID_RESOLUTION = (0.015, 0.02, 0.03, 0.04, 0.05)


def score(gold: dict[str, str], pred: dict[str, str]) -> dict:
    """Score with the evaluation's own scorer."""
    from score_clusters import score as official

    return official(gold, pred)


def fmt(s: dict) -> str:
    return f"B3 {s['b3_f1']:.3f} pairwise {s['pair_f1']:.3f} ({s['pred_clusters']} stories)"


def make_stream(out: Path) -> tuple[list[list[dict]], dict[str, str]]:
    """Write the stream with the evaluation's own generator and read it back."""
    subprocess.run([sys.executable, str(EVAL / "make_stream.py"), str(DATA), str(out)], check=True)
    days = [
        [json.loads(line) for line in (out / f"day{d}.jsonl").read_text().splitlines() if line]
        for d in range(7)
    ]
    gold = {}
    for line in (out / "gold.jsonl").read_text().splitlines():
        row = json.loads(line)
        gold[row["id"]] = str(row["cluster"])
    return days, gold


def enrich(rows: list[dict], cache: Path | None) -> dict[str, tuple]:
    """Return id -> (entities, key phrases), computed as `briefing group` would."""
    if cache and cache.exists():
        return pickle.loads(cache.read_bytes())
    from briefing.nlp.enrich import Enricher

    with Enricher() as enricher:
        results = enricher.enrich_many((r["title"], r["text"]) for r in rows)
        out = {
            r["id"]: (tuple((e.text, e.label, e.count) for e in res.entities), res.key_phrases)
            for r, res in zip(rows, results, strict=True)
        }
    if cache:
        cache.write_bytes(pickle.dumps(out))
    return out


def features(day: list[dict], nlp: dict[str, tuple]) -> list[ArticleFeatures]:
    return [
        ArticleFeatures(
            r["id"],
            r["source"],
            r["title"],
            r["text"],
            datetime.fromisoformat(r["published_at"]),
            tuple(nlp[r["id"]][0]),
            tuple(nlp[r["id"]][1]),
        )
        for r in day
    ]


def predictions(stories: list[StoryState]) -> dict[str, str]:
    return {a: s.id for s in stories for a in s.article_ids}


def stream(runs: list[tuple[datetime, list[ArticleFeatures]]], params: GroupingParams):
    """Group run after run, feeding each the open stories and their articles."""
    stories: list[StoryState] = []
    seen: dict[str, ArticleFeatures] = {}
    moved = 0
    for now, batch in runs:
        before = predictions(stories)
        stories = group(batch, stories, now=now, members=seen.values(), params=params)
        after = predictions(stories)
        moved += sum(1 for a, s in before.items() if after.get(a) != s)
        seen.update((a.id, a) for a in batch)
    return stories, moved


def daily_runs(days: list[list[ArticleFeatures]]) -> list[tuple[datetime, list]]:
    """One run a day, at the end of the day."""
    return [(max(a.published_at for a in day) + timedelta(hours=1), day) for day in days]


def shuffled_runs(days: list[list[ArticleFeatures]], seed: int) -> list[tuple[datetime, list]]:
    """Shuffle each day's input order and cut the day into one to four runs at random hours."""
    rng = random.Random(seed)
    runs = []
    for day in days:
        items = day[:]
        rng.shuffle(items)
        start = min(a.published_at for a in day).replace(hour=0, minute=0, second=0)
        cuts = sorted(rng.uniform(2, 22) for _ in range(rng.randrange(4)))
        for cut in [*cuts, 24.0]:
            now = start + timedelta(hours=cut)
            batch = [a for a in items if a.published_at < now]
            items = [a for a in items if a.published_at >= now]
            if batch:
                runs.append((now, batch))
    return runs


def related_quality(stories: list[StoryState], gold: dict[str, str]) -> str:
    """Compare "related" links with gold sibling events (same ECB+ topic, another event)."""
    main = {}
    for s in stories:
        if s.article_ids:
            labels = [gold[a] for a in s.article_ids]
            main[s.id] = max(set(labels), key=labels.count)
    links = {tuple(sorted((s.id, r))) for s in stories for r in s.related if {s.id, r} <= set(main)}
    linked_events = {tuple(sorted((main[a], main[b]))) for a, b in links if main[a] != main[b]}
    good = {(a, b) for a, b in linked_events if a.split("_")[0] == b.split("_")[0]}
    topics = defaultdict(set)
    for event in set(gold.values()):
        topics[event.split("_")[0]].add(event)
    siblings = sum(1 for events in topics.values() if len(events) == 2)
    return (
        f"{len(links)} links; {len(good)} of {len(linked_events)} linked event pairs are gold "
        f"siblings; {len(good)} of {siblings} sibling pairs linked"
    )


def cross_validate(days, gold, params: GroupingParams, folds: int = 5) -> None:
    """Choose the resolution on four fifths of the topics (stream runs); score the rest."""
    topic_of = {a: g.split("_")[0] for a, g in gold.items()}
    runs = {
        r: predictions(stream(daily_runs(days), replace(params, resolution=r))[0])
        for r in GRID_RESOLUTION
    }
    topics = sorted(set(topic_of.values()), key=int)

    def part(r: float, chosen: set[str]) -> dict:
        subset = {a: g for a, g in gold.items() if topic_of[a] in chosen}
        return score(subset, {a: runs[r][a] for a in subset})

    print(
        "\nresolution sweep, stream: "
        + ", ".join(f"{r}: {fmt(score(gold, runs[r]))}" for r in GRID_RESOLUTION)
    )
    held, held_default = [], []
    for fold in range(folds):
        test = set(topics[fold::folds])
        train = set(topics) - test
        best = max(GRID_RESOLUTION, key=lambda r: (part(r, train)["b3_f1"], -abs(r - 0.03)))
        held.append(part(best, test))
        held_default.append(part(params.resolution, test))
        print(
            f"  fold {fold}: chose resolution {best} -> held-out {fmt(held[-1])}; "
            f"defaults -> {fmt(held_default[-1])}"
        )
    for name, scores in (("chosen", held), ("defaults", held_default)):
        b3 = statistics.mean(s["b3_f1"] for s in scores)
        pw = statistics.mean(s["pair_f1"] for s in scores)
        print(f"  mean over held-out folds, {name}: B3 {b3:.3f} pairwise {pw:.3f}")


def sensitivity(days, gold, params: GroupingParams) -> None:
    """Print the stream's score with one knob moved off its default at a time."""
    print("\nsensitivity (stream, one knob at a time):")
    knobs = {
        "neighbours": (4, 6, 8),
        "edge_power": (1.5, 2.5, 3.0),
        "decay_days": (0.5, 2.0),
        "decay_floor": (0.2, 0.5),
        "min_similarity": (0.1, 0.2),
    }
    for name, values in knobs.items():
        cells = []
        for value in values:
            stories, _ = stream(daily_runs(days), replace(params, **{name: value}))
            s = score(gold, predictions(stories))
            cells.append(f"{value}: {s['b3_f1']:.3f}/{s['pair_f1']:.3f}")
        print(f"  {name} (default {getattr(params, name)}): " + ", ".join(cells))


def through_store(stream_dir: Path, nlp: dict[str, tuple], gold: dict[str, str]) -> None:
    """Import and group each day with the real stage and store, then export and score."""
    from briefing.config import parse_config
    from briefing.nlp.enrich import Enrichment
    from briefing.stages.group import group_pending
    from briefing.stages.story_export import export_stories
    from briefing.stages.transfer import import_jsonl
    from briefing.store.engine import Store

    class CachedEnricher:  # the NLP results of this bench's cache, in Enricher's shape
        def __init__(self, rows: dict[str, dict]) -> None:
            self.by_title_text = {(r["title"], r["text"]): nlp[r["id"]] for r in rows.values()}

        def enrich_many(self, docs):
            for title, text in docs:
                entities, phrases = self.by_title_text[(title, text)]
                yield Enrichment.from_dict(
                    {
                        "entities": [{"text": t, "label": lb, "count": c} for t, lb, c in entities],
                        "key_phrases": list(phrases),
                    }
                )

    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(
            {"store": {"url": f"sqlite:///{tmp}/b.db"}, "sources": []}, base_dir=Path(tmp)
        )
        store = Store(config.store.url)
        rows: dict[str, dict] = {}
        started = time.perf_counter()
        for d in range(7):
            lines = (stream_dir / f"day{d}.jsonl").read_text().splitlines()
            rows.update((r["id"], r) for r in map(json.loads, lines))
            import_jsonl(store, lines)
            last = max(datetime.fromisoformat(r["published_at"]) for r in map(json.loads, lines))
            group_pending(
                store, config, now=last + timedelta(hours=1), enricher=CachedEnricher(rows)
            )
        seconds = time.perf_counter() - started
        with store.session() as session:
            exported = export_stories(session)
    pred = {a: s["id"] for s in exported for a in s["articles"]}
    print(
        f"\nthrough the store (import + group per day, export): {fmt(score(gold, pred))}, "
        f"{seconds:.1f} s for the 7 days"
    )


def synthetic_week(per_day: int, new: int, seed: int = 3):
    """Spread synthetic stories (bench/grouping.py's copies) over 7 days, then a day of `new`."""
    sys.path.insert(0, str(REPO / "bench"))
    from grouping import NOW, synthetic
    from grouping import enrich as enrich_ecb
    from grouping import features as ecb_features

    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    gold = {r["id"]: str(r["cluster"]) for r in rows}
    cache = Path(tempfile.gettempdir()) / "briefing-bench-ecb-nlp.pickle"
    articles, truth = synthetic(ecb_features(rows, enrich_ecb(rows, cache)), gold, 8 * per_day)
    rng = random.Random(seed)
    start = {story: rng.randrange(8) for story in sorted(set(truth.values()))}
    days: list[list[ArticleFeatures]] = [[] for _ in range(8)]
    for a in articles:
        d = min(7, start[truth[a.id]] + (rng.random() < 0.3))
        when = NOW + timedelta(days=d - 8, hours=rng.uniform(1, 21))
        days[d].append(replace(a, published_at=when))
    days[7] = days[7][:new]
    return days


def cost_child(path: Path) -> None:
    """Group the pickled week day by day; print the last day's seconds and CPU seconds."""
    sys.path.insert(0, str(REPO / "bench"))
    from grouping import peak_rss_mb

    days = pickle.loads(path.read_bytes())
    stories: list[StoryState] = []
    seen: dict[str, ArticleFeatures] = {}
    regrouped = 0
    for day in days:
        now = max(a.published_at for a in day) + timedelta(hours=1)
        ids = set(touched_stories(day, stories, now=now))
        regrouped = len(day) + sum(len(s.article_ids) for s in stories if s.id in ids)
        wall, cpu = time.perf_counter(), time.process_time()
        stories = group(day, stories, now=now, members=seen.values())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        seen.update((a.id, a) for a in day)
    result = {
        "seconds": wall,
        "cpu": cpu,
        "peak_rss_mb": peak_rss_mb(),
        "window": len(seen),
        "regrouped": regrouped,
    }
    print(json.dumps(result))


def cost(per_day: int, sizes: tuple[int, ...]) -> None:
    """Time the eighth day's run over seven days of open stories, as the day grows."""
    print(
        f"\ncost of a day's run over 7 days x {per_day} articles of open stories "
        "(synthetic copies; one process each; the machine is shared, so CPU time is given)"
    )
    for new in sizes:
        with tempfile.NamedTemporaryFile(suffix=".pickle") as handle:
            handle.write(pickle.dumps(synthetic_week(per_day, new)))
            handle.flush()
            done = subprocess.run(
                [sys.executable, __file__, "--child", handle.name],
                capture_output=True,
                text=True,
                check=True,
            )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"  {new:>5} new articles: {r['seconds']:.2f} s ({r['cpu']:.2f} s CPU), peak RSS "
            f"{r['peak_rss_mb']:.0f} MB; re-grouped {r['regrouped']} of the week's "
            f"{r['window']} articles"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, help="file keeping the NLP results between runs")
    parser.add_argument("--quick", action="store_true", help="skip the sweep and the cost runs")
    parser.add_argument("--store", action="store_true", help="also run through the real store")
    parser.add_argument("--cost-only", action="store_true", help="only the cost runs")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        cost_child(args.child)
        return
    if not DATA.exists():
        print(f"evaluation data not found at {DATA}; nothing to measure")
        return
    if args.cost_only:
        cost(1000, (125, 250, 500, 1000))
        return
    with tempfile.TemporaryDirectory() as tmp:
        raw_days, gold = make_stream(Path(tmp))
        nlp = enrich([r for day in raw_days for r in day], args.cache)
        days = [features(day, nlp) for day in raw_days]
        params = GroupingParams()
        everything = [a for day in days for a in day]
        now = max(a.published_at for a in everything) + timedelta(hours=1)
        print(
            f"\nECB+ dev as a 7-day stream: {len(everything)} articles, "
            f"{len(set(gold.values()))} stories; defaults resolution={params.resolution}"
        )
        batch = group(everything, [], now=now, params=params)
        print(f"  batch, one run:          {fmt(score(gold, predictions(batch)))}")
        undated = [replace(a, published_at=None) for a in everything]
        print(
            f"  batch, dates hidden:     "
            f"{fmt(score(gold, predictions(group(undated, [], now=now, params=params))))}"
        )
        stories, moved = stream(daily_runs(days), params)
        print(
            f"  stream, one run a day:   {fmt(score(gold, predictions(stories)))}; "
            f"{moved} moves of earlier articles over the week"
        )
        for seed in (1, 2):
            runs = shuffled_runs(days, seed)
            shuffled, _ = stream(runs, params)
            print(
                f"  shuffled order {seed} ({len(runs)} runs): "
                f"{fmt(score(gold, predictions(shuffled)))}"
            )
        print(f"  related links (stream): {related_quality(stories, gold)}")
        if args.store:
            through_store(Path(tmp), nlp, gold)
        if not args.quick:
            cross_validate(days, gold, params)
            sensitivity(days, gold, params)
    if not args.quick:
        cost(1000, (125, 250, 500, 1000))


if __name__ == "__main__":
    main()
