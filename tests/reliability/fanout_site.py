"""A loopback site of fan-out traps: a 600,000-URL .xml.gz sitemap, an endless chain of
sitemap indexes, and a section page with 100,000 article links.

robots.txt disallows the article paths, so a crawl refuses every queued article without a
download: the test measures what reading and queueing cost, not fetching.
"""

from __future__ import annotations

import gzip
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any

from support.http import LoopbackServer, answer_ok, serving

BIG_SITEMAP_URLS = 600_000
SECTION_LINKS = 100_000
CHAIN_FANOUT = 3  # every index lists three deeper ones, and itself: it never ends
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"


@cache
def big_sitemap(base: str) -> bytes:
    entries = "".join(f"<url><loc>{base}/big/{n}.html</loc></url>" for n in range(BIG_SITEMAP_URLS))
    xml = f'<?xml version="1.0"?><urlset xmlns="{XMLNS}">{entries}</urlset>'
    return gzip.compress(xml.encode(), compresslevel=6)


def chain_index(base: str, name: str) -> bytes:
    children = [f"{base}/chain/{name}-{i}.xml" for i in range(CHAIN_FANOUT)]
    children.append(f"{base}/chain/{name}.xml")
    entries = "".join(f"<sitemap><loc>{url}</loc></sitemap>" for url in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="{XMLNS}">{entries}</sitemapindex>'.encode()


@cache
def section_page() -> bytes:
    links = "".join(f'<li><a href="/p/{n}.html">Story {n}</a></li>' for n in range(SECTION_LINKS))
    return f"<html><body><h1>Everything</h1><ul>{links}</ul></body></html>".encode()


@dataclass
class FanoutSite:
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def chain_requests(self) -> int:
        with self.lock:
            return sum(n for path, n in self.requests.items() if path.startswith("/chain/"))

    def article_requests(self) -> int:
        with self.lock:
            return sum(n for path, n in self.requests.items() if path.startswith(("/p/", "/big/")))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site, base = self.server.site, f"http://{self.headers['Host']}"
        with site.lock:
            site.requests[self.path] += 1
        if self.path == "/robots.txt":
            self._send(b"User-agent: *\nDisallow: /p/\nDisallow: /big/\n", "text/plain")
        elif self.path == "/big.xml.gz":
            self._send(big_sitemap(base), "application/x-gzip")
        elif match := re.fullmatch(r"/chain/([\d-]+)\.xml", self.path):
            self._send(chain_index(base, match[1]), "application/xml")
        elif self.path == "/section.html":
            self._send(section_page(), "text/html; charset=utf-8")
        else:
            self.send_error(404)

    def _send(self, body: bytes, kind: str) -> None:
        answer_ok(self, body, kind)


class _Server(LoopbackServer):
    site: FanoutSite


@contextmanager
def serve_fanout_site() -> Iterator[tuple[str, FanoutSite]]:
    site = FanoutSite()
    server = _Server(_Handler)
    server.site = site
    with serving(server):
        yield server.base, site


def fanout_sources(base: str) -> list[dict[str, Any]]:
    """Return one source per trap: the big sitemap, the endless chain, the wide section."""
    return [
        {"name": "bigmap", "sitemaps": [f"{base}/big.xml.gz"]},
        {"name": "chain", "sitemaps": [f"{base}/chain/0.xml"]},
        {"name": "wide", "start_urls": [f"{base}/section.html"], "allow": [r"/p/\d+\.html$"]},
    ]
