"""Story grouping quality through the CLI: import → group → export stories → score (ECB+).

Reads ../shared/eval/clustering/ecbplus-dev.jsonl; the gold story (`cluster`) and topic
are removed before import, so grouping sees only what a crawl would give it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "clustering"
GOLD = EVAL / "ecbplus-dev.jsonl"
SCORER = EVAL.parent / "score_clusters.py"
KEEP = ("id", "url", "source", "title", "text", "authors", "published_at", "language")


def briefing(*args: str, config: Path) -> str:
    command = [sys.executable, "-m", "briefing", *args, "--config", str(config)]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def main() -> None:
    if not GOLD.exists():
        print(f"no evaluation data at {GOLD}: skipped (it is not part of the project)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "briefing.toml"
        config.write_text('[store]\nurl = "sqlite:///briefing.db"\n', encoding="utf-8")
        articles = folder / "articles.jsonl"
        with GOLD.open(encoding="utf-8") as source, articles.open("w", encoding="utf-8") as out:
            for line in source:
                record = json.loads(line)
                out.write(json.dumps({k: record[k] for k in KEEP if k in record}) + "\n")
        timings = {}
        for name, args in (
            ("import", ("import", str(articles))),
            ("group", ("group",)),
            ("export", ("export", "stories", "--format", "json", "-o", str(folder / "s.json"))),
        ):
            started = time.perf_counter()
            briefing(*args, config=config)
            timings[name] = time.perf_counter() - started
        stories = json.loads((folder / "s.json").read_text(encoding="utf-8"))
        predictions = {a: s["id"] for s in stories for a in s["articles"]}
        (folder / "predictions.json").write_text(json.dumps(predictions), encoding="utf-8")
        score = subprocess.run(
            [sys.executable, str(SCORER), str(GOLD), str(folder / "predictions.json")],
            capture_output=True,
            text=True,
            check=False,
        )
    print(f"articles {sum(1 for _ in GOLD.open())}, stories found {len(stories)}")
    print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of a CLI step: {peak:.0f} MB; cores: {os.cpu_count()}")
    print(score.stdout.strip() or score.stderr.strip())


if __name__ == "__main__":
    main()
