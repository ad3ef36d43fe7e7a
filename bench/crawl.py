"""Crawl speed: a loopback site of N article pages, crawled, extracted and stored.

Prints articles/s, the crawl child's peak memory, and `scrapy bench` measured in the same
run for scale. Needs nothing from ../shared. Usage: python bench/crawl.py [N]
"""

from __future__ import annotations

import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from briefing.config import parse_config
from briefing.stages.crawl import crawl_and_record

WORDS = tuple(
    "government minister talks summit port missile economy market council energy budget "
    "parliament election court police flood storm harbour railway village farmers trade "
    "union strike bank inflation vaccine hospital school teachers festival museum river "
    "bridge army navy treaty sanctions envoy agency officials residents company shares".split()
)


def article_html(number: int) -> bytes:
    rng = random.Random(number)
    paragraphs = []
    for _ in range(8):
        sentences = []
        for _ in range(4):
            words = [rng.choice(WORDS) for _ in range(rng.randint(9, 16))]
            sentences.append(" ".join(words).capitalize() + f" {rng.randint(1, 99999)}.")
        paragraphs.append("<p>" + " ".join(sentences) + "</p>")
    title = f"Bench story {number}: " + " ".join(rng.choice(WORDS) for _ in range(5))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='2026-11-27T0{number % 10}:00:00Z'>"
        "</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1><p class='byline'>By Bench Writer</p>"
        + "".join(paragraphs)
        + "</article><footer>Copyright Bench News</footer></body></html>"
    ).encode()


class Site(BaseHTTPRequestHandler):
    pages = 1000

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/sitemap.xml":
            host = f"http://{self.headers['Host']}"
            urls = "".join(f"<url><loc>{host}/a/{i}.html</loc></url>" for i in range(self.pages))
            body = (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                f'sitemap/0.9">{urls}</urlset>'
            ).encode()
            kind = "application/xml"
        elif match := re.fullmatch(r"/a/(\d+)\.html", self.path):
            body, kind = article_html(int(match.group(1))), "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def scrapy_bench() -> str:
    """Run `scrapy bench` (10 s) and return its pages/min figure."""
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "bench", "-s", "CLOSESPIDER_TIMEOUT=10"],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        timeout=120,
    )
    rates = re.findall(r"at (\d+) pages/min", result.stderr)
    return rates[-1] if rates else "?"


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    Site.pages = pages
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(
            {
                "crawl": {"autothrottle": False, "concurrency": 32, "concurrency_per_domain": 32},
                "sources": [{"name": "bench", "sitemaps": [f"{base}/sitemap.xml"]}],
            },
            base_dir=Path(tmp),
        )
        started = time.perf_counter()
        summary = crawl_and_record(config)
        seconds = time.perf_counter() - started
    server.shutdown()
    stored = summary.total.get("stored", 0)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"pages on site        {pages}")
    print(f"articles stored      {stored}  (skipped: {summary.skipped() or 'none'})")
    print(f"wall time            {seconds:.1f} s (incl. ~2 s child start-up)")
    print(f"throughput           {stored / seconds:.1f} articles/s end to end")
    print(f"crawl child peak RSS {peak_mb:.0f} MB")
    rate = scrapy_bench()
    print(f"scrapy bench         {rate} pages/min on this machine, same run")
    if rate != "?":
        print(f"ratio to scrapy bench {stored / seconds / (int(rate) / 60):.2f}")


if __name__ == "__main__":
    main()
