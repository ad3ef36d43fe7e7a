"""Property-based rendering: any labels, titles and text reach the HTML, PDF and mail escaped.

Each generated story carries ASCII markers (M0q, T0a1q, …) so that its text can be found in
every output whatever Unicode surrounds it; the rest of each value is arbitrary text mixed
with script tags, event handlers, javascript: links, CR/LF header breaks and CSS url().
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from pypdf import PdfReader
from reliability_support import (
    MAIL_HEADERS,
    RecordingFetcher,
    assert_inert_html,
    hostile_text,
    pdf_links,
)

from briefing.addresses import parse_sender
from briefing.briefs.compose import Briefing, SourceArticle, StoryInput, compose
from briefing.mail.message import Recipient, build_message
from briefing.output.display import BIDI_CONTROLS, strip_bidi
from briefing.output.render import render_html, render_pdf

END = datetime(2024, 5, 13, 22, 0, tzinfo=UTC)
SENDER = parse_sender("Morning Briefing <briefing@example.org>")
urls = st.one_of(
    st.builds(lambda slug: f"https://news.example.org/a/{slug}", st.text(max_size=20)),
    st.sampled_from(["javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x"]),
    hostile_text(2),
)


@st.composite
def stories(draw: st.DrawFn) -> list[StoryInput]:
    """Two or three stories, each with articles from two or three outlets."""
    result = []
    for s in range(draw(st.integers(2, 3))):
        articles = []
        for a in range(draw(st.integers(2, 3))):
            articles.append(
                SourceArticle(
                    id=f"s{s}a{a}",
                    outlet=f"O{s}a{a}q {draw(hostile_text(2))}",
                    title=f"T{s}a{a}q {draw(hostile_text())}",
                    url=draw(urls),
                    published_at=END - timedelta(hours=draw(st.integers(1, 20))),
                    sentences=tuple(draw(st.lists(hostile_text(), min_size=1, max_size=3))),
                    quotes=((draw(hostile_text()), draw(hostile_text(2))),),
                )
            )
        label = f"M{s}q {draw(hostile_text())}"
        result.append(StoryInput(f"s{s}", label, "new", (), (), tuple(articles)))
    return result


def briefing_of(inputs: list[StoryInput], title: str = "Morning Briefing") -> Briefing:
    return compose(
        inputs,
        day=date(2024, 5, 14),
        title=title,
        timezone="Asia/Seoul",
        window_start=END - timedelta(hours=24),
        window_end=END,
        generated_at=END,
    )


def markers(briefing: Briefing) -> list[str]:
    """The ASCII markers of every story label, source title and outlet shown."""
    found = []
    for story in briefing.stories:
        found.append(story.label.split()[0])
        found += [source.title.split()[0] for source in story.sources]
        found += [source.outlet.split()[0] for source in story.sources]
    return found


@settings(max_examples=40, deadline=None)
@given(stories(), hostile_text())
def test_any_text_reaches_the_html_escaped(inputs: list[StoryInput], title: str) -> None:
    briefing = briefing_of(inputs, title)
    assert len(briefing.stories) == len(inputs)
    html = render_html(briefing)
    assert_inert_html(html, styles=1)
    assert not set(html) & set(BIDI_CONTROLS)  # nothing can reverse or disguise text
    for story in briefing.stories:
        assert str(escape(strip_bidi(story.label))) in html
        for source in story.sources:
            assert str(escape(strip_bidi(source.title))) in html
            assert str(escape(strip_bidi(source.outlet))) in html
    assert str(escape(strip_bidi(title))) in html


def mail_of(briefing: Briefing, name: str) -> EmailMessage:
    message = build_message(
        briefing,
        Recipient(email="desk@example.org", name=name),
        sender=SENDER,
        message_id="<1@example.org>",
        now=END,
        pdf=b"%PDF-1.4 stand-in",
    )
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


@settings(max_examples=40, deadline=None)
@given(stories(), hostile_text(), hostile_text())
def test_any_text_reaches_the_mail_without_breaking_headers(
    inputs: list[StoryInput], title: str, name: str
) -> None:
    briefing = briefing_of(inputs, title)
    parsed = mail_of(briefing, name)
    assert {key.lower() for key in parsed} == MAIL_HEADERS
    assert len(parsed.keys()) == len(MAIL_HEADERS)  # each exactly once: nothing injected
    for key, value in parsed.items():
        assert "\r" not in str(value) and "\n" not in str(value), (key, value)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["desk@example.org"]
    # The subject names the top story by its headline, one of its articles' titles.
    assert briefing.stories[0].headline.split()[0] in str(parsed["Subject"])
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    assert_inert_html(html_body, styles=None)
    for marker in markers(briefing):
        assert marker in text_body and marker in html_body, marker
    assert [part.get_filename() for part in parsed.iter_attachments()] == [
        "briefing-2024-05-14.pdf"
    ]


@pytest.mark.slow
@settings(max_examples=3, deadline=None)
@given(stories())
def test_any_text_reaches_the_pdf_and_nothing_is_fetched(inputs: list[StoryInput]) -> None:
    briefing = briefing_of(inputs)
    fetcher = RecordingFetcher()
    pdf = render_pdf(briefing, url_fetcher=fetcher)
    assert fetcher.outside_templates() == []
    reader = PdfReader(io.BytesIO(pdf))
    # Some fonts come out of pypdf as UTF-16 with NULs between the letters.
    text = " ".join(page.extract_text().replace("\x00", "") for page in reader.pages)
    text = " ".join(text.split())
    for marker in (story.headline.split()[0] for story in briefing.stories):
        # A right-to-left override in the text may reverse a marker's glyph order.
        assert marker in text or marker[::-1] in text, marker
    for link in pdf_links(reader):
        assert link.startswith(("https://", "http://")), link
    assert b"/JavaScript" not in pdf and b"/Launch" not in pdf


HOUR = END - timedelta(hours=1)
SIMPLE = [
    StoryInput(
        f"s{s}",
        f"M{s}q story",
        "new",
        (),
        (),
        tuple(
            SourceArticle(f"s{s}a{a}", f"O{s}a{a}q", f"T{s}a{a}q", "https://x.example/a", HOUR, ())
            for a in range(2)
        ),
    )
    for s in range(2)
]


@pytest.mark.parametrize(
    ("title", "name"),
    [  # what the properties above first found: each broke the message before the fix
        ("=?utf-8?q?=0D=0ABcc:_x@example.org?=", "Desk"),
        ("Briefing", "=?utf-8?q?=0D=0ABcc:_x@example.org?="),
        ("Briefing", "<iframe src=//evil.example></iframe>=?utf-8?q?=0D=0ABcc:_x@example.org?="),
        (
            "Briefing",
            "<style>@import 'http://evil.example/x.css';</style>" + "\"'><svg onload=alert(1)>",
        ),
        ("Briefing", "Seoul desk, Morning Briefing (Example News Corporation, International)"),
    ],
)
def test_header_breaking_names_and_titles_stay_in_their_header(title: str, name: str) -> None:
    parsed = mail_of(briefing_of(SIMPLE, title), name)
    assert {key.lower() for key in parsed} == MAIL_HEADERS
    assert [a.addr_spec for a in parsed["To"].addresses] == ["desk@example.org"]
    for key, value in parsed.items():
        assert "\r" not in str(value) and "\n" not in str(value), (key, value)
    head = parsed.as_string().split("\n\n", 1)[0]
    assert not [line for line in head.splitlines() if line.lower().startswith("bcc")]
    # the top story's headline: the title of one of its articles
    assert any(f"T{s}a{a}q" in str(parsed["Subject"]) for s in range(2) for a in range(2))
