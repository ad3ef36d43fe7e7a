"""Turn a fetched HTML page into an article record: body text, title, authors, date, language."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from briefing.limits import clip_authors, clip_body, clip_title
from scraper.body_rescue import json_ld_body, paragraph_text, prose_around, script_body
from scraper.dates import first_date, parse_date
from scraper.language import count_words, detect_language
from scraper.metadata import PageMetadata, read_metadata
from scraper.prose import LISTING_TYPES, SENTENCE_END, reads_as_article

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
    r"|lire aussi|leggi anche|.{0,60}\bcontributed (?:to this report|reporting)"
    r"|additional reporting by|have a tip|tell us what you think|updated\b.{0,40}\d)",
    re.IGNORECASE,
)
# Anywhere in a short closing line: promotion, legal notice, or a way to reach the author.
CLOSING_PROMO = re.compile(
    r"newsletter|subscribe|sign(?:ing)? up|inbox|all rights reserved|copyright|©|https?://|\b\S+@\S+\.\w+",
    re.IGNORECASE,
)
MAX_PROMO_WORDS = 25
# The marker a wire story or press release ends with: Yonhap's "(END)", "(끝)", "###", "-0-".
END_MARKER = re.compile(
    r"^\s*(?:[(\[]\s*(?:end|끝|完|fin|ende)\s*[)\]]|#{3}|-0-|-\s*end\s*-)\s*$", re.I
)
MAX_LINES_UNDER_HEADER = 2
# A heading over a list of other articles or tags; what follows it at the end goes too.
SECTION_HEADER = re.compile(
    r"^(?:tags?|related(?: \w+)?|most (?:read|popular|viewed)\b.*|don'?t miss"
    r"|read (?:more|next|also)|more from .*|see also|you may also like|recommended(?: for you)?"
    r"|top stories|trending(?: now)?"
    r"|mehr zum thema|weitere artikel|lesen sie (?:auch|mehr)|das könnte sie auch interessieren"
    r"|leia (?:também|mais)|veja também|lea también|más noticias|(?:à )?lire aussi|leggi anche)"
    r"\s*:?$",
    re.IGNORECASE,
)
LINK_LINE_LABEL = re.compile(
    r"^(?:related|see more|read more|read also|also read|also on \S+|more|watch|listen|don't miss"
    r"|lesen sie auch|mehr dazu|leia também|lea también|lire aussi|leggi anche)\s*[:|-]?\s*",
    re.IGNORECASE,
)
MAX_BOILERPLATE_WORDS = 30
# A split body's chunks sit within this many levels of a common ancestor.
CHUNK_ANCESTOR_LEVELS = 2
BODY_CLASS = re.compile(r"body|article|content|text|story|chunk|entry|paragraph|richtext", re.I)
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
    html: str,
    url: str,
    *,
    default_language: str | None = None,
    feed_date: datetime | None = None,
) -> ExtractedArticle:
    """Extract the article from a decoded page; never raise, return empty text on failure.

    feed_date: the time the RSS/Atom item listing the page gave; it dates an article page
    whose own metadata gives no date, instead of htmldate's reading of its text.
    """
    try:
        return _extract(html, url, default_language, feed_date)
    except Exception:  # a bad page must not stop a crawl: it yields an empty record
        logger.debug("extraction failed for %s", url, exc_info=True)
        return _empty(default_language)


def _empty(language: str | None) -> ExtractedArticle:
    return ExtractedArticle(None, "", [], None, language, None, None)


def _extract(
    html: str, url: str, default_language: str | None, feed_date: datetime | None
) -> ExtractedArticle:
    if not isinstance(html, str) or not html.strip() or len(html) > MAX_HTML_CHARS:
        return _empty(default_language)
    tree = load_html(html.replace("\x00", ""))
    if tree is None:
        return _empty(default_language)
    meta = read_metadata(tree, url)
    try:
        text = extract_body(tree, url, meta)
    except Exception:  # keep the metadata of a page whose body defeats the extractor
        logger.debug("body extraction failed for %s", url, exc_info=True)
        text = ""
    language = detect_language(text or meta.title or "", meta.html_lang, default_language)
    body = clip_body(text)
    return ExtractedArticle(
        title=clip_title(meta.title) if meta.title else meta.title,
        text=body,
        authors=clip_authors(meta.authors),
        published_at=_published(meta, language)
        or _feed_date(meta, body, feed_date)
        or _text_date(tree, url, meta, text),
        language=language,
        canonical_url=meta.canonical_url,
        page_type=meta.page_type,
    )


def _published(meta: PageMetadata, language: str | None) -> datetime | None:
    """Date the page by its metadata, reading numeric dates in its language's order."""
    if language and language != meta.html_lang:  # the declaration was site-wide, or absent
        return first_date(meta.date_values, language)
    return meta.published_at


def _feed_date(meta: PageMetadata, body: str, feed_date: datetime | None) -> datetime | None:
    """Return the feed's date for a page the crawl keeps as an article whatever its date.

    That is a page declaring itself an article, or reading as one (the pipeline's test, on
    the same clipped text): for the others, whether the page shows a date decides whether
    it is kept, so their text is still read. The feed dates the item; htmldate's reading of
    the text costs 4 ms a page, and its first unusual date string loads dateparser's 200
    locales (1.5 s of CPU).
    """
    if feed_date is None:
        return None
    kind = (meta.page_type or "").lower()
    return feed_date if kind == "article" or _dated_in_text(kind, body) else None


def _text_date(tree: HtmlElement, url: str, meta: PageMetadata, text: str) -> datetime | None:
    """Find a date in the page's text and URL, for an article (or a page reading as one).

    A listing or home page has no publishing date, only its teasers' dates.
    """
    kind = (meta.page_type or "").lower()
    if kind in ("", "article") or _dated_in_text(kind, text):
        return _date_from_htmldate(tree, url)
    return None


def _dated_in_text(kind: str, text: str) -> bool:
    """Tell whether a page of another declared type may take its date from its text."""
    return kind not in LISTING_TYPES and reads_as_article(text)


def extract_body(tree: HtmlElement, url: str, meta: PageMetadata) -> str:
    """Return the body text: trafilatura's main text, cleaned of titles, bylines and link lists."""
    raw = _trafilatura_text(tree, url, fast=True)
    if len(raw) < RETRY_BELOW_CHARS:
        raw = max(raw, _trafilatura_text(tree, url, fast=False), key=len)
    lines = [" ".join(line.split()) for line in (raw or "").split("\n")]
    lines = _add_split_chunks(tree, [line for line in lines if line])
    if len(raw) < RETRY_BELOW_CHARS:  # short even in full mode: cut short, perhaps
        lines = prose_around(tree, lines) or lines
    titles = [meta.title, *meta.title_candidates] if meta.title else meta.title_candidates
    lines = _drop_leading_noise(lines, titles)
    lines = _drop_link_lines(lines, _anchor_texts(tree))
    lines = _drop_trailing_boilerplate(lines)
    text = "\n\n".join(lines)
    if len(text) < SHORT_BODY_CHARS:
        text = max(text, json_ld_body(tree), script_body(tree), key=len)
    return text


def _trafilatura_text(tree: HtmlElement, url: str, *, fast: bool) -> str:
    """Run trafilatura in precision mode; fast skips its readability/justext comparison."""
    text = trafilatura.extract(
        tree, url=url, fast=fast, favor_precision=True, include_comments=False, deduplicate=False
    )
    return text or ""


def _add_split_chunks(tree: HtmlElement, lines: list[str]) -> list[str]:
    """Add the rest of a body split over repeated containers; trafilatura keeps only one."""
    container = _repeated_container(tree, lines)
    if container is None:
        return lines
    known = _normalise(" ".join(lines))
    before: list[str] = []
    after: list[str] = []
    chunks = tree.xpath("//*[@class=$cls]", cls=container.get("class"))
    near = set(list(container.iterancestors())[:CHUNK_ANCESTOR_LEVELS])
    for position, chunk in enumerate(chunks):
        if chunk is container or near.isdisjoint(
            list(chunk.iterancestors())[:CHUNK_ANCESTOR_LEVELS]
        ):
            continue
        found = [text for text in map(paragraph_text, chunk.iter("p")) if text]
        found = [text for text in found if _normalise(text) not in known]
        (after if container in chunks[:position] else before).extend(found)
    return before + lines + after if before or after else lines


def _repeated_container(tree: HtmlElement, lines: list[str]) -> HtmlElement | None:
    """Find the body-like classed element around the first paragraph that repeats on the page."""
    first = next((line for line in lines[:3] if count_words(line) >= 8), None)
    if first is None:
        return None
    found = tree.xpath("//p[starts-with(normalize-space(.), $start)]", start=first[:40])
    if not found:
        return None
    for ancestor in list(found[0].iterancestors())[:CHUNK_ANCESTOR_LEVELS]:
        cls = ancestor.get("class") or ""
        if BODY_CLASS.search(cls) and len(tree.xpath("//*[@class=$cls]", cls=cls)) > 1:
            return ancestor
    return None


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
            if all(count_words(before) <= MAX_KICKER_WORDS for before in head[:index]):
                start = index + 1
            break
    while start < len(head) - 1 and _is_dateline(lines[start]):
        start += 1
    return lines[start:]


def _is_title(line: str, titles: list[str]) -> bool:
    return bool(line) and any(line == t or (len(line) > 20 and t.startswith(line)) for t in titles)


def _is_dateline(line: str) -> bool:
    """Tell "By Ann Lee", "Updated 12:30" or "5 min read" from a short opening sentence."""
    words = count_words(line)
    if words > 12 or (words > 4 and SENTENCE_END.search(line)):
        return False
    return bool(DATE_LIKE.search(line)) or bool(BYLINE_LINE.match(line))


def _anchor_texts(tree: HtmlElement) -> set[str]:
    """Collect the normalised text of every link with at least four words."""
    # the length filter runs inside libxml2, so the many short menu links cost nothing here
    anchors = tree.xpath("//a[string-length(normalize-space(.)) > 15]")
    return {
        norm
        for norm in map(_normalise, (a.text_content() for a in anchors))
        if count_words(norm) >= 4
    }


def _drop_link_lines(lines: list[str], anchors: set[str]) -> list[str]:
    """Drop lines that are nothing but a link to another page (related-article teasers)."""
    if not anchors:
        return lines
    kept = []
    for line in lines:
        unlabelled = _normalise(LINK_LINE_LABEL.sub("", line.lstrip("-•* ")))
        if unlabelled in anchors and count_words(line) <= MAX_BOILERPLATE_WORDS:
            continue
        kept.append(line)
    return kept if kept else lines


def _drop_trailing_boilerplate(lines: list[str]) -> list[str]:
    """Drop section headings over link lists, then share/follow/legal lines at the end."""
    lines = _drop_section_headers(lines)
    end = len(lines)
    while end > 1 and _is_closing_boilerplate(lines[end - 1]):
        end -= 1
    return lines[:end]


def _drop_section_headers(lines: list[str]) -> list[str]:
    """Drop "Related", "Tags", "Most read" headings, and the short list closing the text."""
    kept: list[str] = []
    for index, line in enumerate(lines):
        if count_words(line) <= 6 and SECTION_HEADER.match(line):
            rest = lines[index + 1 :]
            if len(rest) <= MAX_LINES_UNDER_HEADER and all(_is_list_like(r) for r in rest):
                break  # "Tags" or "Related" closing the text: the rest is its list
            continue
        kept.append(line)
    return kept or lines


def _is_list_like(line: str) -> bool:
    """Tell a line of link titles or comma-separated tags from a paragraph."""
    words = count_words(line)
    return words <= MAX_BOILERPLATE_WORDS or line.count(",") >= words * 0.15


def _is_closing_boilerplate(line: str) -> bool:
    """Tell a share/follow/subscribe/legal/contact line from the article's last paragraph."""
    words = count_words(line)
    if words > MAX_BOILERPLATE_WORDS:
        return False
    return bool(BOILERPLATE_LINE.match(line) or END_MARKER.match(line)) or (
        words <= MAX_PROMO_WORDS and bool(CLOSING_PROMO.search(line))
    )


def _date_from_htmldate(tree: HtmlElement, url: str) -> datetime | None:
    """Find the publishing date in the page text and URL when no metadata gives it."""
    from htmldate import find_date

    found = None
    for extensive in (True, False):
        try:
            found = find_date(
                tree,
                url=url,
                original_date=True,
                extensive_search=extensive,
                outputformat="%Y-%m-%d %H:%M:%S",
            )
        except Exception:  # htmldate is a best-effort fallback
            logger.debug("htmldate failed for %s", url, exc_info=True)
            return None
        # The extensive search makes 1 January of any year the text mentions ("by the end
        # of 2026") a date: a bare year is no publishing date, so look again without it.
        if not found or not found.endswith("-01-01 00:00:00"):
            break
    return parse_date(found)
