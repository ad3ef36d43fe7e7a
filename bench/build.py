"""Time compose + HTML + PDF for a briefing of 50 stories built from 1,000 synthetic articles.

Targets (issue 4): everything <= 10 s, the PDF <= 5 s. Run: .venv/bin/python bench/build.py
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader

from briefing.briefs.compose import SourceArticle, StoryInput, compose
from briefing.output.render import render_html, render_pdf

COMMON = (
    "the said on in to of and a for with after officials government new year week "
    "report country people city minister plan talks market company police court "
    "announced during while least more than over under people's"
).split()
SYLLABLES = "ka ri mo sen ta lu vi do ne pa gor hal mir tes zan bel kor yun".split()
OUTLETS = [f"Outlet {name}" for name in "ABCDEFGHIJKLMNOPQRSTUVWXY"]
END = datetime(2024, 5, 13, 22, 0, tzinfo=UTC)


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


def sentence(rng: random.Random, topic: list[str]) -> str:
    words = [rng.choice(topic) if rng.random() < 0.35 else rng.choice(COMMON) for _ in range(22)]
    words = words[: rng.randint(10, 22)]
    return " ".join(words).capitalize() + "."


def story_sizes(rng: random.Random, stories: int, articles: int) -> list[int]:
    """Split the articles over the stories, a few big and many small, some single."""
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(stories)]
    sizes = [max(1, round(articles * w / sum(weights))) for w in weights]
    sizes[0] += articles - sum(sizes)
    return sizes


def synthetic_stories(seed: int, stories: int, articles: int) -> list[StoryInput]:
    rng = random.Random(seed)
    result = []
    counter = 0
    for index, size in enumerate(story_sizes(rng, stories, articles)):
        topic = [word(rng) for _ in range(25)]
        speakers = [f"{word(rng).title()} {word(rng).title()}" for _ in range(4)]
        items = []
        for _ in range(size):
            counter += 1
            body = tuple(sentence(rng, topic) for _ in range(rng.randint(12, 25)))
            quotes = tuple((sentence(rng, topic)[:-1], rng.choice(speakers)) for _ in range(2))
            items.append(
                SourceArticle(
                    id=f"a{counter}",
                    outlet=rng.choice(OUTLETS[: max(1, min(len(OUTLETS), size))]),
                    title=sentence(rng, topic)[:-1],
                    url=f"https://news.example/{index}/{counter}",
                    published_at=END - timedelta(minutes=rng.randint(0, 36 * 60)),
                    sentences=body,
                    quotes=quotes,
                )
            )
        label = " ".join(topic[:4]).title()
        topics = ("Watched topic",) if index % 10 == 3 else ()
        result.append(
            StoryInput(f"s{index}", label, "developing", topics, tuple(topic[:5]), tuple(items))
        )
    return result


class Clock:
    """Measure wall and CPU time between laps (CPU time shows contention on shared cores)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        elapsed = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stories", type=int, default=50)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    args = parser.parse_args()
    stories = synthetic_stories(7, args.stories, args.articles)
    previous = frozenset(
        a.id for s in stories for a in s.articles if a.published_at < END - timedelta(hours=24)
    )
    clock = Clock()
    briefing = compose(
        stories,
        day=date(2024, 5, 14),
        title="Morning Briefing",
        timezone="Asia/Seoul",
        window_start=END - timedelta(hours=24),
        window_end=END,
        previous_article_ids=previous,
        topic_order=("Watched topic",),
        max_stories=args.stories,
        generated_at=END,
    )
    composing = clock.lap()
    html = render_html(briefing)
    html_time = clock.lap()
    pdf = render_pdf(briefing)
    pdf_time = clock.lap()
    if args.out:
        args.out.write_bytes(pdf)
    total_articles = sum(len(s.articles) for s in stories)
    shown = len(briefing.stories) + len(briefing.also_noted)
    print(f"input: {len(stories)} stories, {total_articles} articles")
    print(
        f"briefing: {len(briefing.stories)} main + {len(briefing.also_noted)} also noted = {shown}"
    )
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print("stage      wall s   cpu s   (cpu: this process; wall adds waiting for a core)")
    print(f"compose  {composing[0]:7.2f} {composing[1]:7.2f}")
    print(f"html     {html_time[0]:7.2f} {html_time[1]:7.2f}   {len(html) / 1024:.0f} KiB")
    size = f"{len(pdf) / 1024:.0f} KiB, {pages} pages"
    print(f"pdf      {pdf_time[0]:7.2f} {pdf_time[1]:7.2f}   {size}; target <= 5 s")
    total = [sum(lap[i] for lap in (composing, html_time, pdf_time)) for i in (0, 1)]
    print(f"total    {total[0]:7.2f} {total[1]:7.2f}   target <= 10 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
