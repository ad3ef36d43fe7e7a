"""Hardening of the crawl and the config, piece by piece (issue 17).

The crawls themselves are in tests/reliability/test_crawl_traps.py and test_fanout.py.
"""

from __future__ import annotations

import gzip
import ipaddress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy import signals as scrapy_signals
from scrapy.exceptions import DropItem, IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import select
from twisted.python.failure import Failure
from typer.testing import CliRunner

from briefing.config import ConfigError, parse_config
from briefing.store.articles import ArticleRecord, ImportLineError, parse_import_line, save_article
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleUrl
from scraper.addon import CONFIG_OBJECT
from scraper.items import ArticleItem
from scraper.loader import spider_class
from scraper.netguard import AddressPolicy, GuardedResolver, PrivateAddressError, is_public
from scraper.pipelines import CanonicalUrlPipeline, DuplicatePipeline, StorePipeline
from scraper.skips import SKIP_PREFIX, reason_for_failure
from scraper.spiders.base import utf16_text
from scraper.urls import canonical_url, same_site

SOURCE = {"name": "wire", "feeds": ["https://wire.example/feed.xml"]}


# Malformed links and IPv6 hosts (item 3)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("https://[2001:DB8::1]:443/a?utm_source=x", "https://[2001:db8::1]/a"),
        ("http://[fe80::1%25eth0]/", "http://[fe80::1%25eth0]/"),  # RFC 6874 zone
    ],
)
def test_ipv6_hosts_keep_their_brackets(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


# Same site means same host and port (item 12)


def test_same_site_is_host_and_port_whatever_the_scheme() -> None:
    assert same_site("http://news.example/a", "https://www.news.example/b")
    assert same_site("https://news.example:443/a", "http://news.example/b")
    assert not same_site("http://127.0.0.1:8000/a", "http://127.0.0.1:9000/a")
    assert not same_site("https://news.example/a", "https://news.example:8443/a")
    assert same_site("http://[::1]:8000/a", "http://[::1]:8000/b")
    assert not same_site("http://[", "http://[")


def test_an_exception_in_a_callback_or_a_pipeline_is_a_counted_skip(tmp_path: Path) -> None:
    config = parse_config({"sources": [SOURCE]}, base_dir=tmp_path)
    spider_cls = spider_class(config.source("wire"))
    crawler = get_crawler(spider_cls, {CONFIG_OBJECT: config})
    crawler.stats.open_spider()
    spider = crawler.spider = spider_cls.from_crawler(crawler)
    page = HtmlResponse("https://wire.example/a", body=b"<html></html>")
    signals = crawler.signals
    signals.send_catch_log(scrapy_signals.spider_error, failure=Failure(ValueError("x")),
                           response=page, spider=spider)  # fmt: skip
    signals.send_catch_log(scrapy_signals.item_error, item=item(page.url, "t"), response=page,
                           spider=spider, failure=Failure(KeyError("y")))  # fmt: skip
    assert crawler.stats.get_value(SKIP_PREFIX + "callback_error") == 1
    assert crawler.stats.get_value(SKIP_PREFIX + "pipeline_error") == 1


# Private addresses (item 4)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata (link-local)
        "100.100.100.200",  # cloud metadata (shared address space)
        "192.0.0.192",  # cloud metadata that Python calls global
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "224.0.0.1",
    ],
)
def test_private_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_public_addresses_are_public() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:2800:220:1::1"))


def test_a_source_may_use_its_seeds_host_and_port_and_what_allow_private_names() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    policy = AddressPolicy.build(["http://127.0.0.1:8000/feed.xml"], [])
    assert policy.is_seed("127.0.0.1", 8000)
    assert not policy.allows("127.0.0.1", 9000, loopback)
    assert not policy.allows("localhost", 9000, loopback)
    assert policy.allows("0x7f000001", 8000, loopback)  # the seed's own endpoint, spelled oddly
    allowed = AddressPolicy.build([], ["10.1.0.0/16", "intranet.local:8080", "127.0.0.1:9000"])
    assert allowed.allows("db.internal", 443, ipaddress.ip_address("10.1.200.7"))
    assert not allowed.allows("db.internal", 443, ipaddress.ip_address("10.2.0.1"))
    assert allowed.allows("intranet.local", 8080, ipaddress.ip_address("192.168.3.4"))
    assert not allowed.allows("intranet.local", 8081, ipaddress.ip_address("192.168.3.4"))
    assert allowed.allows("localhost", 9000, loopback)  # resolves to the allowed address
    assert not allowed.allows("localhost", 9001, loopback)


def test_the_resolver_refuses_private_answers_for_hosts_nothing_names() -> None:
    # The second line of defence: a name that answers a public address to the check and a
    # private one at connection time (DNS rebinding) is refused when the download connects.
    resolver = GuardedResolver(object(), 0, 5)  # type: ignore[arg-type]
    resolver.policy = AddressPolicy.build(["http://localhost:8000/feed.xml"], ["10.0.0.0/8"])
    assert resolver._check("93.184.216.34", "news.example") == "93.184.216.34"
    with pytest.raises(PrivateAddressError):
        resolver._check("127.0.0.1", "rebinding.example")
    assert resolver._check("10.2.3.4", "db.internal") == "10.2.3.4"
    assert resolver._check("127.0.0.1", "localhost") == "127.0.0.1"  # the seed's own name
    assert resolver._check("127.0.0.1", "127.0.0.1") == "127.0.0.1"  # and its address


# Skip reasons (item 9)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (gzip.BadGzipFile("Not a gzipped file"), "bad_compression"),
        (ValueError("boom"), "download_error"),
        (OverflowError("date value out of range"), "download_error"),
        (
            IgnoreRequest("Ignored response: exceeded DOWNLOAD_MAXSIZE during decompression."),
            "decompression_bomb",
        ),
        (
            IgnoreRequest("private address 127.0.0.1 (localhost:9000) is not allowed"),
            "private_address",
        ),
    ],
)
def test_failures_map_to_documented_reasons_never_exception_names(
    error: Exception, reason: str
) -> None:
    assert reason_for_failure(Failure(error)) == reason


# UTF-16 pages (item 13)


def test_utf16_is_decoded_and_binary_is_not() -> None:
    page = "<html><head><title>Zürich 東京</title></head><body>Text</body></html>"
    assert utf16_text(page.encode("utf-16"), "utf-8") == page  # byte-order mark
    assert utf16_text(page.encode("utf-16-be"), "utf-16be") == page  # declared
    assert utf16_text(page.encode("utf-16-le"), "cp1252") == page  # NUL pattern alone
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8
    assert utf16_text(png, "utf-8") is None


# Both stores accept the same data (item 8)


def item(url: str, text: str, **fields: Any) -> ArticleItem:
    values: dict[str, Any] = {
        "source": "wire",
        "url": url,
        "requested_url": url,
        "title": "Title",
        "text": text,
        "authors": [],
        "published_at": datetime(2026, 11, 27, tzinfo=UTC),
        "language": "en",
        "canonical_url": None,
        "page_type": "article",
        "fetched_at": datetime(2026, 11, 27, 8, tzinfo=UTC),
    }
    return ArticleItem(**{**values, **fields})


def words(seed: int) -> str:
    return " ".join(f"w{seed}x{i}" for i in range(80))


def run_pipelines(crawler: Any, article: ArticleItem) -> str:
    """Run the canonical, duplicate and store stages; return the outcome."""
    try:
        for stage in (CanonicalUrlPipeline, DuplicatePipeline, StorePipeline):
            article = stage.from_crawler(crawler).process_item(article)
    except DropItem as exc:
        return str(exc).split(":", 1)[0]
    return "stored"


def test_postgresql_and_sqlite_accept_the_same_articles(store_url: str, tmp_path: Path) -> None:
    config = parse_config({"store": {"url": store_url}, "sources": [SOURCE]}, base_dir=tmp_path)
    crawler = get_crawler(Spider, {CONFIG_OBJECT: config})
    crawler.stats.open_spider()
    long_url = "https://wire.example/" + "x" * 3000
    outcomes = [
        run_pipelines(
            crawler,
            item(
                "https://wire.example/nul",
                words(1) + "\x00",
                title="Port\x00 talks",
                authors=["Kim\x00 Lee"],
                language="en-US-x-a-very-long-private-tag",
            ),
        ),
        # A redirect led to a URL longer than the store keeps: filed under the link's URL.
        run_pipelines(crawler, item(long_url, words(2), requested_url="https://wire.example/r")),
        run_pipelines(crawler, item(long_url + "y", words(3), requested_url=long_url)),
    ]
    assert outcomes == ["stored", "stored", "url_too_long"]
    assert crawler.stats.get_value(SKIP_PREFIX + "url_too_long") == 1
    store = Store(store_url)
    with store.session() as session:
        rows = {a.url: a for a in session.scalars(select(Article))}
        urls = set(session.scalars(select(ArticleUrl.url)))
        nul = rows["https://wire.example/nul"]
        assert (nul.title, nul.authors, nul.language) == ("Port talks", ["Kim Lee"], "en")
        assert "\x00" not in nul.text
        assert "https://wire.example/r" in rows
        assert all(len(url) <= 2048 for url in urls)
    with pytest.raises(ValueError, match="longer than 2048"):
        store.run(lambda s: save_article(s, ArticleRecord(long_url, "wire", "t", words(4))))
    store.close()


def test_an_import_line_with_an_overlong_url_is_refused_with_a_reason() -> None:
    line = '{"url": "https://x.example/' + "a" * 2100 + '", "text": "some text"}'
    with pytest.raises(ImportLineError, match="longer than the store keeps"):
        parse_import_line(line)


# Config bounds and whole-value patterns (item 10)


@pytest.mark.parametrize(
    ("section", "values", "key"),
    [
        ("crawl", {"seen_hours": 1e308}, "crawl.seen_hours"),
        ("crawl", {"worker_timeout": 1e300}, "crawl.worker_timeout"),
        ("mail", {"smtp": {"host": "smtp.example", "timeout": 1e300}}, "mail.smtp.timeout"),
        ("crawl", {"download_timeout": float("nan")}, "crawl.download_timeout"),
        ("crawl", {"min_words": 10**9}, "crawl.min_words"),
        ("crawl", {"max_urls_per_source": 0}, "crawl.max_urls_per_source"),
        ("crawl", {"user_agent": "Bot\r\nX-Evil: 1"}, "crawl.user_agent"),
        ("crawl", {"redis_url": "redis://h/0\nFLUSHALL"}, "crawl.redis_url"),
        ("crawl", {"allow_private": ["not a host"]}, "crawl.allow_private"),
        ("nlp", {"batch_size": 10**12}, "nlp.batch_size"),
        ("schedule", {"misfire_grace_minutes": 10**9}, "schedule.misfire_grace_minutes"),
        ("schedule", {"crawl_time_limit_minutes": 10**9}, "schedule.crawl_time_limit_minutes"),
        ("schedule", {"daily": "07:00\n"}, "schedule.daily"),
        ("schedule", {"crawl": "every 2h\n"}, "schedule.crawl"),
        ("schedule", {"crawl": "every 0h"}, "schedule.crawl"),
    ],
)
def test_every_number_is_bounded_and_every_pattern_matches_whole(
    tmp_path: Path, section: str, values: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_config({section: values, "sources": [SOURCE]}, base_dir=tmp_path)


def test_a_source_name_ending_in_a_newline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\]\.name"):
        parse_config({"sources": [{**SOURCE, "name": "wire\n"}]}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"sources\[0\]\.feeds"):
        parse_config(
            {"sources": [{**SOURCE, "feeds": ["https://a.example/f\n"]}]}, base_dir=tmp_path
        )


def test_allow_private_takes_networks_and_hosts_with_ports(tmp_path: Path) -> None:
    entries = ["10.1.0.0/16", "intranet.local:8080", "127.0.0.1:9000", "[fd00::1]:80", "::1"]
    config = parse_config(
        {"crawl": {"allow_private": entries}, "sources": [SOURCE]}, base_dir=tmp_path
    )
    assert config.crawl.allow_private == entries


# `briefing crawl` is bounded in time (item 5)


def test_briefing_crawl_gets_the_scheduled_crawls_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing import cli
    from briefing.stages import crawl as crawling
    from scraper.runtime import CrawlSummary

    seen: list[float | None] = []

    def crawl(config: Any, sources: Any, **options: Any) -> CrawlSummary:
        seen.append(options.get("time_limit"))
        return CrawlSummary(per_source={"wire": {}})

    monkeypatch.setattr(crawling, "crawl_and_record", crawl)
    config = tmp_path / "briefing.toml"
    config.write_text(
        '[schedule]\ncrawl_time_limit_minutes = 7\n[[sources]]\nname = "wire"\n'
        'feeds = ["https://wire.example/feed.xml"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(cli.app, ["crawl", "--config", str(config)]).exit_code == 0
    assert (
        runner.invoke(cli.app, ["crawl", "--config", str(config), "--time-limit", "2"]).exit_code
        == 0
    )
    assert seen == [7 * 60, 2 * 60]
