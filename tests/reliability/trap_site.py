"""Two loopback servers for the crawl-hardening tests: a trap-laden outlet and a "private" one.

The outlet (server A) publishes a feed, a sitemap tree and a section page whose links mix
good articles with every kind of bad link: malformed, IPv6, other ports in odd spellings,
redirects and meta refreshes to the private server, gzip bombs, UTF-16 pages, over-long
URLs, a canonical claim on another port, a date past datetime's range. The private server
(B) stands for an internal service on the same machine: it records every request it gets.
"""

from __future__ import annotations

import gzip
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from support.http import LoopbackServer, serving
from synthetic_site import article_html as html

HTML = "text/html; charset=utf-8"
LONG_PATH = "/long/" + "x" * 3000  # a redirect target longer than the store keeps
Answer = tuple[int, bytes, dict[str, str]]


def article(number: int, **replace: str) -> bytes:
    page = html(number)
    for old, new in replace.items():
        page = page.replace(old, new)
    return page.encode("utf-8")


def utf16_page(number: int, codec: str, bom: bool) -> bytes:
    page = html(number).replace("<meta charset='utf-8'>", "")
    body = page.encode(codec)
    return (b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff") + body if bom else body


def gzip_bomb() -> bytes:
    return gzip.compress(b"<html><body>" + b" " * (30 * 1024 * 1024) + b"</body></html>")


@dataclass
class Outlet:
    """The trap-laden outlet; `b` is the private server's base URL."""

    b: str
    a: str = ""  # set once the outlet serves
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def feed_links(self) -> list[str]:
        port = self.b.rsplit(":", 1)[1]
        return [
            "/a/1.html",
            f"http://[::1]:{port}/secret.html",  # IPv6 literal on another port
            "http://[",  # malformed: used to end the whole feed
            "/a/2.html",
            f"{self.b}/secret.html",
            f"http://0x7f000001:{port}/secret.html",
            f"http://2130706433:{port}/secret.html",
            f"http://ｌｏｃａｌｈｏｓｔ:{port}/secret.html",
            "/redirect-to-b",
            "/refresh-to-b.html",
            "/a/3.html",
            "/denied/1.html",  # the source denies /denied/
            "/a/" + "y" * 2100 + ".html",  # longer than a browser or the store takes
            "/a/1.html",  # listed twice
            "/bomb.html",
            "/bad-gzip.html",
            "/utf16-le-bom.html",
            "/utf16-be-declared.html",
            "/utf16-le-plain.html",
            "/nul-author.html",
            "/hijack.html",
            "/to-long",
        ]

    def feed(self) -> bytes:
        return _rss(self.feed_links())

    def routes(self) -> dict[str, Callable[[], Answer]]:
        return {
            "/robots.txt": lambda: _text(
                "User-agent: *\nAllow: /\nSitemap: /index.xml\nSitemap: /denied/map.xml\n"
                f"Sitemap: {self.b}/map.xml\nSitemap: http://[\n"
                "Sitemap: https://elsewhere.example/map.xml\n"
            ),
            "/feed.xml": lambda: (200, self.feed(), {"Content-Type": "application/rss+xml"}),
            # Read as http://localhost:A/feed-a.xml: 127.0.0.1:A is the seed's server too.
            "/feed-a.xml": lambda: (
                200,
                _rss([f"{self.a}/a/5.html", f"{self.b}/secret.html"]),
                {"Content-Type": "application/rss+xml"},
            ),
            "/feed-b.xml": lambda: (
                200,
                _rss([f"{self.b}/article.html", "/redirect-to-b"]),
                {"Content-Type": "application/rss+xml"},
            ),
            "/index.xml": lambda: _xml(
                "sitemapindex",
                "sitemap",
                ["/map-1.xml", "http://[", "/denied/map.xml", "https://elsewhere.example/m.xml"],
            ),
            "/map-1.xml": lambda: _xml(
                "urlset",
                "url",
                ["/s/1.html", "http://[", "/s/2.html", "/s/3.html"],
                lastmod={"/s/2.html": "9999-12-31T23:59:59-05:00"},
            ),
            "/section.html": lambda: _page(
                "".join(
                    f'<a href="{href}">link</a>'
                    for href in (
                        "/about.html",
                        "mailto:desk@example.org",
                        "/sec/1.html",
                        "http://[/sec/",
                        "/sec/2.html",
                        "/sec/1.html",
                        "javascript:void(0)",
                        "/sec/3.html",
                    )
                )
            ),
            "/redirect-to-b": lambda: (302, b"", {"Location": f"{self.b}/secret.html"}),
            "/refresh-to-b.html": lambda: _page(
                f'<meta http-equiv="refresh" content="0; url={self.b}/secret.html">'
            ),
            "/bomb.html": lambda: (200, gzip_bomb(), {"Content-Encoding": "gzip"}),
            "/bad-gzip.html": lambda: (
                200,
                b"\x1f\x8bnot gzip at all",
                {"Content-Encoding": "gzip"},
            ),
            "/utf16-le-bom.html": lambda: (200, utf16_page(40, "utf-16-le", True), {}),
            "/utf16-be-declared.html": lambda: (
                200,
                utf16_page(41, "utf-16-be", False),
                {"Content-Type": "text/html; charset=utf-16be"},
            ),
            "/utf16-le-plain.html": lambda: (
                200,
                utf16_page(42, "utf-16-le", False),
                {"Content-Type": "text/html"},
            ),
            "/nul-author.html": lambda: (200, article(43, **{"</head>": NUL_JSON_LD}), {}),
            "/hijack.html": lambda: (
                200,
                article(
                    44, **{"</head>": f'<link rel="canonical" href="{self.b}/a/1.html"></head>'}
                ),
                {},
            ),
            "/to-long": lambda: (302, b"", {"Location": LONG_PATH}),
            LONG_PATH: lambda: (200, article(45), {}),
        }

    def answer(self, path: str) -> Answer:
        route = self.routes().get(path)
        if route is not None:
            return route()
        if match := re.fullmatch(r"/(a|s|sec)/(\d+)\.html", path):
            offset = {"a": 0, "s": 10, "sec": 20}[match[1]]
            number = offset + int(match[2])
            if path == "/s/2.html":  # dated only by its sitemap's <lastmod>
                undated = re.sub(r"<meta property='article:published_time'[^>]*>", "", html(number))
                return 200, undated.encode(), {}
            return 200, article(number), {}
        return 404, b"not here", {"Content-Type": "text/plain"}


NUL_JSON_LD = (
    '<script type="application/ld+json">{"@type": "NewsArticle", '
    '"author": {"@type": "Person", "name": "Kim\\u0000 Lee"}}</script></head>'
)


def _rss(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>t{i}</title><link>{link.replace('&', '&amp;')}</link></item>"
        for i, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


def _text(text: str) -> Answer:
    return 200, text.encode(), {"Content-Type": "text/plain"}


def _page(body: str) -> Answer:
    return 200, f"<html><head></head><body>{body}</body></html>".encode(), {}


def _xml(root: str, entry: str, locs: list[str], lastmod: dict[str, str] | None = None) -> Answer:
    dates = lastmod or {}
    items = "".join(
        f"<{entry}><loc>{loc}</loc>"
        + (f"<lastmod>{dates[loc]}</lastmod>" if loc in dates else "")
        + f"</{entry}>"
        for loc in locs
    )
    xmlns = "http://www.sitemaps.org/schemas/sitemap/0.9"
    return 200, f'<?xml version="1.0"?><{root} xmlns="{xmlns}">{items}</{root}>'.encode(), {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = self.server.site
        with site.lock:
            site.requests[self.path] += 1
        status, body, headers = site.answer(self.path)
        self.send_response(status)
        headers = {"Content-Type": HTML, **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(LoopbackServer):
    site: Any


@dataclass
class PrivateService:
    """Server B: anything on it would be an internal fetch. Serves a storable article."""

    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> Answer:
        if path == "/robots.txt":
            return _text("User-agent: *\nAllow: /\n")
        return 200, article(90 + len(path) % 7), {}


@contextmanager
def _serve(site: Any) -> Iterator[str]:
    server = _Server(_Handler)
    server.site = site
    with serving(server):
        yield server.base


@contextmanager
def serve_trap_sites() -> Iterator[tuple[str, Outlet, str, PrivateService]]:
    """Serve the outlet and the private service; yield (A's URL, outlet, B's URL, service)."""
    service = PrivateService()
    with _serve(service) as b:
        outlet = Outlet(b)
        with _serve(outlet) as a:
            outlet.a = a
            yield a, outlet, b, service
