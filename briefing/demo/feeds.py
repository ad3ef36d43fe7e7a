"""Render the demo site's machine-readable pages (feeds, sitemaps, robots.txt) and its faults."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

from briefing.demo.pages import error_page

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
HUGE_BYTES = 12 * 1024 * 1024
KOREAN_TEXT = (
    "북한 김정은 국무위원장과 블라디미르 푸틴 러시아 대통령이 러시아 극동의 보스토치니 "
    "우주기지에서 정상회담을 열었다. 한미일 3국은 북러 간 무기 거래 가능성에 깊은 우려를 "
    "나타내며 유엔 안전보장이사회 결의 위반이라고 지적했다."
)

HTML = "text/html; charset=utf-8"
MALFORMED_FEED = "/faults/malformed-feed.xml"
FAULT_PAGES = {  # path -> why a crawler should end up not storing it
    "/faults/timeout": "timeout",
    "/faults/binary": "binary_body",
    "/faults/binary.bin": "not_html",
    "/faults/empty": "empty_body",
    "/faults/huge": "too_large",
    "/faults/bad-encoding": "bad_encoding",
    "/faults/wrong-encoding": "wrong_encoding",
    MALFORMED_FEED: "malformed_feed",
    "/faults/not-found": "http_404",
    "/faults/server-error": "http_500",
    "/faults/loop-a": "redirect_loop",
}


@dataclass
class Page:
    """An HTTP response the demo site sends; an iterable body is streamed without a length."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Route = Callable[[str], Page]  # called with the base URL the client used

# A feed item: (url, title, summary, published UTC, authors, category).
FeedItem = tuple[str, str, str, datetime, Sequence[str], str]


def x(text: str) -> str:
    """Escape text for XML content and attribute values."""
    return escape(text, quote=True)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def rss2(title: str, home: str, self_url: str, items: Sequence[FeedItem]) -> str:
    """Render an RSS 2.0 feed."""
    entries = "".join(
        f'<item><title>{x(t)}</title><link>{x(u)}</link><guid isPermaLink="true">{x(u)}</guid>'
        f"<pubDate>{format_datetime(p.astimezone(UTC), usegmt=True)}</pubDate>"
        + "".join(f"<dc:creator>{x(a)}</dc:creator>" for a in authors)
        + f"<category>{x(c)}</category><description>{x(s)}</description></item>\n"
        for u, t, s, p, authors, c in items
    )
    return (
        f'{XML_HEAD}<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>{x(title)}</title>'
        f"<link>{x(home)}</link><description>Latest stories from {x(title)}</description>"
        f'<language>en</language><atom:link href="{x(self_url)}" rel="self" '
        f'type="application/rss+xml"/>\n{entries}</channel></rss>\n'
    )


def atom(title: str, home: str, self_url: str, items: Sequence[FeedItem]) -> str:
    """Render an Atom 1.0 feed."""
    updated = max((p for *_, p, _a, _c in items), default=datetime(2000, 1, 1, tzinfo=UTC))
    entries = "".join(
        f'<entry><title>{x(t)}</title><link rel="alternate" type="text/html" href="{x(u)}"/>'
        f"<id>{x(u)}</id><published>{_iso(p)}</published><updated>{_iso(p)}</updated>"
        + "".join(f"<author><name>{x(a)}</name></author>" for a in authors)
        + f'<category term="{x(c)}"/><summary>{x(s)}</summary></entry>\n'
        for u, t, s, p, authors, c in items
    )
    return (
        f'{XML_HEAD}<feed xmlns="http://www.w3.org/2005/Atom"><title>{x(title)}</title>'
        f'<id>{x(home)}</id><updated>{_iso(updated)}</updated><link rel="self" '
        f'href="{x(self_url)}"/><link rel="alternate" href="{x(home)}"/>'
        f"<author><name>{x(title)}</name></author>\n{entries}</feed>\n"
    )


def rdf(title: str, home: str, self_url: str, items: Sequence[FeedItem]) -> str:
    """Render an RSS 1.0 (RDF) feed."""
    seq = "".join(f'<rdf:li rdf:resource="{x(u)}"/>' for u, *_ in items)
    entries = "".join(
        f'<item rdf:about="{x(u)}"><title>{x(t)}</title><link>{x(u)}</link>'
        f"<description>{x(s)}</description><dc:date>{_iso(p)}</dc:date>"
        + "".join(f"<dc:creator>{x(a)}</dc:creator>" for a in authors)
        + f"<dc:subject>{x(c)}</dc:subject></item>\n"
        for u, t, s, p, authors, c in items
    )
    return (
        f'{XML_HEAD}<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="{x(self_url)}"><title>{x(title)}</title><link>{x(home)}</link>'
        f"<description>Wire stories from {x(title)}</description><items><rdf:Seq>{seq}"
        f"</rdf:Seq></items></channel>\n{entries}</rdf:RDF>\n"
    )


def news_sitemap(publication: str, items: Sequence[FeedItem]) -> str:
    """Render a Google News sitemap."""
    urls = "".join(
        f"<url><loc>{x(u)}</loc><news:news><news:publication><news:name>{x(publication)}"
        "</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{_iso(p)}</news:publication_date><news:title>{x(t)}"
        "</news:title></news:news></url>\n"
        for u, t, _s, p, _a, _c in items
    )
    return (
        f'{XML_HEAD}<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{urls}</urlset>\n'
    )


def sitemap_index(sitemaps: Sequence[tuple[str, datetime]]) -> str:
    """Render a sitemap index of (url, lastmod) pairs."""
    entries = "".join(
        f"<sitemap><loc>{x(u)}</loc><lastmod>{_iso(m)}</lastmod></sitemap>\n" for u, m in sitemaps
    )
    return (
        f'{XML_HEAD}<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n"
    )


def robots_txt(sitemaps: Sequence[str]) -> str:
    """Render robots.txt: everything allowed except /private/, with Sitemap lines."""
    lines = ["User-agent: *", "Disallow: /private/", ""]
    return "\n".join(lines + [f"Sitemap: {url}" for url in sitemaps]) + "\n"


def malformed_feed(items: Sequence[FeedItem]) -> str:
    """Render an RSS feed that is not well-formed XML but still has recoverable items."""
    good = "".join(
        f"<item><title>{x(t)}</title><link>{x(u)}</link><description>{x(s[:120])} <b>unclosed"
        "</description></item>\n"
        for u, t, s, *_ in items
    )
    return (
        f'{XML_HEAD}<rss version="2.0"><channel><title>Faults & Co. feed</title>'
        f"<link>http://example.invalid/</link>\n{good}<item><title>Cut off mid-item</title><link>"
    )


def png_bytes(side: int = 64) -> bytes:
    """Return a valid PNG of random pixels (so that it does not compress to nothing)."""
    rng = random.Random(side)
    raw = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def huge_html(total: int = HUGE_BYTES, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Yield an HTML page of exactly `total` bytes in chunks, never holding it all in memory."""
    head = b"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Huge page</title></head>"
    head += b"<body><h1>A page far larger than any news article</h1>"
    tail = b"</body></html>\n"
    filler = b"<p>All work and no play makes a crawler a dull crawler.</p>\n"
    yield head
    remaining = total - len(head) - len(tail)
    block = filler * (chunk_size // len(filler))
    while remaining > 0:
        piece = block[:remaining]
        remaining -= len(piece)
        yield piece
    yield tail


def bad_encoding_html() -> bytes:
    """Return a page that declares UTF-8 but whose text is invalid UTF-8 byte soup."""
    junk = bytes(range(0x80, 0xC0)) + b"\xff\xfe "
    body = b"".join(b"<p>" + junk * 4 + b"</p>" for _ in range(6))
    return (
        b"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>\xc3\x28\xa0 report</title>"
        b"</head><body><h1>\xe2\x28\xa1 \xf0\x28\x8c\xbc</h1>" + body + b"</body></html>\n"
    )


def wrong_encoding_html() -> bytes:
    """Return Korean text encoded as UTF-8 in a page that declares ISO-8859-1."""
    text = "".join(f"<p>{KOREAN_TEXT}</p>" for _ in range(3))
    page = (
        "<!DOCTYPE html>\n<html><head><meta http-equiv='Content-Type' "
        "content='text/html; charset=iso-8859-1'><title>북러 정상회담</title></head><body>"
        f"<h1>북러 정상회담, 무기 거래 우려 커져</h1>{text}</body></html>\n"
    )
    return page.encode("utf-8")


def slow_html() -> bytes:
    """Return the page /faults/timeout finally sends, if anyone is still waiting."""
    words = " ".join(["This page took far too long to arrive."] * 20)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Slow page</title></head>"
        f"<body><article><h1>Slow page</h1><p>{words}</p></article></body></html>\n"
    ).encode()


def redirect(target: str) -> Route:
    """Return a route that redirects (302) to `target` on the same host."""
    return lambda base: Page(302, b"", headers={"Location": base + target})


def fault_routes(
    delay: float, feed_path: str, feed_items: Callable[[str], Sequence[FeedItem]]
) -> dict[str, Route]:
    """Return the routes of every fault page; `feed_items` gives the malformed feed's items."""
    png = png_bytes()
    return {
        "/faults/timeout": lambda base: Page(body=slow_html(), delay=delay),
        "/faults/binary": lambda base: Page(body=png),
        "/faults/binary.bin": lambda base: Page(body=png, content_type="application/octet-stream"),
        "/faults/empty": lambda base: Page(body=b""),
        "/faults/huge": lambda base: Page(body=huge_html()),
        "/faults/bad-encoding": lambda base: Page(body=bad_encoding_html()),
        "/faults/wrong-encoding": lambda base: Page(
            body=wrong_encoding_html(), content_type="text/html; charset=iso-8859-1"
        ),
        feed_path: lambda base: Page(
            body=malformed_feed(feed_items(base)).encode(),
            content_type="application/rss+xml; charset=utf-8",
        ),
        "/faults/not-found": lambda base: Page(404, error_page(404, "Not Found").encode()),
        "/faults/server-error": lambda base: Page(500, error_page(500, "Server Error").encode()),
        "/faults/loop-a": redirect("/faults/loop-b"),
        "/faults/loop-b": redirect("/faults/loop-a"),
    }
