"""Read title, authors, dates, canonical URL and page type from JSON-LD, OpenGraph and meta tags."""

from __future__ import annotations

import html
import json
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

ARTICLE_TYPE = re.compile(r"article|posting|report", re.IGNORECASE)
PUBLISHED_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "http://ogp.me/ns/article#published_time", "datepublished", "parsely-pub-date",
    "sailthru.date", "cxenseparse:recs:publishtime", "pubdate", "publishdate", "publish-date",
    "publish_date", "published", "dc.date.issued", "dc.date", "dcterms.issued", "dcterms.date",
    "dcterms.created", "dc.date.created", "date", "article.published", "cms_creationdate",
)  # fmt: skip
AUTHOR_KEYS = (
    "author", "article:author", "og:article:author", "article:author_name", "parsely-author",
    "sailthru.author", "dc.creator", "dcterms.creator", "byl", "cxenseparse:author",
)  # fmt: skip
# Where bylines sit when no metadata names the author; innermost matches come first.
BYLINE_XPATH = (
    '//*[@itemprop="author" or @rel="author" or contains(@class, "byline")'
    ' or contains(translate(@class, "AUTHOR", "author"), "author")]'
)
BYLINE_NOISE = re.compile(r"avatar|image|photo|bio|img|thumb|follow|more|social|share", re.I)
BY_PREFIX = re.compile(
    r"^\s*(?:by|von|por|par|door|av|di|da|de|af|od|autor(?:in)?|author|text|written by)"
    r"\s*[:\-]?\s+",
    re.IGNORECASE,
)
NAME_SPLIT = re.compile(r"\s*(?:,|;|\||&|\band\b|\bund\b|\by\b|\bet\b|\bog\b|\boch\b)\s*")
BY_WORDS = {"by", "von", "por", "par", "door", "av", "di", "da", "de", "af", "od", "text"}
TRAILING_DATE = re.compile(r"\s+\d{1,4}[./:-]\d.*$")
DATE_IN_NAME = re.compile(r"\d{1,4}[./:-]\d")
ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|特派員)$")
NOT_IN_NAMES = ("@", "://", "www.", "(", ")", "image:", "photo:", "foto:", "getty")
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»«/]\s+|\s*[|·•｜：]\s*|:\s+")
SEPARATOR_CHARS = " |-–—:·•»«/｜："
SEPARATOR_START = re.compile(r"^\s*[|\-–—:·•»/｜：]")
WHITESPACE = re.compile(r"\s+")
JSON_TRAILING_COMMA = re.compile(r",\s*([\]}])")


@dataclass(slots=True)
class PageMetadata:
    """What the page says about itself, outside the body text."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    canonical_url: str | None = None
    page_type: str | None = None
    html_lang: str | None = None
    title_candidates: list[str] = field(default_factory=list)


def read_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """Collect the page's metadata; missing fields stay None or empty."""
    objects = list(json_ld_objects(tree))
    main = _main_object(objects)
    meta = meta_values(tree)
    candidates = _title_candidates(tree, main, meta)
    return PageMetadata(
        title=clean_title(candidates, meta, url),
        authors=_authors(tree, main, meta, url),
        published_at=_published(tree, main, objects, meta),
        canonical_url=_canonical_url(tree, meta, url),
        page_type=_page_type(main, objects, meta),
        html_lang=_html_lang(tree, meta),
        title_candidates=candidates,
    )


def json_ld_objects(tree: HtmlElement) -> Iterator[dict]:
    """Yield every JSON-LD object on the page, flattening lists, @graph and nesting."""
    for script in tree.iterfind(".//script"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        data = _load_json(script.text)
        if data is not None:
            yield from _walk(data)


def _load_json(text: str) -> object:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
    for attempt in (text, JSON_TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(attempt, strict=False)  # strict=False: raw newlines in strings
        except (ValueError, RecursionError):
            continue
    logger.debug("unreadable JSON-LD block")
    return None


def _walk(data: object, depth: int = 0) -> Iterator[dict]:
    if depth > 8:  # hostile or cyclic-looking nesting: stop early
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        # not itemListElement: on a section page those are the teasers, not the page
        for key in ("@graph", "mainEntity"):
            if key in data:
                yield from _walk(data[key], depth + 1)


def _types(obj: dict) -> list[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return [k for k in kinds if isinstance(k, str)]


def _main_object(objects: list[dict]) -> dict | None:
    """Pick the article object: the first *Article*/*Posting* with a headline, else any."""
    articles = [o for o in objects if any(ARTICLE_TYPE.search(t) for t in _types(o))]
    if not articles:
        return next((o for o in objects if o.get("headline")), None)
    with_headline = [o for o in articles if o.get("headline")] or articles
    return with_headline[0]


def meta_values(tree: HtmlElement) -> dict[str, list[str]]:
    """Map lowercased meta name/property/itemprop to its non-empty content values."""
    values: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = meta.get("content") or meta.get("datetime")
        if key and content and content.strip():
            values.setdefault(key.strip().lower(), []).append(content.strip())
    return values


def text_of(value: object) -> str | None:
    """Return a JSON-LD value as clean text (first item of a list, name of an object)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if not isinstance(value, str):
        return None
    return WHITESPACE.sub(" ", html.unescape(value)).strip() or None


def _title_candidates(tree: HtmlElement, main: dict | None, meta: dict) -> list[str]:
    raw = [
        text_of(main.get("headline") or main.get("name")) if main else None,
        *meta.get("og:title", [])[:1],
        *meta.get("twitter:title", [])[:1],
        " ".join(tree.xpath("string(//h1)").split()),
        " ".join(tree.xpath("string(//title)").split()),
    ]
    cleaned = (WHITESPACE.sub(" ", html.unescape(t)).strip() for t in raw if t)
    return list(dict.fromkeys(t for t in cleaned if t))


def clean_title(candidates: list[str], meta: dict, url: str) -> str | None:
    """Return the best title candidate without the site name or section glued to it."""
    if not candidates:
        return None
    site_names = [
        s.casefold() for s in meta.get("og:site_name", []) + meta.get("application-name", [])
    ]
    host = _host_label(url)
    title = candidates[0]
    for other in candidates[1:]:
        # "Headline | Section" when another field holds just "Headline"
        rest = title[len(other) :] if len(other) > 10 and title.startswith(other) else ""
        if rest and SEPARATOR_START.match(rest):
            return other
    return _strip_site_name(title, site_names, host)


def _strip_site_name(title: str, site_names: list[str], host: str) -> str:
    """Cut "Headline | Site | by Author" at the site name; drop a leading "Site: "."""
    pieces = TITLE_SEPARATORS.split(title)
    if len(pieces) < 2:
        return title
    for index, piece in enumerate(pieces):
        if _is_site_name(piece, site_names, host):
            if index == 0:
                return title[len(piece) :].lstrip(SEPARATOR_CHARS) or title
            return title[: _nth_separator(title, index)].rstrip(SEPARATOR_CHARS) or title
    return title


def _is_site_name(piece: str, site_names: list[str], host: str) -> bool:
    folded = piece.casefold().strip()
    squashed = re.sub(r"\W", "", folded)
    if not squashed:
        return False
    if folded in site_names or any(squashed == re.sub(r"\W", "", s) for s in site_names):
        return True
    if folded == host or squashed == re.sub(r"\W|_", "", host):
        return True
    return len(host) > 3 and host in squashed and len(squashed) <= len(host) + 12


def _nth_separator(title: str, index: int) -> int:
    """Return where the separator before piece number `index` starts."""
    matches = list(TITLE_SEPARATORS.finditer(title))
    return matches[index - 1].start()


def _authors(tree: HtmlElement, main: dict | None, meta: dict, url: str) -> list[str]:
    """Return the people who wrote the page; the publisher only when no person is named."""
    names = clean_authors(_declared_authors(main, meta))
    site_names = _site_names(main, meta)
    host = _host_label(url)
    people = [n for n in names if not _is_site_name(n, site_names, host)]
    # The publisher named as author beside people is a label, not a writer; alone, it is
    # what the page says (bylines scraped from the markup proved less reliable than that).
    return people or names or clean_authors(_byline_names(tree))


def _declared_authors(main: dict | None, meta: dict) -> list[str]:
    if main is not None:
        names = _json_ld_names(main.get("author") or main.get("creator"))
        if names:
            return names
    for key in AUTHOR_KEYS:
        values = [v for v in meta.get(key, []) if not v.startswith(("http://", "https://", "@"))]
        if values:
            return values
    return []


def _site_names(main: dict | None, meta: dict) -> list[str]:
    names = meta.get("og:site_name", []) + meta.get("application-name", [])
    publisher = text_of(main.get("publisher")) if main else None
    return [n.casefold() for n in [*names, publisher] if n]


def _host_label(url: str) -> str:
    """Return the first label of the host: "nytimes" for www.nytimes.com."""
    return (urlsplit(url).hostname or "").removeprefix("www.").split(".")[0]


def _json_ld_names(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("name") or " ".join(
                str(item.get(k, "")) for k in ("givenName", "familyName")
            )
        if isinstance(item, list):
            names.extend(n for n in item if isinstance(n, str))
        elif isinstance(item, str) and not item.startswith(("http://", "https://")):
            names.append(item)
    return names


def _byline_names(tree: HtmlElement) -> list[str]:
    """Return the first short byline text on the page, for pages whose metadata names no one."""
    for node in tree.xpath(BYLINE_XPATH)[:40]:
        if BYLINE_NOISE.search(node.get("class") or "") or node.tag in ("meta", "link", "img"):
            continue
        text = " ".join(node.text_content().split())
        if 2 < len(text) < 100 and clean_authors([text]):
            return [text]
    return []


def clean_authors(raw: list[str]) -> list[str]:
    """Split bylines into names, drop prefixes like "By", e-mail, URLs and duplicates."""
    names: dict[str, str] = {}
    for entry in raw:
        entry = BY_PREFIX.sub("", WHITESPACE.sub(" ", html.unescape(entry)).strip())
        parts = NAME_SPLIT.split(entry) if len(entry) > 3 else [entry]
        for part in parts:
            name = ROLE_SUFFIX.sub("", BY_PREFIX.sub("", part))
            name = TRAILING_DATE.sub("", name).strip(" .:-–—\"'")
            if _plausible_name(name):
                names.setdefault(name.casefold(), name)
    return list(names.values())


def _plausible_name(name: str) -> bool:
    if not name or len(name) > 80 or any(mark in name for mark in NOT_IN_NAMES):
        return False
    if name.casefold() in BY_WORDS or DATE_IN_NAME.search(name) or name.isdigit():
        return False
    return any(ch.isalpha() for ch in name) and len(name.split()) <= 6


def parse_date(value: str | None) -> datetime | None:
    """Parse an ISO 8601, RFC 2822 or epoch date; return it in UTC, naive values read as UTC."""
    if not value:
        return None
    value = value.strip()
    parsed = _parse_date_text(value)
    if parsed is None or not 1990 <= parsed.year <= 2100:
        return None
    # Naive dates are read as UTC: the page gives no zone, and UTC keeps results reproducible
    # whatever the machine's zone; a publisher-local reading could be off by a day either way.
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_date_text(value: str) -> datetime | None:
    candidate = value.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", value) else value
    candidate = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", candidate.replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        pass
    if value.isdigit() and len(value) in (10, 13):
        return datetime.fromtimestamp(int(value[:10]), tz=UTC)
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        pass
    return _parse_date_loosely(value)


def _parse_date_loosely(value: str) -> datetime | None:
    from dateutil import parser as date_parser  # htmldate's dependency, only for odd formats

    with warnings.catch_warnings():  # unknown zone names warn; the date is still usable
        warnings.simplefilter("ignore")
        try:
            return date_parser.parse(value, fuzzy=False)
        except (ValueError, OverflowError, TypeError):
            return None


def _published(
    tree: HtmlElement, main: dict | None, objects: list[dict], meta: dict
) -> datetime | None:
    """Return the first parseable publishing date: JSON-LD, then meta tags, then <time>."""
    sources = [main] if main else []
    sources += [o for o in objects if o is not main]
    for obj in sources:
        found = parse_date(text_of(obj.get("datePublished") or obj.get("dateCreated")))
        if found:
            return found
    for key in PUBLISHED_KEYS:
        for value in meta.get(key, []):
            found = parse_date(value)
            if found:
                return found
    for value in tree.xpath("//time[@datetime]/@datetime")[:3]:
        found = parse_date(value)
        if found:
            return found
    return None


def _canonical_url(tree: HtmlElement, meta: dict, url: str) -> str | None:
    hrefs = [
        link.get("href", "").strip()
        for link in tree.iterfind(".//link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    for href in [*hrefs, *meta.get("og:url", [])]:
        try:
            absolute = urljoin(url, href)
        except ValueError:  # e.g. "http://[broken": skip it, keep the rest of the record
            continue
        if href and absolute.startswith(("http://", "https://")):
            return absolute
    return None


def _page_type(main: dict | None, objects: list[dict], meta: dict) -> str | None:
    og_type = (meta.get("og:type") or [""])[0].lower()
    if main is not None and any(ARTICLE_TYPE.search(t) for t in _types(main)):
        return "article"
    if og_type.startswith("article") or og_type == "news":
        return "article"
    if og_type:
        return og_type
    kinds = [t.lower() for o in objects for t in _types(o)]
    return next((k for k in kinds if "page" in k), kinds[0] if kinds else None)


def _html_lang(tree: HtmlElement, meta: dict) -> str | None:
    lang = (
        tree.get("lang")
        or tree.get("xml:lang")
        or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    )
    if not lang:
        lang = (
            meta.get("og:locale") or meta.get("content-language") or meta.get("language") or [None]
        )[0]
    if not lang:
        return None
    code = re.split(r"[-_]", lang.strip().lower())[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None
