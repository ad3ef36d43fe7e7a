"""The PDF is accessible (PDF/UA-1: tagged, with headings and links in its structure tree)
and print-grade (60-75 characters a line, a full first page, no lone colophon page)."""

from __future__ import annotations

import io
import random
import shutil
import statistics
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from support.briefings import composed
from support.stories import END, article, story

from briefing.briefs.compose import Briefing
from briefing.output.render import render_pdf

WORDS = (
    "officials said the talks would resume next week after both sides agreed on a framework "
    "for inspections while the ministry warned that prices could rise again as exporters "
    "struggled with new rules and the central bank kept its key rate unchanged at its meeting"
).split()
XHTML = "{http://www.w3.org/1999/xhtml}"


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(14, 30))]
    return " ".join(words).capitalize() + "."


def long_day(stories: int = 8) -> Briefing:
    """A day like a real one: several stories of several outlets, with long summaries."""
    rng = random.Random(4)
    inputs = []
    for number in range(stories):
        articles = [
            article(
                f"s{number}a{index}",
                f"Outlet {index}",
                1 + index + number / 10,
                f"Headline {number}.{index} about the talks",
                *(sentence(rng) for _ in range(8)),
            )
            for index in range(2 + number % 3)
        ]
        inputs.append(story(f"s{number}", f"Story number {number}", (), *articles))
    return composed(inputs, window_end=END, topic_order=("Arms talks",))


@pytest.fixture(scope="module")
def document() -> tuple[Briefing, bytes]:
    briefing = long_day()
    return briefing, render_pdf(briefing)


def resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def structure(element: Any, found: Counter[str], links: list[Any]) -> None:
    """Walk the structure tree, counting element types and keeping the Link elements."""
    element = resolve(element)
    if not isinstance(element, DictionaryObject):
        return
    kind = str(element.get("/S", ""))
    if kind:
        found[kind.lstrip("/")] += 1
        if kind == "/Link":
            links.append(element)
    kids = resolve(element.get("/K"))
    for kid in kids if isinstance(kids, ArrayObject) else [kids]:
        structure(kid, found, links)


def test_the_pdf_is_tagged_with_headings_lists_and_links(document: tuple[Briefing, bytes]) -> None:
    briefing, data = document
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert str(root["/MarkInfo"]["/Marked"]) in ("True", "true")
    assert str(root["/Lang"]) == "en"
    assert str(root["/ViewerPreferences"]["/DisplayDocTitle"]) in ("True", "true")
    assert root["/PageMode"] == "/UseOutlines"  # the bookmarks panel opens with the file
    xmp = resolve(root["/Metadata"]).get_data().decode()
    assert "pdfuaid:part" in xmp and "Morning Briefing" in xmp  # claims PDF/UA-1, has dc:title

    found: Counter[str] = Counter()
    link_elements: list[Any] = []
    structure(root["/StructTreeRoot"], found, link_elements)
    stories = len(briefing.stories) + len(briefing.also_noted)
    assert found["H1"] == 1 and found["H2"] >= 2 and found["H3"] >= stories
    assert found["L"] >= stories and found["LI"] >= stories  # sources are lists
    annotations = [
        resolve(annotation)
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if resolve(annotation)["/Subtype"] == "/Link"
    ]
    assert annotations and len(link_elements) >= len({id(a) for a in annotations}) / 2
    for annotation in annotations:  # each link is described and sits in the tree
        assert str(annotation.get("/Contents", "")).strip()
        assert "/StructParent" in annotation
    for annotation in annotations:  # an outside link: its text, then where it leads
        if "/A" in annotation:
            uri = str(resolve(annotation["/A"])["/URI"])
            assert str(annotation["/Contents"]).endswith(f" ({uri})")
    source = briefing.stories[0].sources[0]
    described = {str(annotation["/Contents"]) for annotation in annotations}
    assert f"{source.title} ({source.url})" in described


def text_blocks(data: bytes, tmp_path: Path) -> list[list[tuple[list[str], float]]]:
    """Return, per page, each text block's lines and its bottom edge (share of the height)."""
    pdf = tmp_path / "briefing.pdf"
    pdf.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    pages = []
    for page in ElementTree.fromstring(out).iter(f"{XHTML}page"):
        height = float(page.get("height", "1"))
        blocks = []
        for block in page.iter(f"{XHTML}block"):
            lines = [
                " ".join(word.text or "" for word in line.iter(f"{XHTML}word"))
                for line in block.iter(f"{XHTML}line")
            ]
            blocks.append((lines, float(block.get("yMax", "0")) / height))
        pages.append(blocks)
    return pages


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_lines_are_60_to_75_characters_and_pages_are_used(
    document: tuple[Briefing, bytes], tmp_path: Path
) -> None:
    _briefing, data = document
    pages = text_blocks(data, tmp_path)
    assert len(pages) >= 3
    # Full lines of running text: every line of a paragraph of three or more but its last.
    full = [
        len(line)
        for blocks in pages
        for lines, _y in blocks
        if len(lines) >= 3
        for line in lines[:-1]
    ]
    assert len(full) > 40
    assert 60 <= statistics.median(full) <= 75, statistics.median(full)
    assert statistics.quantiles(full, n=10)[-1] <= 76
    # Every page but the last is used to its foot (the running foot aside): page 1 flows on
    # into the stories, and no paragraph kept whole leaves a page half blank.
    for number, blocks in enumerate(pages[:-1], start=1):
        body = [y for _lines, y in blocks if y < 0.9]
        assert max(body) > 0.8, f"page {number} ends at {max(body):.0%} of its height"
    # The last page holds more than the colophon and the running head and foot.
    last = [line for lines, _y in pages[-1] for line in lines]
    colophon = next(i for i, line in enumerate(last) if line.startswith("Summaries, updates"))
    assert colophon > 2, last[:5]


def test_the_window_counts_agree_with_each_story() -> None:
    briefing = long_day()
    counts = briefing.counts
    for item in briefing.stories:
        assert item.article_count <= counts.articles and item.outlet_count <= counts.outlets
    assert counts.articles == sum(
        s.article_count for s in (*briefing.stories, *briefing.also_noted)
    )
    assert END - timedelta(hours=24) <= briefing.window_start + timedelta(seconds=1)
