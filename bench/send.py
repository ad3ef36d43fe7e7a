"""Time the build (HTML + PDF) and the send of one briefing to N subscribers over real SMTP.

The briefing is composed from synthetic stories (by default 200 stories from 1,000 articles,
a few big and many single, as bench/build.py makes them; 30 shown, the default
max_stories), rendered and archived as `briefing build` does, then mailed with
`send_briefing` to N subscribers on a loopback SMTP server (aiosmtpd, in a child process
unless --in-process). Most subscribers take the whole briefing with its PDF; some
follow one topic and some do without the PDF, so several views of the mail are made.

Targets (issue 19): build + send for 50 subscribers under 3 s; 1,000 subscribers under 30 s.
Run: .venv/bin/python bench/send.py [--subscribers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from aiosmtpd.controller import Controller  # noqa: E402
from build import END, synthetic_stories  # type: ignore[import-not-found]  # noqa: E402

from briefing.briefs.compose import compose  # noqa: E402
from briefing.config import Config, parse_config  # noqa: E402
from briefing.output.archive import read_briefing  # noqa: E402
from briefing.stages.build import publish_briefing  # noqa: E402
from briefing.stages.send import send_briefing  # noqa: E402
from briefing.store.engine import Store  # noqa: E402

DAY = date(2024, 5, 14)
TOPIC = "Watched topic"  # the topic bench/build.py gives every tenth story


class Counting:
    """An aiosmtpd handler that counts messages, connections and bytes accepted."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0
        self.connections: set[int] = set()

    def counts(self) -> dict[str, int]:
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "connections": len(self.connections),
        }

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.bytes += len(envelope.content)
        self.connections.add(id(session))
        return "250 2.0.0 accepted"


class LoopbackController(Controller):
    """aiosmtpd's Controller on a free loopback port chosen by the kernel."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()


def subscriber(number: int) -> dict[str, Any]:
    """Every tenth subscriber follows one topic, every seventh goes without the PDF."""
    entry: dict[str, Any] = {"email": f"reader{number:05d}@example.org"}
    if number % 10 == 9:
        entry["topics"] = [TOPIC]
    if number % 7 == 6:
        entry["attach_pdf"] = False
    return entry


def make_config(workdir: Path, port: int, subscribers: int) -> Config:
    data = {
        "timezone": "Asia/Seoul",
        "store": {"url": f"sqlite:///{workdir / 'briefing.db'}"},
        "archive": {"dir": str(workdir / "archive")},
        "briefing": {"title": "Morning Briefing"},
        "topics": [{"name": TOPIC}],
        "mail": {"sender": "Morning Briefing <briefing@example.org>", "attach_pdf": True,
                 "smtp": {"host": "127.0.0.1", "port": port, "security": "none",
                          "timeout": 30}},
        "web": {"base_url": "https://briefing.example.org/"},
        "subscribers": [subscriber(n) for n in range(subscribers)],
    }  # fmt: skip
    return parse_config(data, base_dir=workdir)


@contextmanager
def smtp_server(in_process: bool) -> Iterator[tuple[int, Callable[[], dict[str, int]]]]:
    """Run the counting SMTP server; yield its port and a function returning its counts.

    By default in a child process: a real server is not in our process, and on two cores
    its parsing of 800 KB messages would otherwise count as the send's CPU time.
    """
    if in_process:
        handler = Counting()
        controller = LoopbackController(handler, hostname="127.0.0.1", port=0)
        controller.start()
        try:
            yield controller.port, handler.counts
        finally:
            controller.stop()
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    port = int(child.stdout.readline())
    counts: dict[str, int] = {}

    def read_counts() -> dict[str, int]:
        if not counts:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.close()  # the child prints its counts and exits
            counts.update(json.loads(child.stdout.readline()))
        return counts

    try:
        yield port, read_counts
    finally:
        read_counts()
        child.wait(30)


def serve() -> None:
    """The child: serve until stdin closes, then print the counts as JSON."""
    handler = Counting()
    controller = LoopbackController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    print(controller.port, flush=True)
    sys.stdin.read()
    controller.stop()
    print(json.dumps({**handler.counts(), "cpu_ms": round(time.process_time() * 1000)}), flush=True)


def run(workdir: Path, args: argparse.Namespace) -> None:
    subscribers, stories, articles = args.subscribers, args.stories, args.articles
    with smtp_server(args.in_process) as (port, counts):
        config = make_config(workdir, port, subscribers)
        store = Store(config.store.url)
        wall, cpu = time.perf_counter(), time.process_time()
        if args.from_json:  # a real day's briefing, as `bench/daily.py --keep DIR` archived it
            briefing = read_briefing(args.from_json)
            stories, articles = len(briefing.stories) + len(briefing.also_noted), "archived"
        else:
            inputs = synthetic_stories(7, stories, articles)
            wall, cpu = time.perf_counter(), time.process_time()
            briefing = compose(
                inputs,
                day=DAY,
                title="Morning Briefing",
                timezone="Asia/Seoul",
                window_start=END - timedelta(hours=24),
                window_end=END,
                previous_article_ids=frozenset(),
                topic_order=(TOPIC,),
                max_stories=args.max_stories,
                generated_at=END,
            )
        built = publish_briefing(store, config, briefing, [])
        build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, cpu = time.perf_counter(), time.process_time()
        report = send_briefing(store, config, briefing.day, clock=lambda: END)
        send_wall, send_cpu = time.perf_counter() - wall, time.process_time() - cpu
        store.close()
        served = counts()
    sent = len(report.sent)
    where = "in this process, included" if args.in_process else "in a child, not included"
    pdf = "none" if built.pdf is None else f"{built.pdf.stat().st_size // 1024} KB"
    shown = len(briefing.stories) + len(briefing.also_noted)
    print(
        f"{stories} stories from {articles} articles, {shown} shown; "
        f"{subscribers} subscribers; PDF {pdf}"
    )
    print(
        f"build  {build_wall:6.2f} s  (CPU {build_cpu:.2f} s here, "
        f"{children.ru_utime + children.ru_stime:.2f} s in the PDF child)"
    )
    server_cpu = f", the server's {served['cpu_ms'] / 1000:.2f} s" if "cpu_ms" in served else ""
    print(f"send   {send_wall:6.2f} s  (CPU {send_cpu:.2f} s{server_cpu}; the server {where})")
    print(f"total  {build_wall + send_wall:6.2f} s")
    print(
        f"per mail: {send_wall / max(sent, 1) * 1000:.1f} ms, "
        f"{send_cpu / max(sent, 1) * 1000:.1f} ms CPU, "
        f"{served['bytes'] / max(served['messages'], 1) / 1024:.0f} KB; {sent} sent, "
        f"{served['messages']} accepted over {served['connections']} SMTP connection(s)"
    )
    if not report.complete:
        print(f"NOT COMPLETE: failed {report.failed} pending {report.pending}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--max-stories", type=int, default=30, help="[briefing] max_stories")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="Send this archived briefing.json (e.g. from bench/daily.py --keep DIR) instead",
    )
    parser.add_argument(
        "--in-process", action="store_true", help="Run the SMTP server in this process"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    logging.basicConfig(level=logging.ERROR)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-send-") as folder:
        run(Path(folder), args)


if __name__ == "__main__":
    main()
