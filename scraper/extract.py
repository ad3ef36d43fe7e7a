"""Turn a fetched HTML page into an article record: body text, title, authors, date, language."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from scraper.language import detect_language
from scraper.metadata import PageMetadata, json_ld_objects, parse_date, read_metadata, text_of

logger = logging.getLogger(__name__)

# Pages beyond this are not articles worth the parse time (the crawler caps downloads too).
MAX_HTML_CHARS = 8_000_000
# Below this, trafilatura probably missed the article and a JSON-LD articleBody may do better.
SHORT_BODY_CHARS = 250
TOKEN = re.compile(r"\w+")
DATE_LIKE = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d\d|\b(?:19|20)\d\d\b.*\b(?:jan|feb|m[aä]r|apr|ma[iy]"
    r"|jun|jul|aug|sep|o[ck]t|nov|de[cz])|\b(?:jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t"
    r"|nov|de[cz])\w*\.?\s+\d{1,2}",
    re.IGNORECASE,
)
BYLINE_LINE = re.compile(
    r"^(?:by|von|por|par|door|av|di|af|text|published|updated|posted|aktualisiert|veröffentlicht"
    r"|publicado|publié|reading time|lesezeit|tempo de leitura|\d+\s*min(?:ute)?s?\s+read)\b",
    re.IGNORECASE,
)
BOILERPLATE_LINE = re.compile(
    r"^(?:follow (?:us|.{1,60}?(?:facebook|twitter|instagram|linkedin|youtube|tiktok|bluesky))"
    r"|subscribe|sign up|share (?:this|on)|like this|read more|more:|see more"
    r"|related(?: articles| stories| content)?:?|tags?:?|filed under|source:|copyright|©|\(c\)"
    r"|all rights reserved|\d*\s*comments?|leave a (?:comment|reply)|click here|advertisement"
    r"|get the latest|get access|newsletter|download (?:the|our) app|listen to|watch:|also on"
    r"|mehr zum thema|lesen sie auch|weitere artikel|leia também|veja também|lea también"
    r"|lire aussi|leggi anche|\w+(?: \w+)? contributed (?:to this report|reporting)"
    r"|additional reporting by|have a tip)",
    re.IGNORECASE,
)
LINK_LINE_LABEL = re.compile(
    r"^(?:related|see more|read more|read also|also read|also on \S+|more|watch|listen|don't miss"
    r"|lesen sie auch|mehr dazu|leia também|lea también|lire aussi|leggi anche)\s*[:|-]?\s*",
    re.IGNORECASE,
)
MAX_BOILERPLATE_WORDS = 30
# The headline is looked for among the first lines only; what precedes it must be short.
LEADING_WINDOW = 5
MAX_KICKER_WORDS = 8
# trafilatura's fast pass skips its comparison with readability and justext (half the cost);
# a body shorter than this suggests the main extractor missed the article, so retry in full.
RETRY_BELOW_CHARS = 500


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """One page's article record, ready for the item pipelines."""

    title: str | None
    text: str  # body text, paragraphs joined by "\n\n"
    authors: list[str]  # clean names, no "By ", no duplicates
    published_at: datetime | None  # timezone-aware, UTC
    language: str | None  # ISO 639-1
    canonical_url: str | None  # absolute
    page_type: str | None  # "article", else what the page declares, or None


def extract_article(
    html: str, url: str, *, default_language: str | None = None
) -> ExtractedArticle:
    """Extract the article from a decoded page; never raise, return empty text on failure."""
    try:
        return _extract(html, url, default_language)
    except Exception:  # a bad page must not stop a crawl: it yields an empty record
        logger.debug("extraction failed for %s", url, exc_info=True)
        return _empty(default_language)


def _empty(language: str | None) -> ExtractedArticle:
    return ExtractedArticle(None, "", [], None, language, None, None)


def _extract(html: str, url: str, default_language: str | None) -> ExtractedArticle:
    if not isinstance(html, str) or not html.strip() or len(html) > MAX_HTML_CHARS:
        return _empty(default_language)
    tree = load_html(html.replace("\x00", ""))
    if tree is None:
        return _empty(default_language)
    meta = read_metadata(tree, url)
    text = extract_body(tree, url, meta)
    published_at = meta.published_at
    if published_at is None and meta.page_type in (None, "article"):
        # a listing or home page has no publishing date, only its teasers' dates
        published_at = _date_from_htmldate(tree, url)
    return ExtractedArticle(
        title=meta.title,
        text=text,
        authors=meta.authors,
        published_at=published_at,
        language=detect_language(text or meta.title or "", meta.html_lang, default_language),
        canonical_url=meta.canonical_url,
        page_type=meta.page_type,
    )


def extract_body(tree: HtmlElement, url: str, meta: PageMetadata) -> str:
    """Return the body text: trafilatura's main text, cleaned of titles, bylines and link lists."""
    raw = _trafilatura_text(tree, url, fast=True)
    if len(raw) < RETRY_BELOW_CHARS:
        raw = max(raw, _trafilatura_text(tree, url, fast=False), key=len)
    lines = [" ".join(line.split()) for line in (raw or "").split("\n")]
    lines = [line for line in lines if line]
    titles = [meta.title, *meta.title_candidates] if meta.title else meta.title_candidates
    lines = _drop_leading_noise(lines, titles)
    lines = _drop_link_lines(lines, _anchor_texts(tree))
    lines = _drop_trailing_boilerplate(lines)
    text = "\n\n".join(lines)
    if len(text) < SHORT_BODY_CHARS:
        text = max(text, _json_ld_body(tree), key=len)
    return text


def _trafilatura_text(tree: HtmlElement, url: str, *, fast: bool) -> str:
    """Run trafilatura in precision mode; fast skips its readability/justext comparison."""
    text = trafilatura.extract(
        tree, url=url, fast=fast, favor_precision=True, include_comments=False, deduplicate=False
    )
    return text or ""


def _normalise(text: str) -> str:
    return " ".join(TOKEN.findall(text.casefold()))


def _drop_leading_noise(lines: list[str], titles: list[str]) -> list[str]:
    """Drop the kicker, headline, dateline and byline kept above the first paragraph."""
    head = lines[:LEADING_WINDOW]
    normalised_titles = [_normalise(t) for t in titles]
    start = 0
    for index, line in enumerate(head[:-1]):
        if _is_title(_normalise(line), normalised_titles):
            # what precedes the headline (kicker, section, breadcrumb) goes with it when short
            if all(len(before.split()) <= MAX_KICKER_WORDS for before in head[:index]):
                start = index + 1
            break
    while start < len(head) - 1 and _is_dateline(lines[start]):
        start += 1
    return lines[start:]


def _is_title(line: str, titles: list[str]) -> bool:
    return bool(line) and any(line == t or (len(line) > 20 and t.startswith(line)) for t in titles)


def _is_dateline(line: str) -> bool:
    if len(line.split()) > 12:
        return False
    return bool(DATE_LIKE.search(line)) or bool(BYLINE_LINE.match(line))


def _anchor_texts(tree: HtmlElement) -> set[str]:
    """Collect the normalised text of every link with at least four words."""
    texts = set()
    for anchor in tree.iter("a"):
        norm = _normalise(anchor.text_content())
        if norm.count(" ") >= 3:
            texts.add(norm)
    return texts


def _drop_link_lines(lines: list[str], anchors: set[str]) -> list[str]:
    """Drop lines that are nothing but a link to another page (related-article teasers)."""
    if not anchors:
        return lines
    kept = []
    for line in lines:
        unlabelled = _normalise(LINK_LINE_LABEL.sub("", line.lstrip("-•* ")))
        if unlabelled in anchors and len(line.split()) <= MAX_BOILERPLATE_WORDS:
            continue
        kept.append(line)
    return kept if kept else lines


def _drop_trailing_boilerplate(lines: list[str]) -> list[str]:
    """Drop share/follow/subscribe/copyright lines at the end of the text."""
    end = len(lines)
    while end > 1:
        line = lines[end - 1]
        if len(line.split()) > MAX_BOILERPLATE_WORDS or not BOILERPLATE_LINE.match(line):
            break
        end -= 1
    return lines[:end]


def _json_ld_body(tree: HtmlElement) -> str:
    bodies = (text_of(obj.get("articleBody")) for obj in json_ld_objects(tree))
    return max((b for b in bodies if b), key=len, default="")


def _date_from_htmldate(tree: HtmlElement, url: str) -> datetime | None:
    """Find the publishing date in the page text and URL when no metadata gives it."""
    from htmldate import find_date

    try:
        found = find_date(tree, url=url, original_date=True, outputformat="%Y-%m-%d %H:%M:%S")
    except Exception:  # htmldate is a best-effort fallback
        logger.debug("htmldate failed for %s", url, exc_info=True)
        return None
    return parse_date(found)
