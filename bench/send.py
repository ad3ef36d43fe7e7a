"""Time the build (HTML + PDF) and the send of one briefing to N subscribers over real SMTP.

The briefing is composed from synthetic stories (50 stories from 1,000 articles, as
bench/build.py), rendered and archived as `briefing build` does, then mailed with
`send_briefing` to N subscribers on a loopback SMTP server (aiosmtpd, in this process's
threads as the test server is). Most subscribers take the whole briefing with its PDF; some
follow one topic and some do without the PDF, so several views of the mail are made.

Targets (issue 19): build + send for 50 subscribers under 3 s; 1,000 subscribers under 30 s.
Run: .venv/bin/python bench/send.py [--subscribers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
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


def run(workdir: Path, subscribers: int, stories: int, articles: int) -> None:
    handler = Counting()
    smtp = LoopbackController(handler, hostname="127.0.0.1", port=0)
    smtp.start()
    try:
        config = make_config(workdir, smtp.port, subscribers)
        store = Store(config.store.url)
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
            max_stories=stories,
            generated_at=END,
        )
        built = publish_briefing(store, config, briefing, [])
        build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        report = send_briefing(store, config, DAY, clock=lambda: END)
        send_wall, send_cpu = time.perf_counter() - wall, time.process_time() - cpu
        store.close()
    finally:
        smtp.stop()
    sent = len(report.sent)
    # The SMTP server runs in this process: its CPU time is in the send's figure too.
    print(f"{stories} stories from {articles} articles; {subscribers} subscribers")
    print(f"build  {build_wall:6.2f} s  (CPU {build_cpu:.2f} s here; the PDF child not counted)")
    print(f"send   {send_wall:6.2f} s  (CPU {send_cpu:.2f} s, SMTP server included)")
    print(f"total  {build_wall + send_wall:6.2f} s")
    print(
        f"{send_wall / max(sent, 1) * 1000:.1f} ms per mail, {send_cpu / max(sent, 1) * 1000:.1f} "
        f"ms CPU per mail; {sent} sent, {handler.messages} accepted, "
        f"{handler.bytes / max(handler.messages, 1) / 1024:.0f} KB per mail, "
        f"{len(handler.connections)} SMTP connection(s); PDF "
        f"{'none' if built.pdf is None else f'{built.pdf.stat().st_size // 1024} KB'}"
    )
    if not report.complete:
        print(f"NOT COMPLETE: failed {report.failed} pending {report.pending}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--stories", type=int, default=50)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.subscribers, args.stories, args.articles)
        return
    with tempfile.TemporaryDirectory(prefix="bench-send-") as folder:
        run(Path(folder), args.subscribers, args.stories, args.articles)


if __name__ == "__main__":
    main()
