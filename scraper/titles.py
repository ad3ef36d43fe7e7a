"""Choose a page's title among its JSON-LD headline, OpenGraph/Twitter titles, <h1> and <title>."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»«/]\s+|\s*[|·•｜：]\s*|:\s+")
SEPARATOR_CHARS = " |-–—:·•»«/｜："
SEPARATOR_START = re.compile(r"^\s*[|\-–—:·•»/｜：]")
WHITESPACE = re.compile(r"\s+")


def title_candidates(tree: HtmlElement, headline: str | None, meta: dict) -> list[str]:
    """List the page's title texts, best source first, without duplicates."""
    raw = [
        headline,
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
    host = host_label(url)
    title = candidates[0]
    for other in candidates[1:]:
        # "Headline | Section" when another field holds just "Headline"
        rest = title[len(other) :] if len(other) > 10 and title.startswith(other) else ""
        if rest and SEPARATOR_START.match(rest):
            return other
    return strip_site_name(title, site_names, host)


def strip_site_name(title: str, site_names: list[str], host: str) -> str:
    """Cut "Headline | Site | by Author" at the site name; drop a leading "Site: "."""
    pieces = TITLE_SEPARATORS.split(title)
    if len(pieces) < 2:
        return title
    for index, piece in enumerate(pieces):
        if is_site_name(piece, site_names, host):
            if index == 0:
                return title[len(piece) :].lstrip(SEPARATOR_CHARS) or title
            return title[: _nth_separator(title, index)].rstrip(SEPARATOR_CHARS) or title
    return title


def is_site_name(piece: str, site_names: list[str], host: str) -> bool:
    """Tell whether a title piece or byline names the site itself."""
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


def host_label(url: str) -> str:
    """Return the first label of the host: "nytimes" for www.nytimes.com."""
    return (urlsplit(url).hostname or "").removeprefix("www.").split(".")[0]
