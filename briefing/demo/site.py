"""Serve the bundled demo news site (seeds/demo) on loopback for `briefing demo` and tests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from briefing.demo import feeds, pages
from briefing.demo.data import DEMO_ROOT, DemoArticle, Outlet, load_articles, load_outlets
from briefing.demo.feeds import FAULT_PAGES, MALFORMED_FEED, Page, Route

__all__ = ["DemoArticle", "DemoSite", "Outlet", "demo_sources", "serve_demo_site"]
logger = logging.getLogger(__name__)

XML = "application/xml; charset=utf-8"
FEED_TYPES = {
    "rss2": (feeds.rss2, "application/rss+xml; charset=utf-8"),
    "atom": (feeds.atom, "application/atom+xml; charset=utf-8"),
    "rdf": (feeds.rdf, "application/rdf+xml; charset=utf-8"),
}


def _html(status: int, text: str) -> Page:
    return Page(status, text.encode("utf-8"))


def _static(text: str) -> Route:
    return lambda base: _html(200, text)


class DemoSite:
    """The demo news site: loads seeds/demo and renders every page on request."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        today: date | None = None,
        faults: bool = False,
        fault_delay: float = 3.0,
    ) -> None:
        self.root = root or DEMO_ROOT
        self.today = today or date.today()
        self.faults = faults
        self.fault_delay = fault_delay
        self.outlets = load_outlets(self.root)
        everything = load_articles(self.root, self.outlets, self.today)
        self.articles = [a for a in everything if not a.private]
        self.private_articles = [a for a in everything if a.private]
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        day = (self.today - timedelta(days=2)).strftime("%Y/%m/%d")
        self.broken_pages: dict[str, str] = {
            f"/continental/articles/{day}/removed-story.html": "http_404",
            f"/courier/{day}/retracted-story.html": "http_404",
            "/eastwind/news/markets-live-blog-20460": "http_500",
            "/continental/about": "not_article",
            "/meridian/about": "not_article",
            "/pacific-ledger/go/moved-story/": "redirect_loop",
            **{a.path: "robots_txt" for a in self.private_articles},
        }
        self.fault_pages = dict(FAULT_PAGES) if faults else {}
        self._routes: dict[str, Route] = {}
        self._add_site_routes()
        for outlet in self.outlets.values():
            self._add_outlet_routes(outlet)
        if faults:
            self._add_fault_routes()

    @property
    def expected_skips(self) -> dict[str, str]:
        """Every linked page a crawler must not store, with the reason: broken plus faults."""
        return {**self.broken_pages, **self.fault_pages}

    def stories(self) -> dict[str, list[DemoArticle]]:
        """Group the ground-truth articles by story key."""
        grouped: dict[str, list[DemoArticle]] = {}
        for article in self.articles:
            grouped.setdefault(article.story, []).append(article)
        return grouped

    def respond(self, method: str, path: str, base: str) -> Page:
        """Render the page at `path` (query ignored) and log the request."""
        route = self._routes.get(path.split("?", 1)[0].split("#", 1)[0])
        try:
            page = route(base) if route else _html(404, pages.error_page(404, "Not Found"))
        except Exception:  # a bug in a page must show as a 500, not as a dropped connection
            logger.exception("demo site failed to render %s", path)
            page = _html(500, pages.error_page(500, "Internal Server Error"))
        with self._lock:
            self.requests.append((method, path, page.status))
        return page

    def requested(self, path: str) -> bool:
        """Tell whether any request for `path` (ignoring its query) was served."""
        with self._lock:
            return any(p.split("?", 1)[0] == path for _, p, _ in self.requests)

    def _extra_links(self, outlet: str) -> list[str]:
        links = {
            "northgate": [a.path for a in self.private_articles],
            "pacific-ledger": ["/pacific-ledger/go/moved-story/"],
            "eastwind": ["/eastwind/news/markets-live-blog-20460"],
            "meridian": ["/meridian/about"],
            "courier": [p for p in self.broken_pages if p.startswith("/courier/")],
            "continental": [
                *(p for p in self.broken_pages if p.startswith("/continental/")),
                *(a.path for a in self.private_articles),
            ],
        }.get(outlet, [])
        if outlet in ("northgate", "continental"):  # faults are linked from a feed and a section
            links += [p for p in self.fault_pages if p != MALFORMED_FEED]
        return links

    def _items(self, outlet: Outlet, base: str) -> list[feeds.FeedItem]:
        own = [a for a in self.articles if a.outlet == outlet.key]
        items: list[feeds.FeedItem] = [
            (base + a.path, a.title, a.paragraphs[0], a.published_at, a.authors, a.section)
            for a in own
        ]
        latest = own[0].published_at if own else datetime.now(UTC)
        for path in self._extra_links(outlet.key):
            items.append((base + path, f"More from {outlet.name}", "", latest, (), "news"))
        return items

    def _add_site_routes(self) -> None:
        mapped = [o for o in self.outlets.values() if o.news_sitemap]

        def index(base: str) -> Page:
            entries = [
                (base + o.news_sitemap, self._latest(o.key)) for o in mapped if o.news_sitemap
            ]
            return Page(body=feeds.sitemap_index(entries).encode(), content_type=XML)

        def robots(base: str) -> Page:
            urls = [base + "/sitemap.xml"] + [base + str(o.news_sitemap) for o in mapped]
            return Page(
                body=feeds.robots_txt(urls).encode(), content_type="text/plain; charset=utf-8"
            )

        self._routes["/sitemap.xml"] = index
        self._routes["/robots.txt"] = robots
        self._routes["/"] = lambda base: _html(200, pages.home_page(list(self.outlets.values())))
        loop = "/pacific-ledger/go/moved-story"
        self._routes[loop + "/"] = feeds.redirect(loop + "-again/")
        self._routes[loop + "-again/"] = feeds.redirect(loop + "/")
        self._routes["/eastwind/news/markets-live-blog-20460"] = lambda base: _html(
            500, pages.error_page(500, "Internal Server Error")
        )

    def _latest(self, outlet: str) -> datetime:
        return max(a.published_at for a in self.articles if a.outlet == outlet)

    def _add_outlet_routes(self, outlet: Outlet) -> None:
        own = [a for a in self.articles + self.private_articles if a.outlet == outlet.key]
        public = [a for a in own if not a.private]
        sections = list(dict.fromkeys(a.section for a in public))
        for article in own:
            self._routes[article.path] = self._article_route(article, outlet, sections)
        about = pages.about_page(outlet, sections)
        home = pages.section_page(outlet, sections, "Latest", self._links(public, ()), None)
        self._routes[f"/{outlet.key}/about"] = _static(about)
        self._routes[f"/{outlet.key}/"] = _static(home)
        for section in sections:
            self._add_section_routes(outlet, sections, section)
        if outlet.feed:
            render, content_type = FEED_TYPES[outlet.discovery]
            self._routes[outlet.feed] = lambda base: Page(
                body=render(outlet.name, base + f"/{outlet.key}/", base + str(outlet.feed),
                            self._items(outlet, base)).encode(),
                content_type=content_type,
            )  # fmt: skip
        if outlet.news_sitemap:
            self._routes[outlet.news_sitemap] = lambda base: Page(
                body=feeds.news_sitemap(outlet.name, self._items(outlet, base)).encode(),
                content_type=XML,
            )

    def _add_section_routes(self, outlet: Outlet, sections: list[str], section: str) -> None:
        listed = [a for a in self.articles if a.outlet == outlet.key and a.section == section]
        extra = self._extra_links(outlet.key) if (section,) == outlet.start_sections[:1] else []
        size = outlet.page_size
        chunks = [listed[i : i + size] for i in range(0, len(listed), size)]
        for number, chunk in enumerate(chunks, start=1):
            following = outlet.section_url(section, number + 1) if number < len(chunks) else None
            links = self._links(chunk, extra if number == 1 else ())
            html = pages.section_page(outlet, sections, section, links, following)
            self._routes[outlet.section_url(section, number)] = _static(html)

    def _article_route(self, article: DemoArticle, outlet: Outlet, sections: list[str]) -> Route:
        others = [a for a in self.articles if a.outlet == outlet.key and a is not article][:4]
        return lambda base: _html(
            200, pages.article_page(article, base + article.path, outlet, sections, others)
        )

    def _links(
        self, articles: Iterable[DemoArticle], extra: Iterable[str]
    ) -> list[tuple[str, str]]:
        return [(a.path, a.title) for a in articles] + [(p, "More stories") for p in extra]

    def _add_fault_routes(self) -> None:
        originals = [a for a in self.articles if a.outlet == "northgate"][:2]

        def recoverable(base: str) -> list[feeds.FeedItem]:
            return [(base + a.path, a.title, a.paragraphs[0], a.published_at, a.authors, "")
                    for a in originals]  # fmt: skip

        self._routes.update(feeds.fault_routes(self.fault_delay, MALFORMED_FEED, recoverable))


class _DemoServer(ThreadingHTTPServer):
    daemon_threads = True  # a request stuck in /faults/timeout must not hold up shutdown
    # socketserver's default backlog of 5 drops connections when a crawler opens dozens at
    # once; the client then waits a full SYN retry (1 s) and reports a timeout.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], site: DemoSite) -> None:
        super().__init__(address, _Handler)
        self.site = site


class _Handler(BaseHTTPRequestHandler):
    server: _DemoServer
    server_version = "DemoNews/1.0"

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        site = self.server.site
        page = site.respond(self.command, self.path, f"http://{host}")
        if page.delay and site.stopping.wait(page.delay):
            return  # the server is shutting down: drop the connection unanswered
        try:
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            for name, value in page.headers.items():
                self.send_header(name, value)
            if isinstance(page.body, bytes):
                self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            if send_body:
                chunks = [page.body] if isinstance(page.body, bytes) else page.body
                for chunk in chunks:
                    self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("client went away during %s", self.path)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


@contextmanager
def serve_demo_site(
    root: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    today: date | None = None,
    faults: bool = False,
    fault_delay: float = 3.0,
) -> Iterator[tuple[str, DemoSite]]:
    """Serve the demo site in a daemon thread; yield its base URL and the site."""
    site = DemoSite(root, today=today, faults=faults, fault_delay=fault_delay)
    server = _DemoServer((host, port), site)
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    bound_host = server.server_address[0]
    assert isinstance(bound_host, str)  # an AF_INET address is always text
    base_url = f"http://{bound_host}:{server.server_port}"
    logger.info("demo site serving at %s", base_url)
    try:
        yield base_url, site
    finally:
        site.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def demo_sources(
    base_url: str, *, faults: bool = False, root: Path | None = None
) -> list[dict[str, Any]]:
    """Return the [[sources]] entries that crawl every outlet of the demo site at `base_url`."""
    base = base_url.rstrip("/")
    sources = []
    for outlet in load_outlets(root or DEMO_ROOT).values():
        entry: dict[str, Any] = {"name": outlet.key, "feeds": [], "sitemaps": [], "start_urls": []}
        entry |= {"allow": list(outlet.allow), "language": "en", "title": outlet.name}
        if outlet.discovery in FEED_TYPES and outlet.feed:
            entry["feeds"].append(base + outlet.feed)
        elif outlet.discovery == "news-sitemap":
            entry["sitemaps"].append(base + "/sitemap.xml")  # the index; allow keeps own URLs
        else:
            entry["start_urls"] = [base + outlet.section_url(s) for s in outlet.start_sections]
        sources.append(entry)
    if faults:  # fault pages hang off northgate's feed and continental's world section
        by_name = {entry["name"]: entry for entry in sources}
        by_name["northgate"]["feeds"].append(base + MALFORMED_FEED)
        by_name["continental"]["allow"].append(r"/faults/")
    return sources
