"""A fast synthetic news site on loopback: thousands of articles, some failing on purpose.

Every page's fate is decided by its number, so a test knows the truth in advance: which
pages must be stored, and which skipped for what reason. Failing kinds: http_404,
http_500, timeout (the answer comes after the crawler gave up), connection_lost (the
connection is reset, before or during the answer), bad_encoding (UTF-8 declared, bytes
that are not), and not_article (markup too broken to hold an article).
"""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from support.http import LoopbackServer, serving

SYLLABLES = "ka ro mi tes van dul per so ling qua bre to nak el fi ur zen ho pa lu".split()
# Pseudo-words: a large vocabulary keeps every article's fingerprint far from the others.
VOCABULARY = [
    a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "n", "s", "t", "ra", "lo")
]
SITEMAP_SIZE = 1000


@dataclass(frozen=True)
class SiteTruth:
    """How many pages the site has, and the numbers of those that fail, by reason."""

    pages: int
    failing: dict[str, frozenset[int]]
    timeout_seconds: float = 5.0
    delay_seconds: float = 0.0  # every article answer waits this long (to slow a crawl down)

    @property
    def good(self) -> set[int]:
        bad = set().union(*self.failing.values()) if self.failing else set()
        return set(range(self.pages)) - bad

    def reason_of(self, number: int) -> str | None:
        return next((r for r, numbers in self.failing.items() if number in numbers), None)

    def expected_skips(self) -> dict[str, int]:
        return {reason: len(numbers) for reason, numbers in sorted(self.failing.items()) if numbers}


def mixed_failures(pages: int, counts: dict[str, int], seed: int = 7) -> SiteTruth:
    """Pick disjoint failing pages at random (seeded) for each reason's count."""
    numbers = random.Random(seed).sample(range(pages), sum(counts.values()))
    failing, start = {}, 0
    for reason, count in counts.items():
        failing[reason] = frozenset(numbers[start : start + count])
        start += count
    return SiteTruth(pages, failing)


def article_path(number: int) -> str:
    return f"/news/{number:05d}.html"


def _sentences(rng: random.Random, count: int) -> str:
    out = []
    for _ in range(count):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(8, 15))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def article_html(number: int, *, messy: bool = False) -> str:
    """Return article number's page; messy pages have unclosed and misnested tags."""
    rng = random.Random(number)
    title = f"Story {number}: " + " ".join(rng.choice(VOCABULARY) for _ in range(5)).title()
    paragraphs = [_sentences(rng, 4) for _ in range(6)]
    if messy:  # what real sites serve: no closing tags, <b><i> crossed, stray end tags
        body = "".join(f"<p><b>{p[:20]}<i></b>{p[20:]}</i>" for p in paragraphs) + "</div></span>"
        tail = ""
    else:
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        tail = "</article><footer>Synthetic News</footer></body></html>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><meta property='og:type' content='article'>"
        "<meta property='article:published_time' "
        f"content='2026-11-{1 + number % 27:02d}T08:00:00Z'>"
        "</head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{title}</h1><p class='byline'>By Synthetic Writer</p>{body}{tail}"
    )


def title_of(number: int) -> str:
    match = re.search(r"<title>(.*?)</title>", article_html(number))
    assert match is not None
    return match.group(1)


def broken_markup(number: int) -> str:
    """Return tag soup with hardly any words: no article can be read from it."""
    rng = random.Random(number)
    pieces = ["<", ">", "</", "<p", "div", "=", "'", '"', "&#x;", " "]
    junk = "".join(rng.choice(pieces) * 3 for _ in range(80))
    return f"<<html><bo<dy {junk}><p><<table><tr><td>{rng.choice(VOCABULARY)}</dvi></p"


def badly_encoded(number: int) -> bytes:
    """Return an article whose bytes are not the UTF-8 it declares (vowels made 0xE1…)."""
    page = article_html(number).encode("utf-8")
    head, body = page[:200], page[200:]
    return head + re.sub(rb"[aeiou]", lambda match: bytes([match[0][0] + 0x80]), body)


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        site.count(self.path)
        if self.path == "/robots.txt":
            self._answer(200, b"User-agent: *\nAllow: /\n", "text/plain")
        elif self.path == "/sitemap.xml":
            self._answer(200, site.sitemap_index(self._base()), "application/xml")
        elif match := re.fullmatch(r"/sitemap-(\d+)\.xml", self.path):
            self._answer(200, site.sitemap(self._base(), int(match[1])), "application/xml")
        elif match := re.fullmatch(r"/news/(\d{5})\.html", self.path):
            self._article(int(match[1]))
        else:
            self._answer(404, b"not here", "text/plain")

    def _base(self) -> str:
        return f"http://{self.headers['Host']}"

    def _article(self, number: int) -> None:
        site = self.server.site
        truth = site.truth
        reason = truth.reason_of(number) if number < truth.pages else "http_404"
        if truth.delay_seconds:
            time.sleep(truth.delay_seconds)
        html = "text/html; charset=utf-8"
        if reason is None:
            self._answer(200, article_html(number, messy=number % 20 == 3).encode(), html)
        elif reason in ("http_404", "http_500"):
            self._answer(int(reason[5:]), b"<html><body>error</body></html>", html)
        elif reason == "timeout":
            time.sleep(truth.timeout_seconds)
            self._answer(200, article_html(number).encode(), html)
        elif reason == "connection_lost":
            self._reset(partial=number % 2 == 0)
        elif reason == "bad_encoding":
            self._answer(200, badly_encoded(number), html)
        elif reason == "not_article":
            self._answer(200, broken_markup(number).encode(), html)

    def _answer(self, status: int, body: bytes, kind: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the crawler gave up on this page (a timeout): nothing to do
            self.close_connection = True

    def _reset(self, *, partial: bool) -> None:
        """Reset the connection (RST, not FIN), before the answer or halfway through it."""
        if partial:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
            self.wfile.write(b"Content-Length: 5000\r\n\r\n<html><body><p>Half")
            self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def finish(self) -> None:
        with suppress(OSError):  # the connection was reset on purpose
            super().finish()


class _SiteServer(LoopbackServer):
    site: Site

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and abandoned timeouts are the point of this site


@dataclass
class Site:
    """The served site: its truth, and every request it received."""

    truth: SiteTruth
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> None:
        with self.lock:
            self.requests[path] += 1

    def sitemap_index(self, base: str) -> bytes:
        parts = range(0, self.truth.pages, SITEMAP_SIZE)
        entries = "".join(f"<sitemap><loc>{base}/sitemap-{i}.xml</loc></sitemap>" for i in parts)
        return (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{entries}</sitemapindex>'
        ).encode()

    def sitemap(self, base: str, start: int) -> bytes:
        numbers = range(start, min(start + SITEMAP_SIZE, self.truth.pages))
        entries = "".join(f"<url><loc>{base}{article_path(n)}</loc></url>" for n in numbers)
        return (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{entries}</urlset>'
        ).encode()

    def article_requests(self) -> Counter[int]:
        """Return how often each article page was requested."""
        found: Counter[int] = Counter()
        for path, count in self.requests.items():
            if match := re.fullmatch(r"/news/(\d{5})\.html", path):
                found[int(match[1])] += count
        return found


@contextmanager
def serve_site(truth: SiteTruth) -> Iterator[tuple[str, Site]]:
    """Serve the site on a free loopback port; yield (base URL, site)."""
    site = Site(truth)
    server = _SiteServer(_Handler)
    server.site = site
    with serving(server):
        yield server.base, site
