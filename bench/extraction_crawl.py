"""Extraction as a crawl stores it: the shared eval pages fetched by the real spiders.

Every page of ../shared/eval/pages (metadata half) and ../shared/eval/extraction (body half)
is served by a loopback HTTP proxy under its own URL (https rewritten to http), each
publisher host with a news sitemap (pages/) or an RSS feed (extraction/) that lists its pages
with neither dates nor titles, so nothing but the page itself can say them. The spiders crawl
them into a throwaway SQLite store, exactly as `briefing crawl` does, and the stored articles
are scored: share of expected articles stored, titles, dates to the day, body F1, languages;
plain trafilatura on the same pages beside them.

Run from the repository root: `.venv/bin/python bench/extraction_crawl.py [--eval DIR] [-v]`.
Prints a message and exits 0 when the data is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from extraction import date_hits, decode, fundus_body, load_scorer, same_text  # noqa: E402

from briefing.config import parse_config  # noqa: E402
from briefing.stages.crawl import crawl_and_record  # noqa: E402
from briefing.store.engine import Store  # noqa: E402
from briefing.store.models import Article, ArticleUrl  # noqa: E402
from scraper.urls import canonical_url  # noqa: E402

SITEMAP = "/briefing-eval-sitemap.xml"
FEED = "/briefing-eval-feed.xml"


def http_url(url: str) -> str:
    """Return the page's canonical URL over plain http: the proxy cannot see inside TLS."""
    return canonical_url(re.sub(r"^https://", "http://", url.strip()))


class Site:
    """The pages, sitemaps and feeds the proxy serves, by canonical http URL."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.listed: dict[tuple[str, str], list[str]] = defaultdict(list)  # (host, kind) -> URLs

    def add(self, url: str, body: bytes, kind: str) -> str:
        """Serve body at url (made unique when two pages share it); return the URL."""
        url = http_url(url)
        if url in self.bodies:
            url = http_url(f"{url}{'&' if '?' in url else '?'}briefing-eval={len(self.bodies)}")
        self.bodies[url] = body
        self.listed[(urlsplit(url).netloc, kind)].append(url)
        return url

    def seeds(self, kind: str) -> list[str]:
        path = SITEMAP if kind == "sitemap" else FEED
        return sorted(f"http://{host}{path}" for host, k in self.listed if k == kind)

    def lists(self) -> dict[str, bytes]:
        """Return every host's sitemap and feed, listing its pages without dates or titles."""
        served = {}
        for (host, kind), urls in self.listed.items():
            if kind == "sitemap":
                entries = "".join(f"<url><loc>{escape(u)}</loc></url>" for u in urls)
                served[f"http://{host}{SITEMAP}"] = (
                    '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
                    f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
                ).encode()
            else:
                items = "".join(f"<item><link>{escape(u)}</link></item>" for u in urls)
                served[f"http://{host}{FEED}"] = (
                    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                    f"<title>{host}</title><link>http://{host}/</link><description>eval"
                    f"</description>{items}</channel></rss>"
                ).encode()
        return served


def serve(site: Site) -> ThreadingHTTPServer:
    """Start the loopback proxy that answers for every host in the site."""
    served = {**site.bodies, **site.lists()}

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = canonical_url(self.path)
            if urlsplit(url).path == "/robots.txt":
                body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
            elif url in served:
                body = served[url]
                kind = "application/xml" if url.endswith(".xml") else "text/html"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def load_site(data: Path) -> tuple[Site, list[dict], dict[str, dict]]:
    """Read both halves; return the site, the metadata rows and the body truths by URL."""
    site = Site()
    rows = [json.loads(line) for line in (data / "pages/manifest.jsonl").read_text().splitlines()]
    for row in rows:
        raw = gzip.decompress((data / "pages" / row["file"]).read_bytes())
        row["served"] = site.add(row["url"], raw, "sitemap")
        row["html"] = decode(raw)
        row["expected_json"] = json.loads((data / "pages" / row["expected"]).read_text())
    truth = json.loads((data / "extraction/ground-truth.json").read_text())
    bodies = {}
    for page_id, want in sorted(truth.items()):
        raw = gzip.decompress((data / "extraction/html" / f"{page_id}.html.gz").read_bytes())
        url = site.add(want["url"], raw, "feed")
        bodies[url] = {"id": page_id, "truth": want, "html": decode(raw)}
    return site, rows, bodies


def crawl(site: Site, proxy_port: int, tmp: Path) -> tuple[dict[str, Article], str]:
    """Crawl the site through the real spiders; return stored articles by served URL and log."""
    os.environ["http_proxy"] = f"http://127.0.0.1:{proxy_port}"
    os.environ.pop("no_proxy", None)
    os.environ.pop("NO_PROXY", None)
    config = parse_config(
        {
            "store": {"url": f"sqlite:///{tmp}/eval.db"},
            "crawl": {"autothrottle": False, "concurrency": 16, "concurrency_per_domain": 4},
            "sources": [
                {"name": "papers", "sitemaps": site.seeds("sitemap")},
                {"name": "wire", "feeds": site.seeds("feed")},
            ],
        },
        base_dir=tmp,
    )
    log_file = tmp / "crawl.log"
    summary = crawl_and_record(config, settings={"LOG_FILE": str(log_file)})
    print(f"crawl: {summary.total} in {summary.seconds:.0f} s")
    store = Store(config.store.url)
    found: dict[str, Article] = {}
    with store.session() as session:
        articles = {a.id: a for a in session.query(Article)}
        for alias in session.query(ArticleUrl):
            found[alias.url] = articles[alias.article_id]
        session.expunge_all()
    store.close()
    return found, log_file.read_text(errors="replace") if log_file.exists() else ""


def owned(found: dict[str, Article], urls: list[str]) -> tuple[dict[str, Article], list[str]]:
    """Split the pages found in the store into those stored as their own article and those
    recognised as another page's article (same canonical URL, or a near-identical text)."""
    first: dict[str, str] = {}
    for url in urls:
        if url in found:
            first.setdefault(found[url].id, url)
    mine = {url: found[url] for url in urls if url in found and first[found[url].id] == url}
    return mine, [url for url in urls if url in found and url not in mine]


def why_missed(log: str, url: str) -> str:
    lines = [line for line in log.splitlines() if url in line]
    return lines[-1].split("] ", 1)[-1][:160] if lines else "no log line"


def score_pages(rows: list[dict], found: dict[str, Article], log: str, verbose: bool) -> None:
    """Print stored share, titles, dates and languages for the metadata half."""
    import trafilatura

    stored, merged = owned(found, [r["served"] for r in rows])
    counts: Counter[str] = Counter()
    languages: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        article = stored.get(row["served"])
        meta = trafilatura.extract_metadata(row["html"], default_url=row["url"])
        counts["plain_title"] += same_text(meta.title if meta else None, row["title"])
        plain_date = _plain_date(meta.date if meta else None)
        counts["plain_date"] += date_hits(plain_date, row["publishing_date"])[0]
        if article is None:
            if row["served"] not in merged:
                print(f"    missed  {row['file']}: {why_missed(log, row['served'])}")
            continue
        counts["stored"] += 1
        counts["title"] += same_text(article.title, row["title"])
        utc_day, local_day = date_hits(article.published_at, row["publishing_date"])
        counts["date_utc"] += utc_day
        counts["date_local"] += local_day
        languages[row["country"]][article.language or "?"] += 1
        if verbose and not same_text(article.title, row["title"]):
            print(f"    title   {row['file']}: {article.title!r} != {row['title']!r}")
        if verbose and not utc_day:
            print(f"    date    {row['file']}: {article.published_at} != {row['publishing_date']}")
    n, kept = len(rows), max(1, counts["stored"])
    print(
        f"  expected articles {n}: stored {counts['stored']}, recognised as another page's"
        f" article {len(merged)}: {(counts['stored'] + len(merged)) / n:.1%} kept"
    )
    print(f"  titles right, of stored        {counts['title'] / kept:.3f}")
    print(f"  dates, UTC day, of stored      {counts['date_utc'] / kept:.3f}")
    print(f"  dates, publisher's day         {counts['date_local'] / kept:.3f}")
    print(f"  plain trafilatura, all pages:  titles {counts['plain_title'] / n:.3f}", end="")
    print(f"  dates (UTC day) {counts['plain_date'] / n:.3f}")
    fundus = {r["file"]: {"articleBody": fundus_body(r["expected_json"])} for r in rows}
    texts = {
        r["file"]: {"articleBody": stored[r["served"]].text} for r in rows if r["served"] in stored
    }
    s = load_scorer().score(fundus, texts, sorted(fundus))
    print(f"  body vs Fundus' parse, F1 {s['f1']:.3f} (Fundus keeps teasers: a cross-check)")
    summary = ", ".join(
        f"{c}:{'/'.join(f'{lang}{k}' for lang, k in langs.most_common())}"
        for c, langs in sorted(languages.items())
    )
    print(f"  languages by country  {summary}")


def _plain_date(value: str | None):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def score_bodies(bodies: dict[str, dict], found: dict[str, Article], log: str) -> None:
    """Print body F1 of stored texts on the extraction half (a page not stored scores 0)."""
    import trafilatura

    stored, merged = owned(found, list(bodies))
    scorer = load_scorer()
    truth = {b["id"]: b["truth"] for b in bodies.values()}
    ours, plain = {}, {}
    for url, page in bodies.items():
        article = stored.get(url)
        if article is None:
            print(
                f"    missed  {page['id'][:16]} {page['truth']['url'][:60]}: {why_missed(log, url)}"
            )
        ours[page["id"]] = {"articleBody": article.text if article else ""}
        text = trafilatura.extract(page["html"], url=page["truth"]["url"])
        plain[page["id"]] = {"articleBody": text or ""}
    print(
        f"  expected articles {len(bodies)}: stored {len(stored)}, recognised as another"
        f" page's article {len(merged)}"
    )
    for name, predictions in (("plain trafilatura", plain), ("stored by the crawl", ours)):
        s = scorer.score(truth, predictions, sorted(truth))
        print(
            f"  body {name:20s} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}"
            f"  exact {s['accuracy']:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=EVAL, help="folder with pages/, extraction/")
    parser.add_argument("-v", "--verbose", action="store_true", help="list title and date misses")
    args = parser.parse_args()
    if not (args.eval / "pages").is_dir() or not (args.eval / "extraction").is_dir():
        print(f"evaluation data not found at {args.eval}; nothing to measure")
        return
    site, rows, bodies = load_site(args.eval)
    server = serve(site)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            found, log = crawl(site, server.server_port, Path(tmp))
    finally:
        server.shutdown()
    print("pages/ (metadata half), crawled from news sitemaps")
    score_pages(rows, found, log, args.verbose)
    print("extraction/ (body half), crawled from RSS feeds")
    score_bodies(bodies, found, log)


if __name__ == "__main__":
    main()
