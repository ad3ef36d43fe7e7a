"""Property-based tests: feeds, URLs, extraction and enrichment survive any input.

Rendering (HTML, PDF and mail) with arbitrary text is in test_render_properties.py.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_support import HOSTILE_BITS, hostile_text
from scrapy import Request
from scrapy.http import XmlResponse
from scrapy.settings import Settings

from briefing.config import parse_config
from briefing.nlp.enrich import Enricher, Enrichment
from scraper.addon import CONFIG_OBJECT
from scraper.extract import ExtractedArticle, extract_article
from scraper.loader import spider_class
from scraper.skips import SKIP_PREFIX
from scraper.spiders import SourceSpider
from scraper.urls import canonical_url

FEED_URL = "https://news.example.org/feed.xml"
PROPERTY = settings(max_examples=60, deadline=None)
WITH_FIXTURE = [HealthCheck.function_scoped_fixture]


class Stats(Counter[str]):
    """The methods of Scrapy's stats collector that the spiders call."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self[key] += count

    def get_value(self, key: str, default: int = 0) -> int:
        return self.get(key, default)


# What a crawl's settings give a spider: its config, with a store it looks links up in.
CONFIG = parse_config(
    {"store": {"url": "sqlite:///:memory:"}, "sources": [{"name": "wire", "feeds": [FEED_URL]}]},
    base_dir=Path("."),
)


def make_spider() -> SourceSpider:
    source = CONFIG.source("wire")
    spider = spider_class(source)()
    settings = Settings({CONFIG_OBJECT: CONFIG})
    spider.crawler = SimpleNamespace(stats=Stats(), settings=settings)  # type: ignore[assignment]
    return spider


def parse_feed(body: bytes) -> tuple[list[Request], Stats]:
    spider = make_spider()
    response = XmlResponse(FEED_URL, body=body, request=Request(FEED_URL))
    requests = list(spider.parse_feed(response))
    return requests, spider.crawler.stats  # type: ignore[return-value]


def xml_text(value: str) -> str:
    """Escape text for XML, dropping what XML 1.0 cannot carry at all."""
    allowed = "".join(c for c in value if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))
    return allowed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rss(items: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{xml_text(title)}</title><link>{xml_text(link)}</link></item>"
        for title, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
        f"{entries}</channel></rss>"
    ).encode()


def skipped(stats: Stats, reason: str) -> int:
    return stats[SKIP_PREFIX + reason]


# --- feeds -----------------------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=2000))
def test_feed_parsing_survives_any_bytes(body: bytes) -> None:
    requests, _ = parse_feed(body)
    assert all(urlsplit(r.url).scheme in ("http", "https") for r in requests)


@PROPERTY
@given(st.lists(st.tuples(hostile_text(), hostile_text()), max_size=8))
def test_feed_entries_with_any_link_yield_only_web_requests(items: list[tuple[str, str]]) -> None:
    requests, _ = parse_feed(rss(items))
    for request in requests:
        parts = urlsplit(request.url)
        assert parts.scheme in ("http", "https") and parts.netloc, request.url
        assert not parts.fragment
    assert len(requests) <= len(items)


slugs = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@PROPERTY
@given(
    st.lists(st.tuples(hostile_text(), slugs), min_size=1, max_size=8, unique_by=lambda i: i[1]),
    st.lists(st.sampled_from(["file:///etc/passwd", "data:text/html,x", "http://a:99999/"])),
)
def test_every_web_link_in_a_feed_is_followed_and_bad_ones_counted(
    good: list[tuple[str, str]], bad: list[str]
) -> None:
    """A bad link neither stops the feed nor gets fetched: it is counted as bad_url."""
    links = [(title, f"https://news.example.org/a/{slug}") for title, slug in good]
    mixed: list[tuple[str, str]] = []
    for index in range(max(len(links), len(bad))):  # a bad link first, then alternating
        mixed += [("bad", bad[index])] if index < len(bad) else []
        mixed += [links[index]] if index < len(links) else []
    requests, stats = parse_feed(rss(mixed))
    assert sorted(r.url for r in requests) == sorted(link for _, link in links)
    assert skipped(stats, "bad_url") == len(bad)


# --- URLs ------------------------------------------------------------------------------

hosts = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}(\.[A-Za-z]{2,6}){1,2}", fullmatch=True)
query_keys = st.one_of(
    st.sampled_from(["utm_source", "UTM_Medium", "utm_campaign", "fbclid", "gclid", "ref"]),
    st.text(min_size=1, max_size=8),
)
web_urls = st.builds(
    lambda scheme, host, port, path, query, fragment: (
        f"{scheme}://{host}{port}/{path}"
        + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
        + (f"#{fragment}" if fragment is not None else "")
    ),
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    hosts,
    st.sampled_from(["", ":80", ":443", ":8080", ":65535"]),
    st.text(max_size=30),
    st.lists(st.tuples(query_keys, st.text(max_size=8)), max_size=5),
    st.one_of(st.none(), st.text(max_size=10)),
)


@PROPERTY
@given(web_urls)
def test_canonical_url_is_idempotent_without_fragment_or_trackers(url: str) -> None:
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    parts = urlsplit(canonical)
    assert not parts.fragment and "#" not in canonical
    keys = [key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not [key for key in keys if key.startswith("utm_") or key in ("fbclid", "gclid")]
    assert parts.scheme == parts.scheme.lower() and parts.netloc == parts.netloc.lower()


odd_netlocs = st.builds(
    lambda host, junk: f"http://{host}{junk}/a",
    hosts,
    st.text(alphabet=":[]@%0123456789x", max_size=8),
)


@PROPERTY
@example("http://news.example.org:99999/a")
@given(st.one_of(st.text(max_size=60), odd_netlocs))
def test_canonical_url_never_raises(url: str) -> None:
    canonical_url(url)


# --- extraction ------------------------------------------------------------------------

TAGS = ["p", "div", "article", "h1", "script", "style", "a", "span", "table", "td", "br", "meta"]
markup = st.recursive(
    hostile_text(),
    lambda children: st.builds(
        lambda tag, attrs, inner, closed: (
            f"<{tag} {attrs}>" + "".join(inner) + (f"</{tag}>" if closed else "")
        ),
        st.sampled_from(TAGS),
        st.sampled_from(["", 'class="x"', "onclick=alert(1)", 'href="javascript:x"', "lang=ko"]),
        st.lists(children, max_size=4),
        st.booleans(),
    ),
    max_leaves=20,
)


@pytest.fixture
def extraction_failures(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    caplog.set_level(logging.DEBUG, logger="scraper.extract")
    yield caplog.records


@settings(max_examples=60, deadline=None, suppress_health_check=WITH_FIXTURE)
@given(st.one_of(markup, markup.map(lambda body: f"<html><body>{body}</body></html>")))
def test_extraction_never_raises_on_any_markup(
    extraction_failures: list[logging.LogRecord], page: str
) -> None:
    extraction_failures.clear()
    extracted = extract_article(page, "https://news.example.org/a/1", default_language="en")
    assert isinstance(extracted, ExtractedArticle)
    assert isinstance(extracted.text, str)
    assert extracted.title is None or isinstance(extracted.title, str)
    assert all(isinstance(name, str) and name for name in extracted.authors)
    # extract_article swallows internal errors to keep a crawl going; none should happen.
    failed = [r for r in extraction_failures if "extraction failed" in r.getMessage()]
    assert not failed, failed[0].exc_text


# --- enrichment ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def enricher() -> Iterator[Enricher]:
    with Enricher() as loaded:
        yield loaded


prose_bits = st.sampled_from(
    ['"', "“", "”", "said", "Kim Jong Un", "North Korea", ".", "\n\n", "(Yonhap) --", "Mr."]
)
any_text = st.lists(st.one_of(st.text(max_size=30), prose_bits, st.sampled_from(HOSTILE_BITS)))


@settings(max_examples=40, deadline=None, suppress_health_check=WITH_FIXTURE)
@given(st.text(max_size=80), any_text.map(" ".join))
def test_enrichment_of_any_text_is_consistent_and_storable(
    enricher: Enricher, title: str, text: str
) -> None:
    result = enricher.enrich(title, text)
    assert all(0 <= quote.sentence_index < len(result.sentences) for quote in result.quotes)
    assert all(entity.text.strip() for entity in result.entities)
    stored = json.loads(json.dumps(result.to_dict()))  # the store keeps it as JSON
    assert Enrichment.from_dict(stored) == result


def test_strategies_reach_the_hostile_bits() -> None:
    """Guard: the shared strategy really mixes the hostile fragments in."""
    found: set[str] = set()

    @settings(max_examples=200, deadline=None)
    @given(hostile_text())
    def collect(text: str) -> None:
        found.update(bit for bit in HOSTILE_BITS if bit in text)

    collect()
    assert len(found) >= len(HOSTILE_BITS) // 2
