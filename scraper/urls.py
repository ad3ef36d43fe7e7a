"""Canonical URLs: one spelling per article, so variants and trackers do not duplicate it."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the page itself.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|_gl"
    r"|ref|ref_src|ref_url|cmpid|icid|ncid|ocid|smid|smtyp|sharesource|taid|spm"
    r"|at_medium|at_campaign|at_custom\d*|xtor|__twitter_impression)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Return url without fragment, tracking parameters, default port or case noise.

    The scheme and host are lowercased, remaining query parameters keep their order
    (order can matter to the site), and an empty path becomes "/". A URL that cannot be
    parsed (a port out of range, a stray bracket) comes back as given, less its fragment:
    callers that must fetch it check it with url_problem first.
    """
    try:
        return _canonical(url)
    except ValueError:
        return url.strip().split("#", 1)[0]


def url_problem(url: str) -> str | None:
    """Return why url cannot be fetched over http(s), or None when it can."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        return str(exc)
    if parts.scheme.lower() not in ("http", "https"):
        return f"not a web URL ({parts.scheme or 'no'} scheme)"
    if not parts.hostname:
        return "no host"
    return None


def _canonical(url: str) -> str:
    # Without the fragment first: "…/page #top" must not keep the space before the "#".
    parts = urlsplit(url.split("#", 1)[0].strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # an IPv6 literal: without its brackets the port would run into it
        host = f"[{host}]"
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(key)
    ]
    path = re.sub(r"/{2,}", "/", parts.path).strip() or "/"  # no stray spaces at its ends
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def same_site(a: str, b: str) -> bool:
    """Return whether two URLs share host and port, whatever their schemes (www. ignored).

    Another port on the same host is another server, possibly another source's: a page
    claiming a canonical URL there could take over that source's article.
    """
    first, second = _site(a), _site(b)
    return first is not None and first == second


def _site(url: str) -> tuple[str, int | None] | None:
    """Return (host less www., explicit non-default port) of url, or None when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".").removeprefix("www.")
    if port == DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None
    return (host, port) if host else None
