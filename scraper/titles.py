"""Choose a page's title among its JSON-LD headline, OpenGraph/Twitter titles, <h1> and <title>."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.html import HtmlElement

# "ㅣ" (Hangul letter i) stands in for a bar on Korean sites: "Headline ㅣ Site".
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»«/]\s+|\s*[|·•｜：ㅣ]\s*|:\s+")
SEPARATOR_CHARS = " |-–—:·•»«/｜：ㅣ"
SEPARATOR_START = re.compile(r"^\s*[|\-–—:·•»/｜：ㅣ]")
WHITESPACE = re.compile(r"\s+")
# Spaces a headline keeps as the page has them: no-break spaces bind "a\xa0Hrad" or
# "«\xa0…\xa0»" on purpose, and an ideographic space is how CJK headlines separate parts.
KEPT_SPACES = "\u00a0\u202f\u3000"
# Characters that only steer line breaking (zero-width space, word joiner, BOM, soft hyphen).
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
# Meta tags naming the page's section, which some sites append to the title: "Headline-Politics".
SECTION_KEYS = ("article:section", "og:article:section", "section", "content_category")
# A headline inside these is a breadcrumb, menu, teaser link or dialog, not the page's own.
CHROME_TAGS = frozenset(
    {"nav", "footer", "aside", "a", "li", "form", "dialog", "button", "label", "figcaption"}
)
CHROME_CLASS = re.compile(r"crumb|modal|shar(?:e|ing)|popup|overlay|login|newsletter", re.I)
KICKER_MAX_WORDS = 8
HEADLINE_CHARS = (3, 300)
# Between a kicker and its headline; quotation marks are the headline's own and stay.
KICKER_SEPARATORS = " |-–—:·•/｜：ㅣ"
# Quotation marks differ between a page's fields ("it's" in one, "it’s" in another): compare
# them as one mark, but return the text as the page has it.
QUOTE_MARKS = str.maketrans(dict.fromkeys('"‘’‚‛“”„‟«»‹›「」『』', "'"))
WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Heading:
    """The headline a reader sees, and the kicker shown with it (the words above it)."""

    text: str
    kicker: str | None
    container: HtmlElement | None  # a kicker may sit beside the heading, not in it

    def shows(self, words: str) -> bool:
        """Tell whether the heading's container displays these words."""
        context = self.container.text_content() if self.container is not None else self.text
        return _comparable(words) in _comparable(context)


def choose_title(
    tree: HtmlElement, headline: str | None, meta: dict, url: str
) -> tuple[str | None, list[str]]:
    """Return the page's title and every title candidate it offers.

    When the declared titles disagree, the one the page displays as its headline wins.
    """
    candidates = title_candidates(tree, headline, meta)
    declared = [headline, *meta.get("og:title", [])[:1], *meta.get("twitter:title", [])[:1]]
    declared.append(tree.xpath("string(//title)"))
    tidied = [_strip_labels(tidy_title(t), meta, url) for t in declared if t]
    shown = _shown_title([t for t in tidied if t], visible_headline(tree))
    return shown or clean_title(candidates, meta, url), candidates


def visible_headline(tree: HtmlElement) -> Heading | None:
    """Return the first <h1> outside menus, breadcrumbs and dialogs, else the first such <h2>."""
    body = tree.find("body")
    if body is None:
        return None
    for level in ("h1", "h2"):
        for heading in body.iter(level):
            if _in_chrome(heading):
                continue
            kicker, text = _heading_parts(heading)
            if HEADLINE_CHARS[0] <= len(text) <= HEADLINE_CHARS[1]:
                return Heading(text, kicker, heading.getparent())
    return None


def _in_chrome(heading: HtmlElement) -> bool:
    for ancestor in heading.iterancestors():
        if ancestor.tag in CHROME_TAGS:
            return True
        if CHROME_CLASS.search(f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"):
            return True
    return False


def _heading_parts(heading: HtmlElement) -> tuple[str | None, str]:
    """Split "<span>Kicker</span><span>Headline</span>" into kicker and headline."""
    full = tidy_title(heading.text_content())
    parts = [tidy_title(child.text_content()) for child in heading if isinstance(child.tag, str)]
    parts = [part for part in parts if part.strip(KICKER_SEPARATORS)]
    if len(parts) < 2 or len(parts[0].split()) > KICKER_MAX_WORDS:
        return None, full
    kicker = parts[0]
    rest = full.removeprefix(kicker).lstrip(KICKER_SEPARATORS)
    if full.startswith(kicker) and len(rest) > len(kicker):
        return kicker, rest
    return None, full


def _shown_title(declared: list[str], shown: Heading | None) -> str | None:
    """Return the declared title the visible headline confirms, or the headline itself.

    The headline alone wins when a declared title is that headline behind a prefix the page
    does not display near it (an SEO topic); a kicker the page shows stays in the title.
    """
    if shown is None or not declared:
        return None
    text = _comparable(shown.text)
    joined = _words(f"{shown.kicker} {shown.text}") if shown.kicker else None
    for title in declared:
        if _comparable(title) == text or _words(title) == joined:
            return title
    for title in declared:
        prefix = _prefix_before(_comparable(title), text)
        if prefix and not shown.shows(prefix):
            return shown.text
    return None


def _prefix_before(title: str, headline: str) -> str | None:
    """Return "Topic" when title is "Topic: headline" (any separator), else None."""
    if len(headline.split()) < 3 or not title.endswith(headline) or title == headline:
        return None
    prefix = title[: -len(headline)].rstrip()
    if not prefix or prefix[-1] not in ":-–—|/":
        return None
    return prefix.rstrip(KICKER_SEPARATORS) or None


def _comparable(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(QUOTE_MARKS).casefold()
    return " ".join(text.split()).strip(" .")


def _words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def title_candidates(tree: HtmlElement, headline: str | None, meta: dict) -> list[str]:
    """List the page's title texts, best source first, without duplicates."""
    raw = [
        headline,
        *meta.get("og:title", [])[:1],
        *meta.get("twitter:title", [])[:1],
        tree.xpath("string(//h1)"),
        tree.xpath("string(//title)"),
    ]
    cleaned = (tidy_title(t) for t in raw if t)
    return list(dict.fromkeys(t for t in cleaned if t))


def tidy_title(text: str) -> str:
    """Unescape a title, drop invisible characters, and make each line break or run a space."""
    text = html.unescape(text).translate(INVISIBLE)
    return WHITESPACE.sub(_one_space, text).strip()


def _one_space(run: re.Match[str]) -> str:
    return run.group() if run.group() in KEPT_SPACES else " "


def clean_title(candidates: list[str], meta: dict, url: str) -> str | None:
    """Return the best title candidate without the site name or section glued to it."""
    if not candidates:
        return None
    title = candidates[0]
    for other in candidates[1:]:
        # "Headline | Section" when another field holds just "Headline"
        rest = title[len(other) :] if len(other) > 10 and title.startswith(other) else ""
        if rest and SEPARATOR_START.match(rest):
            return other
    return _strip_labels(title, meta, url)


def _strip_labels(title: str, meta: dict, url: str) -> str:
    """Cut the site name and a declared section name from a title."""
    site_names = [
        s.casefold() for s in meta.get("og:site_name", []) + meta.get("application-name", [])
    ]
    sections = [s for key in SECTION_KEYS for s in meta.get(key, [])]
    return strip_section(strip_site_name(title, site_names, host_label(url)), sections)


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


def strip_section(title: str, sections: list[str]) -> str:
    """Cut a section name the page declares from the end of "Headline - Section"."""
    folded = title.casefold()
    for section in sections:
        section = section.strip().casefold()
        if not section or not folded.endswith(section) or len(folded) < len(section) + 10:
            continue
        head = title[: -len(section)].rstrip()
        # the section must be set apart by a separator, not be the headline's last word
        if head and head[-1] in SEPARATOR_CHARS:
            return head.rstrip(SEPARATOR_CHARS)
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
