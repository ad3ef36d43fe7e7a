"""`[crawl] concurrency_per_domain` holds for a host however many sources it serves.

Scrapy counts its per-domain limit per crawler (one per source), and in Scrapy 2.19 does not
keep it even within one (see scraper.hostlimit): without our limit, the server here answered
all 18 downloads at once. It counts the downloads it is answering at once."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from support.config import make_config
from support.http import LoopbackServer, answer_ok, serving

from briefing.stages.crawl import crawl_and_record

SOURCES = 3
ARTICLES = 6  # per source
ANSWER_SECONDS = 0.2  # long enough for every allowed download to overlap
LIMIT = 2

WORDS = (
    "harbour council voted monday rebuild old pier before storm season ferry operators "
    "said repairs would close the northern berth while engineers inspect pilings and "
    "residents asked whether the fish market could stay open during the works"
).split()


class CountingHandler(BaseHTTPRequestHandler):
    """Feeds /s<k>/rss.xml and slow article pages; counts answers in progress."""

    lock = threading.Lock()
    in_flight = 0
    most = 0

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        source, _, page = self.path.strip("/").partition("/")
        if page == "rss.xml":
            base = f"http://{self.headers['Host']}/{source}"
            items = "".join(
                f"<item><title>Story {n}</title><link>{base}/{n}.html</link></item>"
                for n in range(ARTICLES)
            )
            body = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
            return self._answer(body.encode(), "application/rss+xml")
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most = max(cls.most, cls.in_flight)
        try:
            time.sleep(ANSWER_SECONDS)
            rng = random.Random(self.path)
            paragraphs = "".join(
                f"<p>{' '.join(rng.sample(WORDS, 14)).capitalize()}.</p>" for _ in range(8)
            )
            now = datetime.now(UTC).isoformat(timespec="seconds")
            head = f"<head><meta property='article:published_time' content='{now}'></head>"
            html = f"<html>{head}<body><article><h1>{source} {page}</h1>{paragraphs}</article>"
            self._answer((html + "</body></html>").encode(), "text/html; charset=utf-8")
        finally:
            with cls.lock:
                cls.in_flight -= 1

    def _answer(self, body: bytes, kind: str) -> None:
        answer_ok(self, body, kind)


def test_sources_on_one_host_share_its_download_limit(tmp_path: Path) -> None:
    with serving(LoopbackServer(CountingHandler)) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        config = make_config(
            tmp_path,
            crawl={
                "autothrottle": False,
                "obey_robots": False,
                "concurrency": 8,
                "concurrency_per_domain": LIMIT,
            },
            sources=[{"name": f"s{k}", "feeds": [f"{base}/s{k}/rss.xml"]} for k in range(SOURCES)],
            nlp={"enrich_with_crawl": False},
        )
        summary = crawl_and_record(config)
    assert summary.total["stored"] == SOURCES * ARTICLES
    assert CountingHandler.most == LIMIT  # reached, never passed
