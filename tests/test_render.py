"""Rendering: escaped, self-contained HTML; a PDF with outline, page numbers and metadata."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from markupsafe import escape
from pypdf import PdfReader
from support.briefings import composed
from support.stories import (
    CURLY,
    END,
    IMG,
    JS_URL,
    SCRIPT,
    STORIES,
    article,
    story,
)

from briefing.briefs.compose import Briefing, SourceLink
from briefing.output import borders
from briefing.output.links import safe_href
from briefing.output.render import (
    TEMPLATES_DIR,
    TemplateAssetFetcher,
    html_to_pdf,
    inline_variables,
    make_environment,
    print_sources,
    render_html,
    render_pdf,
    render_print_html,
)


def build(stories=STORIES) -> Briefing:  # type: ignore[no-untyped-def]
    return composed(stories, window_end=END, topic_order=("Arms talks",))


class RecordingFetcher(TemplateAssetFetcher):
    """The project's fetcher, remembering every URL it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def fetch(self, url, headers=None):
        self.asked.append(url)
        return super().fetch(url, headers)


@pytest.fixture(scope="module")
def briefing() -> Briefing:
    return build()


@pytest.fixture(scope="module")
def html(briefing: Briefing) -> str:
    return render_html(briefing)


@pytest.fixture(scope="module")
def fetcher() -> RecordingFetcher:
    return RecordingFetcher()


@pytest.fixture(scope="module")
def pdf(briefing: Briefing, fetcher: RecordingFetcher) -> PdfReader:
    return PdfReader(io.BytesIO(render_pdf(briefing, url_fetcher=fetcher)))


def page_texts(reader: PdfReader) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def outline_tree(reader: PdfReader) -> list[tuple[str, list[str]]]:
    """Return (section title, [story titles]) pairs from a two-level outline."""
    tree: list[tuple[str, list[str]]] = []
    for item in reader.outline:
        if isinstance(item, list):
            tree[-1][1].extend(child.title for child in item)
        else:
            tree.append((item.title, []))
    return tree


def test_autoescape_is_on_for_html_templates_and_strict() -> None:
    env = make_environment()
    assert env.autoescape("briefing.html.j2") is True
    assert env.autoescape("page.html") is True
    assert env.autoescape("message.txt.j2") is False
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    with pytest.raises(UndefinedError):
        env.from_string("{{ missing }}").render()


def test_html_holds_every_story_and_source_link(briefing: Briefing, html: str) -> None:
    for item in (*briefing.stories, *briefing.also_noted):
        assert str(escape(item.headline)) in html
        assert f'id="{item.anchor}"' in html
        for source in item.sources:
            assert str(escape(source.outlet)) in html
            if source.url.startswith("https://"):
                assert f'href="{escape(source.url)}"' in html
    assert len(briefing.stories) == 4 and [s.id for s in briefing.also_noted] == ["kakao"]
    assert 'href="https://evil.example/a?x=1&amp;y=2"' in html


def test_html_is_self_contained_with_no_active_content(html: str) -> None:
    lowered = html.lower()
    for needle in ("<script", "<img", "<link", "@import", "url(", "<iframe", "<object"):
        assert needle not in lowered
    assert not re.search(r"<[^>]*\s(src|srcset|on\w+)=", lowered)
    assert "<style>" in lowered and 'name="viewport"' in lowered


def test_hostile_text_is_inert_in_html(html: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert CURLY in html
    assert "49" not in html  # the fixture has no 49 anywhere: {{ 7*7 }} was not evaluated


def test_only_web_links_become_hrefs(html: str) -> None:
    assert 'href="javascript' not in html.lower()
    assert f'<span class="raw-url">{JS_URL}</span>' in html
    assert safe_href("https://example.org/x") == "https://example.org/x"
    for bad in (JS_URL, "file:///etc/passwd", "data:text/html,hi", "//evil.example", "http:///x"):
        assert safe_href(bad) is None


def test_pdf_text_holds_labels_outlets_and_inert_hostile_text(
    briefing: Briefing, pdf: PdfReader
) -> None:
    text = " ".join(page_texts(pdf))
    for item in (*briefing.stories, *briefing.also_noted):
        assert item.headline in text  # the headline, with the entity kicker above main stories
        assert all(source.outlet in text for source in item.sources)
    for item in briefing.stories:
        assert item.label.upper() in text
    assert f"Title {SCRIPT} {IMG} {CURLY}" in text
    assert "49" not in text


def test_pdf_outline_has_one_entry_per_story(briefing: Briefing, pdf: PdfReader) -> None:
    tree = outline_tree(pdf)
    assert [section for section, _ in tree] == ["Arms talks", "Other stories", "Also noted"]
    stories = [title for _, titles in tree for title in titles]
    assert stories == [item.headline for item in briefing.stories]  # bookmarks: headlines


def test_pdf_pages_are_numbered_and_contents_point_at_them(
    briefing: Briefing, pdf: PdfReader
) -> None:
    texts = page_texts(pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
    contents = pdf.pages[0].extract_text(extraction_mode="layout")
    entries = [
        item for entry in pdf.outline for item in (entry if isinstance(entry, list) else [entry])
    ]
    assert len(entries) == len(briefing.stories) + 3
    for item in entries:  # each contents line ends with the page its bookmark points at
        page = pdf.get_destination_page_number(item) + 1
        assert re.search(rf"^\s*{re.escape(item.title)}\s+{page}$", contents, re.MULTILINE)
    assert {pdf.get_destination_page_number(item) for item in entries} != {1}


def test_pdf_links_and_metadata(briefing: Briefing, pdf: PdfReader) -> None:
    uris = {
        annotation.get_object()["/A"].get("/URI")
        for page in pdf.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    }
    web = {source.url for item in briefing.stories for source in item.sources}
    assert {url for url in web if url.startswith("https://")} <= uris
    assert not any(uri and not uri.startswith("https://") for uri in uris)
    meta = pdf.metadata
    assert meta.title == "Morning Briefing — Tuesday 14 May 2024"
    assert meta.creator.startswith("news-briefing") and meta.author == "news-briefing"
    assert meta.creation_date is not None and meta.creation_date.year == 2024


def test_pdf_rendering_fetched_nothing_outside_templates(
    pdf: PdfReader, fetcher: RecordingFetcher
) -> None:
    assert len(pdf.pages) >= 2
    assert not any("passwd" in url or not url.startswith("file:") for url in fetcher.asked)


def test_fetcher_refuses_files_outside_templates_and_the_network(tmp_path: Path) -> None:
    asset = TemplateAssetFetcher()
    served = asset.fetch((TEMPLATES_DIR / "print.css").as_uri())
    assert b"@page" in served.read()
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    refused = [
        "file:///etc/passwd",
        outside.as_uri(),
        (TEMPLATES_DIR / ".." / "pyproject.toml").as_uri(),
        (TEMPLATES_DIR / "no-such-asset.css").as_uri(),
        "http://127.0.0.1:9/x.css",
        "https://example.org/x.css",
        "data:text/css,body{}",
        "file://remote-host/etc/passwd",
    ]
    for url in refused:
        with pytest.raises(PermissionError):
            asset.fetch(url)


def test_fetcher_does_not_follow_symlinks_out_of_its_folder(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    root.mkdir()
    (root / "ok.css").write_text("p {}")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.css").symlink_to(tmp_path / "secret.txt")
    asset = TemplateAssetFetcher(root)
    assert asset.fetch((root / "ok.css").as_uri()).read() == b"p {}"
    with pytest.raises(PermissionError):
        asset.fetch((root / "link.css").as_uri())


def test_fetcher_blocks_a_local_file_even_in_raw_markup(caplog: pytest.LogCaptureFixture) -> None:
    # Second line of defence: markup that escaped escaping still cannot read files or the net.
    fetcher = RecordingFetcher()
    raw = (
        '<p>x</p><img src="file:///etc/passwd"><link rel=stylesheet href="https://e.example/a.css">'
    )
    with caplog.at_level("WARNING", logger="briefing.output.render"):
        pdf = PdfReader(io.BytesIO(html_to_pdf(raw, url_fetcher=fetcher)))
    assert set(fetcher.asked) == {"file:///etc/passwd", "https://e.example/a.css"}
    refusals = [r.getMessage() for r in caplog.records if r.name == "briefing.output.render"]
    assert len(refusals) == 2 and all(m.startswith("Refused to fetch") for m in refusals)
    assert "root:" not in pdf.pages[0].extract_text()


def test_empty_day_renders_a_short_honest_briefing() -> None:
    empty = build(stories=())
    html = render_html(empty)
    assert "A quiet day" in html and "At a glance" not in html
    reader = PdfReader(io.BytesIO(render_pdf(empty)))
    text = " ".join(page_texts(reader))
    assert "A QUIET DAY" in text and f"Page 1 of {len(reader.pages)}" in text


def links(*outlets: str) -> list[SourceLink]:
    return [
        SourceLink(outlet, f"Title {n}", f"https://x.example/{n}", None, "time unknown", True)
        for n, outlet in enumerate(outlets)
    ]


def test_print_sources_names_every_outlet_and_keeps_order() -> None:
    many = links("A", "A", "B", "A", "C", "B", "A", "A", "A", "A", "C", "A")
    listed = print_sources(many, limit=8)
    assert [s.title for s in listed.shown] == [f"Title {n}" for n in (0, 1, 2, 3, 4, 5, 6, 7)]
    assert (listed.more, listed.more_outlets) == (4, ())
    spread = links(*"ABCDEFGHIJ", "A")
    listed = print_sources(spread, limit=8)
    assert [s.outlet for s in listed.shown] == list("ABCDEFGH")
    assert (listed.more, listed.more_outlets) == (3, ("I", "J"))


def test_print_html_lists_the_rest_in_one_line_and_screen_lists_all() -> None:
    articles = [
        article(f"m{n}", f"Outlet {n % 3}", n + 1, f"Headline {n}", "Markets fell sharply today.")
        for n in range(12)
    ]
    busy = build([story("busy", "A busy story", (), *articles)])
    printed = render_print_html(busy)
    assert "and 4 more articles: every link is in the HTML edition." in " ".join(printed.split())
    assert printed.count('href="https://outlet-') == 8
    assert render_html(busy).count('href="https://outlet-') == 12


def test_inline_variables_replaces_known_custom_properties() -> None:
    css = ':root { --ink: #111; --font: A, "B C",\n  serif; }'
    css += " p { color: var(--ink); font: var(--font); x: var(--none); }"
    out = inline_variables(css)
    assert "color: #111;" in out and 'font: A, "B C", serif;' in out and "var(--none)" in out


# The PDF child process imports WeasyPrint without find_library's compiler runs where it can.

_FAST_IMPORT = """
import ctypes.util, sys
calls = []
real = ctypes.util.find_library
ctypes.util.find_library = lambda name: calls.append(name) or real(name)
from briefing.output.pdf_worker import load_renderer
load_renderer()
sys.stdout.write(f"{len(calls)} calls")
"""

_ONLY_FIND_LIBRARY = """
import sys, cffi.api, ctypes.util
real = cffi.api._load_backend_lib
found = set()

def load(backend, name, flags):  # a platform where only find_library's answers load
    if isinstance(name, str) and name not in found:
        path = ctypes.util.find_library(name)
        if path is None:
            raise OSError(f"cannot load {name}")
        found.add(path)
        name = path
    return real(backend, name, flags)

cffi.api._load_backend_lib = load
from briefing.output.pdf_worker import load_renderer
html_to_pdf = load_renderer()
sys.stdout.buffer.write(html_to_pdf("<p>Port talks resume</p>")[:5])
"""


def test_the_pdf_child_imports_weasyprint_without_find_library_and_falls_back() -> None:
    fast = subprocess.run([sys.executable, "-c", _FAST_IMPORT], capture_output=True, timeout=120)
    assert fast.returncode == 0, fast.stderr.decode()[-2000:]
    assert fast.stdout == b"0 calls"
    fallback = subprocess.run(
        [sys.executable, "-c", _ONLY_FIND_LIBRARY], capture_output=True, timeout=120
    )
    assert fallback.returncode == 0, fallback.stderr.decode()[-2000:]
    assert fallback.stdout == b"%PDF-"  # nothing the failed first import printed


# Dotted rules: stroked, with the dots where WeasyPrint's own drawing puts them.

DOTTED = (
    '<div style="border-bottom: 1px dotted #d9d9de; width: 301.7px">a</div>'
    '<p style="border-top: 2px dotted #9b1c1c; border-bottom: 3px dotted #9b1c1c">b</p>'
    '<div style="border-left: 1.5px dotted #1a4f8b; height: 97px; margin: 4px">c</div>'
)
_NUMBER = r"(-?[\d.]+)"


def _content(pdf: bytes) -> str:
    return "".join(
        page.get_contents().get_data().decode("latin-1")
        for page in PdfReader(io.BytesIO(pdf)).pages
    )


def _curve_dots(content: str) -> list[tuple[float, float]]:
    """Centres of the dots WeasyPrint shows: a move to (x + r, y), four curves, inside the
    clip drawn before them (it draws one dot past the end of a side, clipped away)."""
    block = re.compile(r"q\n((?:[-\d. ]+ [ml]\n){4})W\*\nn\n(.*?)W\*\nn\n", re.S)
    dot = re.compile(rf"{_NUMBER} {_NUMBER} m\n((?:[-\d. ]+ c\n){{4}})h\n")
    found = []
    for clip in block.finditer(content):
        corners = [[float(n) for n in line.split()[:2]] for line in clip[1].splitlines()]
        xs, ys = sorted(x for x, _ in corners), sorted(y for _, y in corners)
        for match in dot.finditer(clip[2]):
            x, y = float(match[1]), float(match[2])
            left = float(match[3].splitlines()[1].split()[4])  # the second curve ends at x - r
            centre = ((x + left) / 2, y)
            if xs[0] < centre[0] < xs[-1] and ys[0] < centre[1] < ys[-1]:
                found.append(centre)
    return sorted(found)


def _stroked_dots(content: str) -> list[tuple[float, float]]:
    """Dots of stroked zero-length dashes: every pitch along the line, until its end."""
    line = re.compile(rf"\[0 {_NUMBER}\] 0 d\n{_NUMBER} {_NUMBER} m\n{_NUMBER} {_NUMBER} l\nS\n")
    found = []
    for match in line.finditer(content):
        pitch, x1, y1, x2, y2 = (float(value) for value in match.groups())
        length = abs(x2 - x1) + abs(y2 - y1)
        for step in range(int(length / pitch) + 1):
            along = step * pitch
            found.append((x1 + along, y1) if y1 == y2 else (x1, y1 + along))
    return sorted(found)


def test_dotted_rules_are_strokes_with_weasyprints_dots(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = _content(html_to_pdf(DOTTED))
    from weasyprint import draw

    monkeypatch.setattr(draw, "draw_border", borders._INSTALLED["draw_border"])
    theirs = _content(html_to_pdf(DOTTED))
    dots, stroked = _curve_dots(theirs), _stroked_dots(ours)
    assert len(dots) > 300 and not _stroked_dots(theirs) and not _curve_dots(ours)
    assert len(stroked) == len(dots)
    pairs = zip(stroked, dots, strict=True)
    assert max(max(abs(x - u), abs(y - v)) for (x, y), (u, v) in pairs) < 1e-4
    assert len(ours) < len(theirs) / 20


def test_dotted_borders_weasyprint_cuts_at_corners_are_left_to_it() -> None:
    html = (
        '<div style="border-bottom: 1px dotted red; border-left: 1px dotted red">a</div>'
        '<div style="border-bottom: 1px dotted red; border-radius: 3px">b</div>'
        '<div style="border-bottom: 1px dotted red; border-top: 1px solid red">c</div>'
    )
    content = _content(html_to_pdf(html))
    assert len(_curve_dots(content)) > 300 and not _stroked_dots(content)
