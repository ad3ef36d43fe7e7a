"""Render the demo site's HTML pages: each outlet's article layout, section lists, about pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlsplit

from briefing.demo.data import DemoArticle, Outlet

COOKIE_BANNER = (
    '<div id="cookie-banner" class="cookie-consent" role="dialog"><p>We use cookies to improve '
    "your experience, measure our audience and show personalised advertising. You can change "
    "your choice at any time.</p><button>Accept all</button> <button>Manage preferences</button>"
    "</div>"
)
NEWSLETTER = (
    '<aside class="newsletter"><h3>Get the morning newsletter</h3><p>Sign up to receive our top '
    'stories in your inbox every day.</p><form><input type="email" name="email" '
    'placeholder="you@example.org"><button>Subscribe</button></form></aside>'
)


SECTION_LABELS = {"nk": "N. Korea", "uk": "UK", "tech": "Technology"}


def label(section: str) -> str:
    """Return the name a section is shown under."""
    return SECTION_LABELS.get(section, section.title())


def esc(text: str) -> str:
    """Escape text for HTML content and attribute values."""
    return escape(text, quote=True)


def json_ld(data: dict) -> str:
    """Return a JSON-LD script element whose content cannot close the script early."""
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c")
    return f'<script type="application/ld+json">{text}</script>'


def paragraphs(article: DemoArticle) -> str:
    """Return the body paragraphs as <p> elements."""
    return "".join(f"<p>{esc(text)}</p>" for text in article.paragraphs)


def joined_names(names: Sequence[str]) -> str:
    """Join names as a byline does: 'A', 'A and B', 'A, B and C'."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def page(outlet: Outlet, sections: Sequence[str], title: str, head: str, main: str) -> str:
    """Wrap a page's main content in the outlet's boilerplate: banner, navigation, footer."""
    nav = "".join(
        f'<li><a href="{esc(outlet.section_url(s))}">{esc(label(s))}</a></li>' for s in sections
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)} | {esc(outlet.name)}</title>"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}</head>'
        f'<body class="{esc(outlet.layout)}">{COOKIE_BANNER}<header class="site-header">'
        f'<a class="logo" href="/{esc(outlet.key)}/">{esc(outlet.name)}</a>'
        f'<nav class="main-nav"><ul>{nav}</ul></nav><form class="search" action="#">'
        f'<input name="q" placeholder="Search"></form></header><main id="content">{main}</main>'
        f'{NEWSLETTER}<footer class="site-footer"><ul><li><a href="/{esc(outlet.key)}/about">'
        f'About us</a></li><li><a href="/{esc(outlet.key)}/about#privacy">Privacy policy</a>'
        f'</li><li><a href="/{esc(outlet.key)}/about#contact">Contact</a></li></ul>'
        f"<p>© {esc(outlet.name)}. All rights reserved. All stories on this demo site are "
        "fictional, written to test news crawlers.</p></footer></body></html>\n"
    )


def related(articles: Sequence[DemoArticle], heading: str = "Related stories") -> str:
    """Return a related-links box, the boilerplate that extraction must leave out."""
    items = "".join(f'<li><a href="{esc(a.path)}">{esc(a.title)}</a></li>' for a in articles)
    return f'<aside class="related"><h2>{esc(heading)}</h2><ul>{items}</ul></aside>'


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _jsonld_graph(a: DemoArticle, url: str, outlet: Outlet) -> tuple[str, str]:
    origin = urlsplit(url)
    home = f"{origin.scheme}://{origin.netloc}"
    site_id, org_id = f"{home}/#site", f"{home}/{outlet.key}/#publisher"
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "@id": site_id, "name": outlet.name},
            {"@type": "Organization", "@id": org_id, "name": outlet.name},
            {
                "@type": "NewsArticle",
                "headline": a.title,
                "datePublished": _iso(a.local_time),
                "dateModified": _iso(a.local_time),
                "author": [{"@type": "Person", "name": name} for name in a.authors],
                "publisher": {"@id": org_id},
                "mainEntityOfPage": {"@type": "WebPage", "@id": url},
                "articleSection": label(a.section),
            },
            {
                "@type": "BreadcrumbList",
                "itemListElement": [{"@type": "ListItem", "position": 1, "name": label(a.section)}],
            },
        ],
    }
    shown = a.local_time.strftime("%a %d %b %Y %H.%M ") + (a.local_time.tzname() or "")
    byline = (
        f'<span class="ng-byline">By {esc(joined_names(a.authors))}</span>' if a.authors else ""
    )
    main = (
        f'<article class="ng-article"><p class="ng-kicker">{esc(label(a.section))}</p>'
        f'<h1 class="ng-headline">{esc(a.title)}</h1><div class="ng-meta">{byline}'
        f'<span class="ng-date">{esc(shown)}</span></div><div class="ng-body">{paragraphs(a)}'
        '</div><div class="ng-share">Share this article: <a href="#">Facebook</a> '
        '<a href="#">X</a> <a href="#">Email</a></div></article>'
    )
    return json_ld(graph) + f'<link rel="canonical" href="{esc(url)}">', main


def _opengraph(a: DemoArticle, url: str, outlet: Outlet) -> tuple[str, str]:
    metas = [
        ("og:type", "article"), ("og:title", a.title), ("og:url", url),
        ("og:site_name", outlet.name), ("og:description", a.paragraphs[0][:200]),
        ("article:published_time", _iso(a.local_time)), ("article:section", label(a.section)),
    ] + [("article:author", name) for name in a.authors]  # fmt: skip
    head = "".join(f'<meta property="{p}" content="{esc(v)}">' for p, v in metas)
    authors = ", ".join(f'<a rel="author" href="#">{esc(n)}</a>' for n in a.authors)
    body = list(a.paragraphs)
    inline = '<div class="related-inline">Read more: <a href="#">Our coverage</a></div>'
    content = "".join(f"<p>{esc(t)}</p>" + (inline if i == 1 else "") for i, t in enumerate(body))
    main = (
        f'<article class="post type-post"><header class="entry-header"><h1 class="entry-title">'
        f'{esc(a.title)}</h1><div class="entry-meta">{"By " + authors + " · " if authors else ""}'
        f'<span class="posted-on">{a.local_time.strftime("%B %d, %Y")}</span></div></header>'
        f'<div class="entry-content">{content}</div><footer class="entry-footer">Filed under: '
        f'<a href="{esc(outlet.section_url(a.section))}">{esc(label(a.section))}</a></footer>'
        "</article>"
    )
    return head, main


def _byline_time(a: DemoArticle, url: str, outlet: Outlet) -> tuple[str, str]:
    names = " and ".join(f'<span class="author">{esc(n)}</span>' for n in a.authors)
    byline = f'<div class="byline">By {names}</div>' if a.authors else ""
    shown = a.local_time.strftime("%d %b %Y, %I:%M %p")
    main = (
        f'<div class="story-wrap"><h1>{esc(a.title)}</h1>{byline}'
        f'<time datetime="{_iso(a.local_time)}">{esc(shown)}</time>'
        f'<section class="story-body">{paragraphs(a)}</section></div>'
    )
    return "", main


def _microdata(a: DemoArticle, url: str, outlet: Outlet) -> tuple[str, str]:
    people = "".join(
        '<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
        f'<span itemprop="name">{esc(n)}</span></span> | '
        for n in a.authors
    )
    shown = a.local_time.strftime("%d %B %Y %H:%M GMT")
    main = (
        '<article itemscope itemtype="https://schema.org/NewsArticle">'
        f'<h1 itemprop="headline">{esc(a.title)}</h1><div class="dateline">{people}'
        f'<time itemprop="datePublished" datetime="{_iso(a.local_time)}">{esc(shown)}</time></div>'
        '<div itemprop="publisher" itemscope itemtype="https://schema.org/Organization">'
        f'<meta itemprop="name" content="{esc(outlet.name)}"></div>'
        f'<div itemprop="articleBody">{paragraphs(a)}</div></article>'
    )
    return "", main


def _meta_date(a: DemoArticle, url: str, outlet: Outlet) -> tuple[str, str]:
    head = f'<meta name="date" content="{_iso(a.local_time)}">'
    head += f'<meta name="description" content="{esc(a.paragraphs[0][:160])}">'
    if a.authors:
        head += f'<meta name="author" content="{esc(", ".join(a.authors))}">'
    byline = f'<p class="byline">By {esc(joined_names(a.authors))}</p>' if a.authors else ""
    shown = a.local_time.strftime("%b. %d, %Y %I:%M %p ET").replace(" 0", " ")
    main = (
        f'<div id="story"><h1 class="headline">{esc(a.title)}</h1>{byline}'
        f'<p class="timestamp">Updated {esc(shown)}</p><div id="story-text">{paragraphs(a)}</div>'
        "</div>"
    )
    return head, main


def _jsonld_plain(a: DemoArticle, url: str, outlet: Outlet) -> tuple[str, str]:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "datePublished": _iso(a.local_time),
        "author": [{"@type": "Person", "name": name} for name in a.authors],
        "publisher": {"@type": "Organization", "name": outlet.name},
    }
    by = f" · By {esc(joined_names(a.authors))}" if a.authors else ""
    shown = a.local_time.strftime("%d.%m.%Y, %H:%M ") + (a.local_time.tzname() or "")
    main = (
        f'<article class="cr-article"><h1>{esc(a.title)}</h1><p class="cr-meta">Published '
        f'{esc(shown)}{by}</p><div class="cr-body">{paragraphs(a)}</div>'
        f'<p class="cr-tags">Tags: <a href="#">{esc(label(a.section))}</a></p></article>'
    )
    return json_ld(data), main


def _yonhap(a: DemoArticle, url: str, outlet: Outlet) -> tuple[str, str]:
    head = (
        f'<meta property="og:title" content="{esc(a.title)}"><meta property="og:url" '
        f'content="{esc(url)}"><meta property="og:type" content="article">'
        f'<meta property="og:site_name" content="{esc(outlet.name)}">'
    )
    stamp = a.local_time.strftime("%Y-%m-%d %H:%M")  # KST implied: the site never says so
    writer = "".join(f'<div class="writer-zone"><span class="tit-name">{esc(n)}</span></div>'
                     for n in a.authors[:1])  # fmt: skip
    main = (
        f'<div class="content03"><div class="inner"><h1 class="tit">{esc(a.title)}</h1>'
        f'{writer}<p class="update-time" data-published-time="{stamp}">'
        f'{stamp}</p><article class="story-news article">{paragraphs(a)}</article>'
        f'<div class="keyword-zone">Keywords <a href="#">#{esc(label(a.section))}</a></div>'
        "</div></div>"
    )
    return head, main


LAYOUTS: dict[str, Callable[[DemoArticle, str, Outlet], tuple[str, str]]] = {
    "jsonld-graph": _jsonld_graph,
    "opengraph": _opengraph,
    "byline-time": _byline_time,
    "microdata": _microdata,
    "meta-date": _meta_date,
    "jsonld-plain": _jsonld_plain,
    "yonhap": _yonhap,
}


def article_page(
    a: DemoArticle, url: str, outlet: Outlet, sections: Sequence[str], others: Sequence[DemoArticle]
) -> str:
    """Render one article in its outlet's layout, with related links to a few others."""
    head, main = LAYOUTS[outlet.layout](a, url, outlet)
    return page(outlet, sections, a.title, head, main + related(others))


def section_page(
    outlet: Outlet,
    sections: Sequence[str],
    section: str,
    links: Sequence[tuple[str, str]],
    next_url: str | None,
) -> str:
    """Render a section list of (url, title) links with an optional rel=next pagination link."""
    items = "".join(
        f'<li class="item-box"><a class="tit-wrap" href="{esc(u)}"><strong class="tit">'
        f"{esc(t)}</strong></a></li>"
        for u, t in links
    )
    head = f'<link rel="next" href="{esc(next_url)}">' if next_url else ""
    more = f'<a class="next" rel="next" href="{esc(next_url)}">Next page</a>' if next_url else ""
    main = f'<h1>{esc(label(section))}</h1><ul class="list">{items}</ul>'
    main += f'<nav class="paging">{more}</nav>'
    return page(outlet, sections, label(section), head, main)


def about_page(outlet: Outlet, sections: Sequence[str]) -> str:
    """Render the outlet's About us page: a real page that is not an article."""
    main = (
        f"<h1>About {esc(outlet.name)}</h1><p>{esc(outlet.name)} is an invented news outlet of "
        "the demo site that ships with the daily briefing. Its stories are fictional and exist "
        "to exercise feeds, sitemaps, section pages and article extraction.</p>"
        '<h2 id="privacy">Privacy</h2><p>This site sets no cookies and keeps no logs beyond the '
        'life of the demo server.</p><h2 id="contact">Contact</h2><p>There is nobody to contact.'
        "</p>"
    )
    return page(outlet, sections, "About us", "", main)


def error_page(status: int, message: str) -> str:
    """Render a bare error page."""
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{status} {esc(message)}'
        f"</title></head><body><h1>{status}</h1><p>{esc(message)}</p></body></html>\n"
    )


def home_page(outlets: Sequence[Outlet]) -> str:
    """Render the site's front door: one link per outlet."""
    items = "".join(f'<li><a href="/{esc(o.key)}/">{esc(o.name)}</a></li>' for o in outlets)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Demo news site'
        f"</title></head><body><h1>Demo news site</h1><ul>{items}</ul><p>Every outlet and "
        "story here is invented, written to test the briefing's crawlers.</p></body></html>\n"
    )
