"""A small archive to browse (store, briefings, a Site) and an in-process client for the web app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import httpx

from briefing.briefs.compose import SourceArticle, StoryInput, compose
from briefing.output.archive import write_briefing
from briefing.output.render import render_html
from briefing.store.engine import Store
from briefing.store.models import Article, BriefingRecord, Story, StoryArticle
from briefing.store.search import refresh_index
from briefing.web.pages import Site

ZONE = ZoneInfo("Asia/Seoul")
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
DAYS = (date(2024, 4, 30), date(2024, 5, 13), date(2024, 5, 14))


def tiny_pdf(label: str) -> bytes:
    """Return a minimal, valid one-page PDF naming label."""
    stream = f"BT /F1 24 Tf 72 720 Td ({label}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# (story id, label, [(article id, outlet, day index, hour, title, text)])
STORIES = [
    (
        "s-arms",
        "DPRK–Russia arms talks",
        [
            ("a1", "yonhap", 1, 9, "Shoigu meets Kim in Pyongyang", "Arms talks began on Monday."),
            ("a2", "reuters", 1, 11, "Kim hosts Russia's defence chief", "The talks covered arms."),
            ("a3", "kbs", 2, 8, "Arms talks enter second day", "Negotiators met again."),
        ],
    ),
    (
        "s-floods",
        "Floods in the south",
        [
            ("f1", "ap", 1, 10, "Rain floods the south", "An old arms depot was flooded too."),
            ("f2", "kbs", 2, 9, "Thousands evacuated", "More than 3,000 people were evacuated."),
        ],
    ),
    (
        "s-hostile",
        f"Hostile {SCRIPT} story",
        [
            ("h1", "evil", 2, 7, IMG, "Hostile body text."),
            ("h2", "worse", 2, 8, f"Second {SCRIPT}", "More hostile body text."),
        ],
    ),
    ("s-april", "Spring harvest", [("p1", "yonhap", 0, 9, "Harvest", "Rice planting started.")]),
]


def _moment(day_index: int, hour: int) -> datetime:
    return datetime.combine(DAYS[day_index], time(hour), ZONE).astimezone(UTC)


def _article(record: tuple[str, str, int, int, str, str]) -> SourceArticle:
    ident, outlet, day_index, hour, title, body = record
    url = "javascript:alert(1)" if outlet == "evil" else f"https://{outlet}.example/{ident}"
    return SourceArticle(ident, outlet, title, url, _moment(day_index, hour), (body,))


def fill_store(store: Store) -> None:
    """Put the stories and their articles into the store."""
    with store.session() as session:
        for story_id, label, articles in STORIES:
            times = [_moment(day_index, hour) for _i, _o, day_index, hour, _t, _b in articles]
            session.add(
                Story(id=story_id, label=label, first_seen=min(times), last_seen=max(times))
            )
            for record in articles:
                source = _article(record)
                session.add(
                    Article(
                        id=source.id,
                        url=source.url,
                        source=source.outlet,
                        title=source.title,
                        text=" ".join(source.sentences),
                        published_at=source.published_at,
                        fetched_at=source.published_at,
                        word_count=len(source.sentences[0].split()),
                    )
                )
            session.flush()
            session.add_all(StoryArticle(article_id=r[0], story_id=story_id) for r in articles)


def build_archive(store: Store, archive_dir: Path) -> None:
    """Compose, render and file a briefing for each day, and record it in the store."""
    inputs = [
        StoryInput(story_id, label, "new", (), (), tuple(_article(r) for r in articles))
        for story_id, label, articles in STORIES
    ]
    for day in DAYS:
        end = datetime.combine(day, time(23, 0), ZONE)
        briefing = compose(
            inputs,
            day=day,
            title="Morning Briefing",
            timezone="Asia/Seoul",
            window_start=end - timedelta(hours=24),
            window_end=end,
            generated_at=end,
        )
        paths = write_briefing(archive_dir, briefing, render_html(briefing), tiny_pdf(str(day)))
        with store.session() as session:
            ids = [s.id for s in briefing.stories] + [s.id for s in briefing.also_noted]
            session.add(
                BriefingRecord(
                    day=day,
                    title=briefing.title,
                    html_path=str(paths.html),
                    pdf_path=str(paths.pdf),
                    json_path=str(paths.json),
                    story_ids=ids,
                    article_ids=[],
                )
            )


@dataclass
class Archive:
    store: Store
    archive_dir: Path
    site: Site


def make_archive(tmp_path: Path) -> Archive:
    """Build a small store and archive in tmp_path, and a Site over them."""
    store = Store(f"sqlite:///{tmp_path / 'briefing.db'}")
    archive_dir = tmp_path / "archive"
    fill_store(store)
    build_archive(store, archive_dir)
    refresh_index(store)  # as the stages (and `briefing serve`) do
    (tmp_path / "secret.txt").write_text("root:x:0:0 top secret\n")
    return Archive(store, archive_dir, Site(archive_dir, store, "Morning Briefing", ZONE))


class Client:
    """A synchronous client over the ASGI app, in process (no socket, no server)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())


def raw_get(app: Any, raw_path: bytes) -> tuple[int, bytes]:
    """Send a GET whose path no client library has normalised, as a server would pass it."""
    path, _, query = raw_path.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(path.decode("latin-1")),  # uvicorn decodes the path once, like this
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body
