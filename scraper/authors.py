"""Find who wrote a page: JSON-LD and meta authors, else a byline in the markup."""

from __future__ import annotations

import html
import re

from lxml.html import HtmlElement

from scraper.titles import is_site_name

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
WHITESPACE = re.compile(r"\s+")


def page_authors(
    tree: HtmlElement, declared: object, meta: dict, site_names: list[str], host: str
) -> list[str]:
    """Return the people who wrote the page; the publisher only when no person is named.

    `declared` is the JSON-LD article's author (or creator) value, as the page gives it.
    """
    names = clean_authors(_declared_authors(declared, meta))
    people = [n for n in names if not is_site_name(n, site_names, host)]
    # The publisher named as author beside people is a label, not a writer; alone, it is
    # what the page says (bylines scraped from the markup proved less reliable than that).
    return people or names or clean_authors(_byline_names(tree))


def _declared_authors(declared: object, meta: dict) -> list[str]:
    names = _json_ld_names(declared)
    if names:
        return names
    for key in AUTHOR_KEYS:
        values = [v for v in meta.get(key, []) if not v.startswith(("http://", "https://", "@"))]
        if values:
            return values
    return []


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
