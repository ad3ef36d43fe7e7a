"""Story write-ups through the CLI: quotes and summaries scored against public gold data.

Each set goes through `briefing import` → `briefing group` → `briefing export`, then the
scorers in ../shared/eval score the export: quotes (detection F1, speaker accuracy, quotes
without a speaker) on ggt-dev and polnear-dev, summaries (ROUGE-1/2/L beside lead-3 and the
length-matched lead, scored in the same run) on cnndm-dev and multinews-dev.

Usage: .venv/bin/python bench/writeups.py [--sets ggt-dev,polnear-dev,cnndm-dev,multinews-dev]
       [--keep DIR]   (keep the exports in DIR for a closer look)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
QUOTE_SETS = ("ggt-dev", "polnear-dev")
SUMMARY_SETS = ("cnndm-dev", "multinews-dev")
# The targets (issue 14, "Done when").
QUOTE_F1, SPEAKER_RIGHT, NO_SPEAKER = 0.96, 0.90, 0.05
MULTI_MARGIN = 2.0


def briefing(*args: str, config: Path) -> None:
    """Run one briefing command with the set's configuration."""
    command = [sys.executable, "-m", "briefing", *args, "--config", str(config)]
    subprocess.run(command, check=True, capture_output=True, text=True)


def run_pipeline(articles: Path, folder: Path, what: str) -> tuple[Path, float]:
    """Import, group and export (articles or stories) into folder; return the export path."""
    config = folder / "briefing.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{folder}/briefing.db"\n', encoding="utf-8")
    out = folder / ("articles.jsonl" if what == "articles" else "stories.json")
    fmt = "jsonl" if what == "articles" else "json"
    started = time.perf_counter()
    briefing("import", str(articles), config=config)
    briefing("group", config=config)
    briefing("export", what, "--format", fmt, "-o", str(out), config=config)
    return out, time.perf_counter() - started


def score(scorer: str, *args: Path) -> dict:
    """Run one of the shared scorers with --json and return its figures."""
    command = [sys.executable, str(EVAL / scorer), *map(str, args), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        print(done.stdout.strip() or done.stderr.strip())
        return {}


def printed_without_speaker(export: Path) -> tuple[int, int]:
    """Count exported quotes of 3+ words, and those printed with no speaker or descriptor."""
    total = bare = 0
    for line in export.read_text(encoding="utf-8").splitlines():
        for quote in json.loads(line).get("quotes") or []:
            if len(quote["text"].split()) >= 3:
                total += 1
                bare += not quote.get("speaker")
    return total, bare


def quotes(name: str, folder: Path) -> None:
    """Score one quote set and print its figures beside the targets."""
    export, seconds = run_pipeline(EVAL / "quotes" / f"{name}.articles.jsonl", folder, "articles")
    t = score("score_quotes.py", EVAL / "quotes" / f"{name}.gold.jsonl", export)
    if not t:
        return
    total, bare = printed_without_speaker(export)
    print(
        f"{name:14} detection P {t['precision']:.3f} R {t['recall']:.3f} F1 {t['f1']:.3f} "
        f"(target >= {QUOTE_F1})\n{'':14} speaker right {t['speaker_accuracy']:.3f} of "
        f"{t['named_matched']} matched named quotes (target >= {SPEAKER_RIGHT}); "
        f"right / all named gold {t['right_speaker_of_named_gold']:.3f}\n{'':14} no speaker: "
        f"{t['no_speaker_share']:.1%} of matched, {bare / max(total, 1):.1%} of {total} exported "
        f"(target <= {NO_SPEAKER:.0%}); {seconds:.0f} s"
    )


def summaries(name: str, folder: Path) -> None:
    """Score one summary set and print the product beside the lead baselines."""
    articles = EVAL / "summaries" / f"{name}.articles.jsonl"
    export, seconds = run_pipeline(articles, folder, "stories")
    r = score("score_summaries.py", EVAL / "summaries" / f"{name}.gold.jsonl", articles, export)
    if not r:
        return
    info = r["info"]
    print(
        f"{name:14} {info['stories']} gold stories, {info['matched']} matched "
        f"({info['share']:.0%} of their articles), {info['empty_summary']} empty; {seconds:.0f} s"
    )
    for system in ("product", "lead-2", "lead-3"):
        x = r[system]
        print(
            f"{'':14} {system:8} R1 {x['rouge1']:6.2f} R2 {x['rouge2']:6.2f} "
            f"RL {x['rougeL']:6.2f}  words {x['words']:5.1f}"
        )
    p, lead = r["product"], r["lead-3"]
    gaps = " ".join(f"R{m[5:]} {p[m] - lead[m]:+.2f}" for m in ("rouge1", "rouge2", "rougeL"))
    target = "all > 0" if name.startswith("cnndm") else f"R1 >= +{MULTI_MARGIN}"
    print(f"{'':14} product - lead-3: {gaps} (target {target})")


def main() -> int:
    """Run the chosen sets and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(QUOTE_SETS + SUMMARY_SETS))
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    if not (EVAL / "quotes").is_dir() or not (EVAL / "summaries").is_dir():
        print(f"no evaluation data at {EVAL}: skipped (it is not part of the project)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for name in args.sets.split(","):
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "briefing.db").unlink(missing_ok=True)
            if name in QUOTE_SETS:
                quotes(name, folder)
            elif name in SUMMARY_SETS:
                summaries(name, folder)
            else:
                print(f"unknown set {name!r}: skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
