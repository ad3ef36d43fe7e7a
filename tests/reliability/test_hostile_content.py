"""Hostile content, end to end: crawl → store → group → build → send → web, all inert.

Two outlets publish pages full of scripts, event handlers, javascript: links, file: and
remote resources, CSS url() and CR/LF in titles; a third article with raw markup and
header breaks is stored directly. Nothing runs, nothing is fetched, nothing leaks.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hostile_site import HostileSite, serve_hostile_site
from pypdf import PdfReader
from reliability_support import MAIL_HEADERS, assert_inert_html, pdf_links, report_figure
from sqlalchemy import select

from briefing.config import Config, parse_config
from briefing.output import render
from briefing.stages.build import BuildResult, build_day
from briefing.stages.crawl import crawl_and_record
from briefing.stages.group import group_pending
from briefing.stages.send import send_briefing
from briefing.store.articles import ArticleRecord, save_article
from briefing.store.engine import Store
from briefing.store.models import Article, Story
from briefing.web.app import create_app
from briefing.web.pages import Site
from scraper.runtime import CrawlSummary

pytestmark = pytest.mark.slow
DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
SECRET = "TOP-SECRET-7f3a local file contents"
STORED_TITLE = "Snow closes schools <script>alert('t')</script>\r\nBcc: victim@example.org"
STORED_TEXT = (
    "Heavy snow closed every school in Gangwon province on Tuesday, the education office "
    'said. <img src=x onerror=alert(1)> <a href="javascript:alert(2)">link</a> '
    "url(file:///etc/passwd) {{ 7*7 }} Ski resorts near Pyeongchang welcomed the snowfall."
)
SUBSCRIBER_NAME = "Desk\r\nBcc: x@example.org"


@dataclass
class Pipeline:
    config: Config
    store: Store
    site: HostileSite
    crawl: CrawlSummary
    built: BuildResult
    fetched: list[str]
    connections: list[Any]
    evil_after_build: list[str]
    web: dict[str, httpx.Response]
    evil_after_web: list[str]


def web_pages(app: Any, paths: list[str]) -> dict[str, httpx.Response]:
    async def fetch_all() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return {path: await c.get(path) for path in paths}

    return asyncio.run(fetch_all())


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    folder = tmp_path_factory.mktemp("hostile")
    secret = folder / "secret.html"
    secret.write_text(f"<html><body><article><p>{SECRET} " * 60 + "</article></body></html>")
    with serve_hostile_site(secret) as (base, site):
        config = parse_config(
            {
                "crawl": {"autothrottle": False, "download_timeout": 5, "retries": 0},
                "sources": [
                    {"name": outlet, "feeds": [f"{base}/{outlet}/feed.xml"]}
                    for outlet in ("northgate", "eastwind")
                ],
                "mail": {"sender": "Briefing <briefing@example.org>"},
                "subscribers": [
                    {"email": "desk@example.org", "name": "Desk\r\nBcc: x@example.org"}
                ],
            },
            base_dir=folder,
        )
        crawl = crawl_and_record(config, time_limit=120)
        store = Store(config.store.url)
        record = ArticleRecord(
            url="https://hostile.example/strike?q=<script>",
            source="hostile",
            title=STORED_TITLE,
            text=STORED_TEXT,
            published_at=datetime(2026, 11, 26, 9, tzinfo=UTC),
        )
        store.run(lambda session: save_article(session, record))
        group_pending(store, config, now=NOW)
        fetched, connections = [], []
        with pytest.MonkeyPatch.context() as patch:
            real_fetch, real_connect = render.TemplateAssetFetcher.fetch, socket.socket.connect

            def fetch(self: Any, url: str, headers: Any = None) -> Any:
                fetched.append(url)
                return real_fetch(self, url, headers)

            def connect(self: socket.socket, address: Any) -> Any:
                connections.append(address)
                return real_connect(self, address)

            patch.setattr(render.TemplateAssetFetcher, "fetch", fetch)
            patch.setattr(socket.socket, "connect", connect)
            built = build_day(store, config, DAY, now=NOW)
            send_briefing(store, config, DAY, clock=lambda: NOW)
        evil_after_build = site.evil_requests()
        app = create_app(Site(config.archive.dir, store, "Morning Briefing", ZoneInfo("UTC")))
        with store.session() as session:
            story_ids = list(session.scalars(select(Story.id)))
        paths = ["/", f"/{DAY:%Y/%m}/", f"/{DAY:%Y/%m/%d}/", f"/{DAY:%Y/%m/%d}/briefing.html"]
        paths += ["/stories/", *[f"/stories/{sid}.html" for sid in story_ids]]
        paths += ["/search?q=<script>alert(1)</script>", "/search?q=busan", "/feed.xml"]
        web = web_pages(app, paths)
        yield Pipeline(
            config,
            store,
            site,
            crawl,
            built,
            fetched,
            connections,
            evil_after_build,
            web,
            site.evil_requests(),
        )
        store.close()


def test_crawl_stored_the_articles_and_refused_every_non_web_link(pipeline: Pipeline) -> None:
    assert pipeline.crawl.status == "finished"
    assert pipeline.crawl.total["stored"] == 4
    # Per feed: a file: link and a data: URL refused up front; the redirect to a file is not
    # followed (Scrapy refuses non-HTTP redirects), so that page counts as an HTTP 302.
    assert pipeline.crawl.skipped() == {"bad_url": 4, "http_302": 2}
    with pipeline.store.session() as session:
        articles = list(session.scalars(select(Article)))
    assert not [a for a in articles if SECRET in a.text or a.url.startswith("file:")]
    assert all(a.url.startswith(("http://127.0.0.1", "https://hostile.example")) for a in articles)
    # Script elements are dropped; what the page showed as text ("<script>…") stays text.
    assert not [a for a in articles if "fetch(" in a.text or "alert('svg')" in a.text]
    crawled = [a for a in articles if a.source != "hostile"]
    assert len(crawled) == 4
    assert all("<script>alert(document.cookie)</script>" in a.text for a in crawled)


def test_nothing_fetched_the_remote_or_local_resources(pipeline: Pipeline) -> None:
    assert pipeline.evil_after_build == []
    assert pipeline.evil_after_web == []
    templates = render.TemplateAssetFetcher()
    assert [url for url in pipeline.fetched if templates.local_asset(url) is None] == []
    assert pipeline.connections == []  # build and send (outbox) opened no connection at all
    refused = ", ".join(f"{k} {v}" for k, v in pipeline.crawl.skipped().items())
    report_figure(
        "hostile content",
        f"4 booby-trapped pages + 1 stored article; feed links refused: {refused}; "
        f"0 of the pages' 44 remote/local resource URLs fetched; WeasyPrint's fetcher asked "
        f"for {len(pipeline.fetched)} URLs; {len(pipeline.web)} web pages checked",
    )


def test_html_briefing_is_inert(pipeline: Pipeline) -> None:
    # The four reports make a story from two outlets; the stored article is also noted.
    assert pipeline.built.stories >= 2 and pipeline.built.articles == 5
    composed = json.loads(pipeline.built.json.read_text(encoding="utf-8"))
    outlets = [s["outlet_count"] for section in composed["sections"] for s in section["stories"]]
    assert outlets and max(outlets) >= 2
    html = pipeline.built.html.read_text(encoding="utf-8")
    assert_inert_html(html, styles=1)
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in html  # shown, as text
    assert SECRET not in html and "/evil/" not in html


def test_pdf_is_inert_and_complete(pipeline: Pipeline) -> None:
    data = pipeline.built.pdf.read_bytes()
    reader = PdfReader(io.BytesIO(data))
    for link in pdf_links(reader):
        assert link.startswith(("http://127.0.0.1", "https://hostile.example")), link
    for marker in (b"/JavaScript", b"/JS ", b"/Launch", b"/EmbeddedFile", b"/SubmitForm"):
        assert marker not in data, marker
    text = " ".join(page.extract_text().replace("\x00", "") for page in reader.pages)
    assert "Busan" in text and SECRET not in text


def test_mail_headers_and_both_parts_are_inert(pipeline: Pipeline) -> None:
    messages = list(Path(pipeline.config.mail.outbox).glob("*.eml"))
    assert len(messages) == 1
    parsed = BytesParser(policy=policy.default).parsebytes(messages[0].read_bytes())
    assert isinstance(parsed, EmailMessage)
    assert {key.lower() for key in parsed} == MAIL_HEADERS
    for key, value in parsed.items():
        assert "\r" not in str(value) and "\n" not in str(value), (key, value)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["desk@example.org"]
    html, text = parsed.get_body(("html",)), parsed.get_body(("plain",))
    assert html is not None and text is not None
    assert_inert_html(html.get_content(), styles=None)
    assert "Busan" in text.get_content() and SECRET not in text.get_content()
    assert [p.get_content_type() for p in parsed.iter_attachments()] == ["application/pdf"]


def test_archive_web_pages_are_inert(pipeline: Pipeline) -> None:
    assert len(pipeline.web) >= 9
    for path, response in pipeline.web.items():
        assert response.status_code == 200, path
        policy_header = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy_header and "script-src" not in policy_header
        if response.headers["content-type"].startswith("text/html"):
            archived = path.endswith("briefing.html")
            assert_inert_html(response.text, styles=1 if archived else 0, web=not archived)
        assert SECRET not in response.text and "/evil/" not in response.text, path
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
        in pipeline.web["/search?q=<script>alert(1)</script>"].text
    )
