"""Shared pieces of the reliability suite: hostile text, and how to look for it in output."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from hypothesis import strategies as st
from pypdf import PdfReader
from weasyprint.urls import URLFetcherResponse

from briefing.output.render import TemplateAssetFetcher
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp, Story, StoryArticle

# Fragments that would do harm if any output carried them unescaped.
HOSTILE_BITS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "\r\nBcc: victim@example.org\r\n",
    "\n\nX-Injected: yes",
    "{{ 7*7 }}",
    "{% raw %}",
    "&lt;b&gt;&amp;",
    "\"'><svg onload=alert(1)>",
    "\u202e",
    "\u2028",
    "\x00\x07\x1b[31m",
    "url(file:///etc/passwd)",
    "<style>@import 'http://evil.example/x.css';</style>",
    '<link rel="stylesheet" href="http://evil.example/x.css">',
    "<iframe src=//evil.example></iframe>",
    "=?utf-8?q?=0D=0ABcc:_x@example.org?=",
]


def hostile_text(max_pieces: int = 5) -> st.SearchStrategy[str]:
    """Arbitrary Unicode mixed with the hostile fragments."""
    piece = st.one_of(st.text(max_size=15), st.sampled_from(HOSTILE_BITS))
    return st.lists(piece, min_size=1, max_size=max_pieces).map("".join)


FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "frame",
    "img",
    "svg",
    "math",
    "object",
    "embed",
    "applet",
    "link",
    "base",
    "form",
    "input",
    "video",
    "audio",
    "source",
}


URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "background",
    "poster",
    "cite",
    "data",
    "xlink:href",
}


class _Elements(HTMLParser):
    """Collect every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def assert_inert_html(html: str, *, styles: int | None, web: bool = False) -> None:
    """Assert markup can run nothing and load nothing: no scripts, handlers or remote URLs.

    web=True is the archive app's own chrome: relative links, its stylesheet, a data: icon
    and the search form (a GET to its own /search), none of which come from articles.
    """
    parser = _Elements()
    parser.feed(html)
    parser.close()
    tags = [tag for tag, _ in parser.elements]
    forbidden = FORBIDDEN_TAGS - ({"link", "form", "input"} if web else set())
    assert not forbidden & set(tags), forbidden & set(tags)
    if styles is not None:
        assert tags.count("style") == styles
    for tag, attrs in parser.elements:
        for name, value in attrs:
            _check_attribute(tag, name, (value or "").strip(), web)
    assert "<script" not in html.lower()


def _check_attribute(tag: str, name: str, value: str, web: bool) -> None:
    lowered = value.lower()
    assert not name.startswith("on"), (tag, name, value)
    if name == "href":
        scheme = urlsplit(lowered).scheme
        local = web and (not scheme or (tag == "link" and lowered == "data:,"))
        assert local or lowered.startswith(("http://", "https://", "#")), (tag, value)
        if tag == "link":
            assert not scheme or lowered == "data:,", (tag, value)  # nothing remote
    elif name == "action":
        assert web and tag == "form" and not urlsplit(lowered).scheme, (tag, value)
    else:
        assert name not in URL_ATTRIBUTES, (tag, name, value)
    if name == "style":
        assert "url(" not in lowered and "expression(" not in lowered, (tag, value)
    if tag == "meta" and name == "http-equiv":
        assert lowered in ("content-security-policy", "content-type"), value


class RecordingFetcher(TemplateAssetFetcher):
    """The project's PDF URL fetcher, remembering every URL WeasyPrint asked it for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.asked.append(url)
        return super().fetch(url, headers)

    def outside_templates(self) -> list[str]:
        """Return the URLs asked for that are not files in the templates folder."""
        return [url for url in self.asked if self.local_asset(url) is None]


def pdf_links(reader: PdfReader) -> list[str]:
    """Return the URI of every link annotation in a PDF (internal links have none)."""
    found = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                found.append(str(action["/URI"]))
    return found


FIGURES: list[tuple[str, str]] = []


def report_figure(name: str, text: str) -> None:
    """Keep a measured figure for the end-of-run summary (see conftest.py)."""
    FIGURES.append((name, text))


# (story id, label, [(article id, outlet, title, url, hours before the day's 07:00, text)])
ArticleSeed = tuple[str, str, str, str, float, str]
StorySeed = tuple[str, str, list[ArticleSeed]]


def seed_stories(store: Store, day: date, stories: list[StorySeed]) -> None:
    """Store stories, their articles and NLP results, as `briefing group` would leave them."""
    due = datetime.combine(day, time(7, 0), UTC)
    with store.session() as session:
        for story_id, label, articles in stories:
            times = [due - timedelta(hours=seed[4]) for seed in articles]
            session.add(
                Story(id=story_id, label=label, first_seen=min(times), last_seen=max(times))
            )
            session.add_all(_article(seed, due) for seed in articles)
            session.flush()
            for seed in articles:
                session.add(StoryArticle(article_id=seed[0], story_id=story_id))
                sentences = [part.strip() + "." for part in seed[5].split(".") if part.strip()]
                data = {"sentences": sentences, "entities": [], "quotes": []}
                session.add(ArticleNlp(article_id=seed[0], model="seeded", data=data))


def _article(seed: ArticleSeed, due: datetime) -> Article:
    article_id, outlet, title, url, hours, text = seed
    moment = due - timedelta(hours=hours)
    return Article(
        id=article_id,
        url=url,
        source=outlet,
        title=title,
        text=text,
        published_at=moment,
        fetched_at=moment,
        word_count=len(text.split()),
    )


# Exactly the headers a briefing message carries: anything else was injected.
MAIL_HEADERS = {
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "auto-submitted",
    "list-id",
    "list-unsubscribe",
    "mime-version",
    "content-type",
}
