"""The demo news site: its data is the ground truth of the demo, its server the crawl tests' web."""

from __future__ import annotations

import hashlib
import html
import http.client
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import feedparser
import pytest

from briefing.config import SourceConfig
from briefing.demo.site import DemoSite, demo_sources, serve_demo_site

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_1c9110ec35ad72f2.txt"
SEED_SHA256 = "9847647a27533a0003958f46275f6b4956cb0356a4d247d29a5210023c7d7049"
TODAY = date(2023, 9, 17)
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"
QUOTE = re.compile(r"[\"“][^\"”]{10,}[\"”]")
SPEAKER = re.compile(r"\b(said|says|told|according to|wrote|asked|added)\b")


def fetch(
    base: str, path: str, method: str = "GET", timeout: float = 10
) -> tuple[int, dict, bytes]:
    """Request one path without following redirects; return status, headers, body."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def links_in(page: bytes) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'href="([^"]+)"', page.decode("utf-8"))]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, DemoSite]]:
    with serve_demo_site(today=TODAY) as served:
        yield served


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[str, DemoSite]]:
    with serve_demo_site(today=TODAY, faults=True, fault_delay=1.0) as served:
        yield served


def test_ground_truth_has_enough_articles_stories_and_days() -> None:
    site = DemoSite(today=TODAY)
    stories = site.stories()
    multi = [key for key, articles in stories.items() if len({a.outlet for a in articles}) >= 2]
    days = {(a.local_time.date() - TODAY).days for a in site.articles}
    assert len(site.articles) >= 44
    assert len(stories) >= 7 and len(multi) >= 7
    assert days == {-3, -2, -1, 0}
    assert len(Counter(a.outlet for a in site.articles)) >= 6
    assert {"quake-chile", "quake-italy", "eu-china-summit", "asean-summit"} <= set(multi)


def test_anchor_story_develops_across_days_and_outlets() -> None:
    anchor = DemoSite(today=TODAY).stories()["dprk-russia-arms"]
    assert 10 <= len(anchor) <= 12
    assert len({a.outlet for a in anchor}) >= 5
    assert {(a.local_time.date() - TODAY).days for a in anchor} == {-3, -2, -1, 0}
    assert {a.story_label for a in anchor} == {"DPRK–Russia arms talks"}


def test_articles_read_like_news() -> None:
    site = DemoSite(today=TODAY)
    for article in site.articles:
        words = len(" ".join(article.paragraphs).split())
        assert 150 <= words <= 400, (article.path, words)
        assert article.title and article.published_at.utcoffset() == timedelta(0)
    quoted = [a for a in site.articles if any(QUOTE.search(p) and SPEAKER.search(p)
                                              for p in a.paragraphs)]  # fmt: skip
    assert len(quoted) >= 0.9 * len(site.articles)
    authors = Counter(min(len(a.authors), 2) for a in site.articles)
    assert authors[0] and authors[1] and authors[2]  # none, one and several authors all occur


def test_seed_is_copied_unchanged_and_is_a_yonhap_article() -> None:
    assert hashlib.sha256(SEED.read_bytes()).hexdigest() == SEED_SHA256
    site = DemoSite(today=TODAY)
    (seed,) = [a for a in site.articles if a.path.endswith("000351315")]
    assert seed.outlet == "yonhap" and seed.path == "/yonhap/view/AEN20230915000351315"
    assert "\n".join(seed.paragraphs) == SEED.read_text(encoding="utf-8").rstrip("\n")
    assert seed.story == "dprk-russia-arms" and (seed.local_time.date() - TODAY).days == -2


def test_wire_copy_is_a_near_verbatim_republication() -> None:
    site = DemoSite(today=TODAY)
    (copy,) = [a for a in site.articles if a.copy_of]
    (original,) = [a for a in site.articles if a.path == copy.copy_of]
    assert copy.outlet != original.outlet and copy.path != original.path
    assert copy.paragraphs[: len(original.paragraphs)] == original.paragraphs
    assert copy.paragraphs != original.paragraphs and copy.story == original.story


def test_every_article_page_serves_its_title_as_utf8_html(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    for article in site.articles:
        status, headers, body = fetch(base, article.path)
        assert status == 200, article.path
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        page = body.decode("utf-8")
        assert f">{html.escape(article.title)}</h1>" in page
        assert html.escape(article.paragraphs[-1]) in page


def test_outlets_use_their_own_layouts(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    markers = {
        "northgate": ['"@graph"', '"NewsArticle"'],
        "pacific-ledger": ['property="article:published_time"', 'property="og:title"'],
        "eastwind": ["<time datetime=", 'class="author"'],
        "meridian": ['itemprop="datePublished"', 'itemtype="https://schema.org/NewsArticle"'],
        "courier": ['<meta name="date"'],
        "continental": ['"@type": "NewsArticle"'],
        "yonhap": ['class="update-time"', 'class="story-news article"'],
    }
    for outlet, expected in markers.items():
        article = next(a for a in site.articles if a.outlet == outlet and a.authors)
        page = fetch(base, article.path)[2].decode("utf-8")
        assert all(marker in page for marker in expected), outlet
        assert "cookie-banner" in page and 'class="related"' in page
    eastwind = next(a for a in site.articles if a.outlet == "eastwind")
    page = fetch(base, eastwind.path)[2].decode("utf-8")
    assert "ld+json" not in page and "og:" not in page and 'name="date"' not in page


def test_demo_sources_validate_and_cover_every_outlet(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    sources = [SourceConfig(**entry) for entry in demo_sources(base)]
    assert {s.name for s in sources} == set(site.outlets)
    kinds = Counter("feeds" if s.feeds else "sitemaps" if s.sitemaps else "start" for s in sources)
    assert kinds == {"feeds": 4, "sitemaps": 1, "start": 2}
    assert {s.language for s in sources} == {"en"}


def test_feeds_parse_and_list_every_article(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    versions = set()
    for source in demo_sources(base):
        for feed_url in source["feeds"]:
            status, _, body = fetch(base, urlsplit(feed_url).path)
            parsed = feedparser.parse(body)
            assert status == 200 and not parsed.bozo, feed_url
            versions.add(parsed.version)
            links = {entry.link for entry in parsed.entries}
            own = {base + a.path for a in site.articles if a.outlet == source["name"]}
            assert own <= links
            assert all(entry.get("published_parsed") or entry.get("updated_parsed")
                       for entry in parsed.entries)  # fmt: skip
    assert versions == {"rss20", "atom10", "rss10"}


def test_news_sitemaps_are_valid_and_indexed(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    index = ElementTree.fromstring(fetch(base, "/sitemap.xml")[2])
    assert index.tag == f"{SITEMAP_NS}sitemapindex"
    children = [loc.text or "" for loc in index.iter(f"{SITEMAP_NS}loc")]
    assert base + "/courier/news-sitemap.xml" in children
    (courier,) = [s for s in demo_sources(base) if s["name"] == "courier"]
    allow = [re.compile(pattern) for pattern in courier["allow"]]
    found = set()
    for child in children:
        urlset = ElementTree.fromstring(fetch(base, urlsplit(child).path)[2])
        for url in urlset.iter(f"{SITEMAP_NS}url"):
            assert url.find(f"{NEWS_NS}news/{NEWS_NS}publication_date") is not None
            loc = url.findtext(f"{SITEMAP_NS}loc") or ""
            if any(pattern.search(loc) for pattern in allow):
                found.add(urlsplit(loc).path)
    courier_paths = {a.path for a in site.articles if a.outlet == "courier"}
    assert courier_paths < found  # plus the retracted (404) story
    assert all(path.startswith("/courier/") for path in found)


def test_robots_txt_disallows_private_which_is_linked(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    robots = fetch(base, "/robots.txt")[2].decode()
    assert "Disallow: /private/" in robots
    assert f"Sitemap: {base}/sitemap.xml" in robots
    (private,) = site.private_articles
    assert private.path.startswith("/private/") and private not in site.articles
    feed = fetch(base, "/northgate/rss.xml")[2].decode()
    assert base + private.path in feed
    assert private.path in links_in(fetch(base, "/continental/world")[2])


def test_section_spiders_can_reach_every_article(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    seen: set[str] = set()
    for source in demo_sources(base):
        if not source["start_urls"]:
            continue
        allow = [re.compile(pattern) for pattern in source["allow"]]
        queue, found = [urlsplit(u).path for u in source["start_urls"]], set()
        while queue:
            path = queue.pop()
            seen.add(path)
            page = fetch(base, path)[2]
            for link in links_in(page):
                if any(p.search(urljoin(base, link)) for p in allow):
                    found.add(link)
            nexts = re.findall(r'<a class="next" rel="next" href="([^"]+)"', page.decode())
            queue += [n for n in nexts if n not in seen]
        own = {a.path for a in site.articles if a.outlet == source["name"]}
        assert own <= found, source["name"]
    assert "/continental/world/page/2" in seen  # found only through the rel=next link


def test_default_broken_pages_fail_as_expected(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    expected = {"http_404": 404, "http_500": 500, "not_article": 200, "robots_txt": 200}
    for path, reason in site.broken_pages.items():
        status, headers, _ = fetch(base, path)
        if reason == "redirect_loop":
            target = urlsplit(headers["Location"]).path
            assert status == 302
            assert urlsplit(fetch(base, target)[1]["Location"]).path == path
        else:
            assert status == expected[reason], path
    assert site.fault_pages == {}
    assert fetch(base, "/faults/timeout")[0] == 404


def test_fault_pages_are_linked_from_a_feed_and_a_section(faulty: tuple[str, DemoSite]) -> None:
    base, site = faulty
    feed = fetch(base, "/northgate/rss.xml")[2].decode()
    section = links_in(fetch(base, "/continental/world")[2])
    for path in site.fault_pages:
        if path.endswith(".xml"):
            continue
        assert base + path in feed and path in section, path
    sources = demo_sources(base, faults=True)
    assert any(base + "/faults/malformed-feed.xml" in s["feeds"] for s in sources)


def test_fault_pages_misbehave_as_documented(faulty: tuple[str, DemoSite]) -> None:
    base, site = faulty
    assert set(site.expected_skips) >= set(site.fault_pages) | set(site.broken_pages)
    status, headers, body = fetch(base, "/faults/binary")
    assert headers["Content-Type"].startswith("text/html") and body.startswith(b"\x89PNG\r\n")
    status, headers, body = fetch(base, "/faults/binary.bin")
    assert headers["Content-Type"] == "application/octet-stream" and body[:4] == b"\x89PNG"
    status, headers, body = fetch(base, "/faults/empty")
    assert (status, body, headers["Content-Length"]) == (200, b"", "0")
    status, headers, body = fetch(base, "/faults/huge")
    assert "Content-Length" not in headers and len(body) == 12 * 1024 * 1024
    assert body.rstrip().endswith(b"</html>")
    status, headers, body = fetch(base, "/faults/bad-encoding")
    assert "utf-8" in headers["Content-Type"]
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    status, headers, body = fetch(base, "/faults/wrong-encoding")
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert "북한" in body.decode("utf-8") and "북한" not in body.decode("iso-8859-1")
    assert [fetch(base, "/faults/server-error")[0] for _ in range(3)] == [500, 500, 500]
    assert fetch(base, "/faults/not-found")[0] == 404
    assert fetch(base, "/faults/loop-a")[1]["Location"] == base + "/faults/loop-b"
    assert fetch(base, "/faults/loop-b")[1]["Location"] == base + "/faults/loop-a"


def test_malformed_feed_is_broken_but_recoverable(faulty: tuple[str, DemoSite]) -> None:
    base, site = faulty
    body = fetch(base, "/faults/malformed-feed.xml")[2]
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(body)
    parsed = feedparser.parse(body)
    articles = {base + a.path for a in site.articles}
    assert parsed.bozo and len([e for e in parsed.entries if e.get("link") in articles]) >= 2


def test_timeout_page_answers_only_after_the_delay(faulty: tuple[str, DemoSite]) -> None:
    base, _ = faulty
    with pytest.raises((TimeoutError, socket.timeout)):
        fetch(base, "/faults/timeout", timeout=0.3)
    started = time.monotonic()
    status, _, body = fetch(base, "/faults/timeout", timeout=5)
    assert status == 200 and b"Slow page" in body
    assert time.monotonic() - started >= 0.9


def test_shutdown_does_not_wait_for_a_stuck_request() -> None:
    started = time.monotonic()
    stuck = serve_demo_site(today=TODAY, faults=True, fault_delay=30)
    with stuck as (base, _), pytest.raises((TimeoutError, socket.timeout)):
        fetch(base, "/faults/timeout", timeout=0.2)
    assert time.monotonic() - started < 5


def test_request_log_records_method_path_and_status(demo: tuple[str, DemoSite]) -> None:
    base, site = demo
    fetch(base, "/robots.txt", method="HEAD")
    fetch(base, "/no/such/page?x=1")
    assert ("HEAD", "/robots.txt", 200) in site.requests
    assert ("GET", "/no/such/page?x=1", 404) in site.requests
    assert site.requested("/no/such/page") and not site.requested("/never/asked")


def test_dates_follow_the_run_date() -> None:
    early, late = DemoSite(today=TODAY), DemoSite(today=TODAY + timedelta(days=10))
    shifted = {(a.outlet, a.slug): a.published_at for a in late.articles}
    assert all(
        shifted[a.outlet, a.slug] - a.published_at == timedelta(days=10) for a in early.articles
    )
    assert max(a.local_time.date() for a in early.articles) == TODAY
