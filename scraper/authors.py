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
# Where bylines sit when no metadata names a person (document order).
# ("uthor" and "UTHOR" catch author, Author and AUTHOR without a costly translate().)
BYLINE_XPATH = (
    '//*[@itemprop="author" or @rel="author" or contains(@class, "byline")'
    ' or contains(@class, "uthor") or contains(@class, "UTHOR")]'
)
# Elements whose own text opens with a by-word, for bylines without an author class;
# not in lists, menus, asides or footers: there a "By …" belongs to another article's teaser.
BY_TEXT_XPATH = (
    "//body//*[not(self::script or self::style or self::p or self::li)]"
    "[not(ancestor::li or ancestor::nav or ancestor::aside or ancestor::footer)]"
    "[text()[starts-with(normalize-space(.), 'By ') or starts-with(normalize-space(.), 'Von ')"
    " or starts-with(normalize-space(.), 'Written by ') or starts-with(normalize-space(.), 'BY ')]]"
)
MAX_BYLINE_NODES = 40
MAX_BYLINE_CHARS = 100
MAX_BYLINE_WORDS = 8
BYLINE_NOISE = re.compile(r"avatar|image|photo|bio|img|thumb|follow|more|social|share", re.I)
BY_PREFIX = re.compile(
    r"^\s*(?:by|von|por|par|door|av|di|da|de|af|od|autor(?:in)?|author|text|written by)"
    r"\s*[:\-]?\s+",
    re.IGNORECASE,
)
# Commas split names, except the one before a year ("Ann Lee March 4, 2024").
NAME_SPLIT = re.compile(
    r"\s*(?:,(?!\s*\d{4}\b)|;|\||&|\band\b|\bund\b|\by\b|\bet\b|\bog\b|\boch\b)\s*"
)
BY_WORDS = {"by", "von", "por", "par", "door", "av", "di", "da", "de", "af", "od", "text"}
# A date or time stamp glued after the name: "Ann Lee 12.03.2024", "Ann Lee 30 August 2023 •",
# "Ann Lee Stand: 28. April 2023".
TRAILING_DATE = re.compile(
    r"\s+(?:\d{1,4}[./:-]\d|\d{1,2}\.?\s+[^\W\d]{3,}\.?\s+\d{4}|[^\W\d]{3,}\.?\s+\d{1,2},?\s+\d{4}"
    r"|(?:stand|updated|published|posted|aktualisiert|veröffentlicht)\b).*$",
    re.IGNORECASE,
)
DATE_IN_NAME = re.compile(r"\d{1,4}[./:-]\d")
ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|特派員)$")
NOT_IN_NAMES = ("@", "://", "www.", "(", ")", "image:", "photo:", "foto:", "getty")
WHITESPACE = re.compile(r"\s+")
DOMAIN_NAME = re.compile(r"[\w-]+(?:\.[a-z]{2,})+", re.IGNORECASE)


def page_authors(
    tree: HtmlElement, declared: object, meta: dict, site_names: list[str], host: str
) -> list[str]:
    """Return the people who wrote the page; the publisher only when no person is named.

    `declared` is the JSON-LD article's author (or creator) value, as the page gives it.
    """
    names = clean_authors(_declared_authors(declared, meta))
    people = [n for n in names if not _is_publisher(n, site_names, host)]
    if people:
        return people
    byline = clean_authors(_byline_names(tree))
    if not names:
        return byline
    # Only the publisher is declared: a byline in the markup replaces it when it names a
    # person ("Ann Lee"), not a desk, an agency or initials ("APA", "amw"), which it often is.
    writers = [n for n in byline if not _is_publisher(n, site_names, host)]
    return writers if any(len(n.split()) >= 2 for n in writers) else names


def _is_publisher(name: str, site_names: list[str], host: str) -> bool:
    """Tell a site or its domain ("mdr.de") from a person's name."""
    return is_site_name(name, site_names, host) or bool(DOMAIN_NAME.fullmatch(name))


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
    """Return a short byline from the markup, for pages whose metadata names no person.

    An element marked as author or byline comes first, one that reads "By …" before the rest
    (the marked container often holds the brand and date too); then any short "By …" text.
    """
    texts = [
        _short_text(node)
        for node in tree.xpath(BYLINE_XPATH)[:MAX_BYLINE_NODES]
        if not BYLINE_NOISE.search(node.get("class") or "")
        and node.tag not in ("meta", "link", "img")
    ]
    texts = [text for text in texts if text and clean_authors([text])]
    prefixed = [text for text in texts if BY_PREFIX.match(text)]
    if prefixed or texts:
        return [(prefixed or texts)[0]]
    for node in tree.xpath(BY_TEXT_XPATH)[:MAX_BYLINE_NODES]:
        text = _short_text(node)
        if _reads_as_byline(text):
            return [text]
    return []


def _reads_as_byline(text: str) -> bool:
    """Tell "By Ann Lee and Bob Stone" from a sentence that happens to open with "By"."""
    prefix = BY_PREFIX.match(text)
    if not prefix:
        return False
    names = text[prefix.end() :]
    words = names.split()
    return (
        bool(words)
        and len(words) <= MAX_BYLINE_WORDS
        and names[0].isupper()
        and not names.endswith((".", "!", "?"))
        and bool(clean_authors([text]))
    )


def _short_text(node: HtmlElement) -> str:
    text = " ".join(node.text_content().split())
    return text if 2 < len(text) < MAX_BYLINE_CHARS else ""


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
