"""Read what a page says about itself: JSON-LD, meta tags, canonical URL, type and language.

Titles, authors and dates have their own modules (titles.py, authors.py, dates.py); this one
gathers the page's structured data once and hands each of them what it needs.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from lxml.html import HtmlElement

from scraper.authors import page_authors
from scraper.dates import date_values, first_date
from scraper.titles import choose_title, host_label

logger = logging.getLogger(__name__)

ARTICLE_TYPE = re.compile(r"article|posting|report", re.IGNORECASE)
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
    locale: str | None = None  # "tr", "en-gb": the declared language and, if given, region
    date_values: list[str] = field(default_factory=list)  # publishing date candidates, best first


def read_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """Collect the page's metadata; missing fields stay None or empty."""
    objects = list(json_ld_objects(tree))
    main = _main_object(objects)
    meta = meta_values(tree)
    headline = text_of(main.get("headline") or main.get("name"), collapse=False) if main else None
    title, candidates = choose_title(tree, headline, meta, url)
    declared = (main.get("author") or main.get("creator")) if main else None
    dates = date_values(_json_ld_dates(main, objects), meta, tree)
    html_lang = _html_lang(tree, meta)
    locale = _locale(tree, meta, html_lang)
    return PageMetadata(
        title=title,
        authors=page_authors(tree, declared, meta, _site_names(main, meta), host_label(url)),
        published_at=first_date(dates, locale),
        canonical_url=_canonical_url(tree, meta, url),
        page_type=_page_type(main, objects, meta),
        html_lang=html_lang,
        title_candidates=candidates,
        locale=locale,
        date_values=dates,
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


def text_of(value: object, *, collapse: bool = True) -> str | None:
    """Return a JSON-LD value as text (first item of a list, name of an object).

    With collapse, every run of whitespace becomes one space; without, the text is only
    unescaped, for callers that keep no-break spaces (titles).
    """
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if not isinstance(value, str):
        return None
    text = html.unescape(value)
    return (WHITESPACE.sub(" ", text) if collapse else text).strip() or None


def _site_names(main: dict | None, meta: dict) -> list[str]:
    """Return the names the site goes by (og:site_name, application-name, publisher)."""
    names = meta.get("og:site_name", []) + meta.get("application-name", [])
    publisher = text_of(main.get("publisher")) if main else None
    return [n.casefold() for n in [*names, publisher] if n]


def _json_ld_dates(main: dict | None, objects: list[dict]) -> list[str | None]:
    """Return the JSON-LD publishing dates, the article object's first."""
    sources = [main] if main else []
    sources += [o for o in objects if o is not main]
    return [text_of(o.get("datePublished") or o.get("dateCreated")) for o in sources]


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


def _declared_tags(tree: HtmlElement, meta: dict) -> list[str]:
    """Return the language tags the page declares, <html lang> first, lowercased, with "-"."""
    tags = [
        tree.get("lang"),
        tree.get("xml:lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        *(meta.get("og:locale") or [])[:1],
        *(meta.get("content-language") or [])[:1],
        *(meta.get("language") or [])[:1],
    ]
    return [tag.strip().lower().replace("_", "-") for tag in tags if tag and tag.strip()]


def _html_lang(tree: HtmlElement, meta: dict) -> str | None:
    tags = _declared_tags(tree, meta)
    if not tags:
        return None
    code = tags[0].split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _locale(tree: HtmlElement, meta: dict, language: str | None) -> str | None:
    """Return "language-region" when some declaration gives the language's region."""
    if language is None:
        return None
    for tag in _declared_tags(tree, meta):
        code, _, region = tag.partition("-")
        if code == language and re.fullmatch(r"[a-z]{2}", region):
            return tag
    return language
