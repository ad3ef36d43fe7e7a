"""Which URLs from articles may become links in what we render (HTML, PDF, mail, web)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_href(url: object) -> str | None:
    """Return url when it is a plain http(s) link, else None (shown as text, not linked).

    Article URLs come from the web: javascript:, data:, file: and URLs with control
    characters, spaces or quotes never become an href. Kept free of heavy imports so the
    web app and mail can use it without loading WeasyPrint.
    """
    if not isinstance(url, str):
        return None
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ord(char) < 33 or char in "<>\"'`" for char in candidate):
        return None
    return candidate
