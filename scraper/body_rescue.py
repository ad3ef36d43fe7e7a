"""Second chances for a body the main extractor missed or cut short.

A page rendered by JavaScript carries its article in a script (JSON-LD articleBody, or the
HTML a framework hydrates); a page whose text sits in an oddly named container loses all
but its first paragraph to trafilatura's boilerplate rules.
"""

from __future__ import annotations

import html as html_lib
import re

from lxml.html import HtmlElement

from scraper.language import count_words
from scraper.metadata import json_ld_objects

TAG = re.compile(r"<[^>]+>")
LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
MIN_CHUNK_WORDS = 5
MAX_LINK_SHARE = 0.5
# One level of JSON or JavaScript string escaping: \uXXXX, \", \\, \/, \n…
ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")
SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
ESCAPE_LEVELS = 3
SCRIPT_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p>", re.IGNORECASE | re.DOTALL)
MIN_SCRIPT_PARAGRAPHS = 3
MAX_SCRIPT_CHARS = 5_000_000
# Containers whose paragraphs are not the story, whatever their class says.
NOT_BODY_TAGS = frozenset({"nav", "aside", "footer", "form", "header", "figcaption"})
# Readers' comments under a short post are not the post (trafilatura leaves them out too).
COMMENTS = re.compile(r"comment|disqus|respon[sd]|repl(?:y|ies)", re.IGNORECASE)
ANCESTOR_LEVELS = 3
OPENING_LINES = 3
# The text around the opening replaces the extracted one only when it holds this much more.
MIN_GAIN = 2.0


def paragraph_text(paragraph: HtmlElement) -> str:
    """Return a paragraph's text if it reads like prose: long enough, mostly not links."""
    text = " ".join(paragraph.text_content().split())
    if count_words(text) < MIN_CHUNK_WORDS:
        return ""
    linked = sum(len(a.text_content()) for a in paragraph.iter("a"))
    return text if linked < len(text) * MAX_LINK_SHARE else ""


def json_ld_body(tree: HtmlElement) -> str:
    """Return the longest JSON-LD articleBody as paragraphs (pages rendered by JavaScript)."""
    bodies = [
        o["articleBody"] for o in json_ld_objects(tree) if isinstance(o.get("articleBody"), str)
    ]
    if not bodies:
        return ""
    text = TAG.sub(" ", html_lib.unescape(max(bodies, key=len)))
    return "\n\n".join(" ".join(p.split()) for p in text.splitlines() if p.strip())


def script_body(tree: HtmlElement) -> str:
    """Return the paragraphs of article HTML embedded in a script, e.g. a framework's payload."""
    best: list[str] = []
    for script in tree.iterfind(".//script"):
        source = script.text or ""
        if script.get("src") or len(source) > MAX_SCRIPT_CHARS or "\\u003cp" not in source:
            continue
        paragraphs = _script_paragraphs(_unescape(source))
        if sum(map(len, paragraphs)) > sum(map(len, best)):
            best = paragraphs
    return "\n\n".join(best) if len(best) >= MIN_SCRIPT_PARAGRAPHS else ""


def _unescape(source: str) -> str:
    """Undo string escaping until the HTML inside shows (payloads nest JSON in JavaScript)."""
    for _ in range(ESCAPE_LEVELS):
        if "\\u003c" not in source.lower():
            break
        source = ESCAPE.sub(_unescaped, source)
    return source


def _unescaped(match: re.Match[str]) -> str:
    code = match.group(1)
    if code.startswith("u"):
        return chr(int(code[1:], 16))
    return SIMPLE_ESCAPES.get(code, code)


def _script_paragraphs(source: str) -> list[str]:
    """Return the distinct prose paragraphs of the HTML in a script, in order."""
    found: dict[str, None] = {}
    for match in SCRIPT_PARAGRAPH.finditer(source):
        # inline tags (<strong>) sit inside words in scripts without spaces: drop them bare
        text = " ".join(html_lib.unescape(TAG.sub("", LINE_BREAK.sub(" ", match.group(1)))).split())
        if count_words(text) >= MIN_CHUNK_WORDS:
            found.setdefault(text, None)
    return list(found)


def prose_around(tree: HtmlElement, lines: list[str]) -> list[str]:
    """Return the paragraphs around the extracted opening when they hold far more prose.

    trafilatura drops containers whose class looks like boilerplate ("footer-text"), and
    with them all but the first paragraph of some articles; the story is still there, in the
    paragraphs next to the one it kept. Empty when nothing better is found.
    """
    opening = _opening_paragraph(tree, lines)
    if opening is None:
        return []
    extracted = sum(count_words(line) for line in lines)
    for ancestor in list(opening.iterancestors())[:ANCESTOR_LEVELS]:
        if ancestor.tag in ("body", "html"):
            break
        paragraphs = [
            text
            for paragraph in ancestor.iter("p")
            if not _in_chrome(paragraph, ancestor) and (text := paragraph_text(paragraph))
        ]
        if sum(map(count_words, paragraphs)) >= extracted * MIN_GAIN:
            return paragraphs
        if ancestor.tag in ("article", "main"):  # the story's own container: go no wider
            break
    return []


def _opening_paragraph(tree: HtmlElement, lines: list[str]) -> HtmlElement | None:
    """Find the <p> of one of the first extracted lines (the headline is not a paragraph)."""
    for line in lines[:OPENING_LINES]:
        if count_words(line) < MIN_CHUNK_WORDS:
            continue
        found = tree.xpath("//p[starts-with(normalize-space(.), $start)]", start=line[:40])
        if found:
            return found[0]
    return None


def _in_chrome(paragraph: HtmlElement, container: HtmlElement) -> bool:
    """Tell whether a paragraph sits in navigation, an aside, a form or comments."""
    for ancestor in paragraph.iterancestors():
        if ancestor is container:
            return False
        if ancestor.tag in NOT_BODY_TAGS or COMMENTS.search(
            f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"
        ):
            return True
    return False
