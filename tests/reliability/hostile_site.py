"""A loopback site of hostile pages: two outlets reporting one story, each page booby-trapped.

Every remote resource the pages name (stylesheets, images, fonts, CSS url()) points back at
this server's /evil/ paths, so a test can tell whether anything, ever, fetched one. The
feeds also link a local file (file://localhost/…), a data: URL and a redirect to a file.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from support.http import LoopbackServer, serving

# Four reports of one story, worded differently (identical text would be one wire copy).
REPORTS = {
    ("northgate", 1): (
        "Negotiators from South Korea and Japan resumed talks on the Busan port agreement on "
        "Monday, officials in Seoul said. The two governments want to settle fishing quotas "
        "and harbour fees before the summer season begins in June."
    ),
    ("northgate", 2): (
        "Foreign Minister Park Jin called the Busan port talks constructive and said the "
        "delegations would meet again in Tokyo next week. Shipping companies have asked both "
        "governments to cut the fees charged to container ships at Busan."
    ),
    ("eastwind", 1): (
        "Japanese officials said the second round of talks over Busan harbour fees ended "
        "without a deal. The port handles a fifth of the trade between Japan and South Korea, "
        "and its dockworkers' union has threatened a strike if wages are cut."
    ),
    ("eastwind", 2): (
        "Fishermen in Busan gathered outside the port authority on Monday as the talks with "
        "Japan continued. Their association wants quotas fixed for five years, a spokesman "
        "told reporters, while the Seoul government prefers a yearly review of the catch."
    ),
}


def hostile_page(base: str, outlet: str, number: int, secret_url: str) -> str:
    """Return an article page carrying every kind of active or fetching content."""
    evil = f"{base}/evil/{outlet}-{number}"
    title = f"Busan port talks resume &lt;script&gt;alert({number})&lt;/script&gt;"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<meta property="og:type" content="article">
<meta property="og:title" content="Busan port talks&#13;&#10;Bcc: victim@example.org {number}">
<meta property="article:published_time" content="2026-11-26T1{number}:00:00Z">
<link rel="canonical" href="javascript:alert('canonical')">
<link rel="stylesheet" href="{evil}.css">
<style>@import url("{evil}-import.css"); body {{ background: url("{evil}-bg.png") }}
@font-face {{ font-family: x; src: url("{secret_url}") }}</style>
<script>fetch("{evil}-script")</script>
</head><body onload="alert('body')">
<article><h1 onclick="alert('h1')">{title}</h1>
<p class="byline">By <a href="javascript:alert('byline')">Kim &lt;b&gt;Min-ji&lt;/b&gt;</a></p>
<p style="background: url('{evil}-style.png')">{REPORTS[outlet, number]}</p>
<p>Readers saw &lt;script&gt;alert(document.cookie)&lt;/script&gt; and
&lt;img src=x onerror=alert(1)&gt; as plain text, and a link to javascript:alert(2).</p>
<img src="{evil}-pixel.gif" onerror="alert('img')"><img src="{secret_url}">
<iframe src="{evil}-frame.html"></iframe>
<object data="{evil}-object.swf"></object>
<svg><image href="{evil}-svg.png"/><script>alert('svg')</script></svg>
<p>{REPORTS[outlet, number]} Talks resume tomorrow, the ministry said.</p>
</article></body></html>"""


def feed(base: str, outlet: str, secret_url: str) -> str:
    items = [f"{base}/{outlet}/1.html", f"{base}/{outlet}/2.html"]
    items += [secret_url, "data:text/html,<script>alert(1)</script>", f"{base}/to-file"]
    entries = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in items)
    channel = f"<channel><title>x</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


@dataclass
class HostileSite:
    secret: Path
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def secret_url(self) -> str:
        return f"file://localhost{self.secret}"

    def evil_requests(self) -> list[str]:
        with self.lock:
            return sorted(path for path in self.requests if path.startswith("/evil/"))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site, base = self.server.site, f"http://{self.headers['Host']}"
        with site.lock:
            site.requests[self.path] += 1
        parts = self.path.strip("/").split("/")
        if self.path == "/robots.txt":
            self._send(200, "User-agent: *\nAllow: /\n", "text/plain")
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", site.secret_url)
            self.end_headers()
        elif len(parts) == 2 and parts[1] == "feed.xml":
            self._send(200, feed(base, parts[0], site.secret_url), "application/rss+xml")
        elif len(parts) == 2 and parts[1] in ("1.html", "2.html") and parts[0] != "evil":
            page = hostile_page(base, parts[0], int(parts[1][0]), site.secret_url)
            self._send(200, page, "text/html; charset=utf-8")
        else:
            self._send(404, "no", "text/plain")

    def _send(self, status: int, text: str, kind: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(LoopbackServer):
    site: HostileSite


@contextmanager
def serve_hostile_site(secret: Path) -> Iterator[tuple[str, HostileSite]]:
    site = HostileSite(secret)
    server = _Server(_Handler)
    server.site = site
    with serving(server):
        yield server.base, site
