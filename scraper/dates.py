"""Parse publishing dates and pick the page's own from JSON-LD, meta tags and <time>."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml.html import HtmlElement

PUBLISHED_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "http://ogp.me/ns/article#published_time", "datepublished", "parsely-pub-date",
    "sailthru.date", "cxenseparse:recs:publishtime", "pubdate", "publishdate", "publish-date",
    "publish_date", "published", "dc.date.issued", "dc.date", "dcterms.issued", "dcterms.date",
    "dcterms.created", "dc.date.created", "date", "article.published", "cms_creationdate",
)  # fmt: skip
# <time datetime> elements looked at when no metadata dates the page: the first few only,
# further down they date comments and teasers.
TIME_ELEMENTS = 3


def published_date(
    json_ld_dates: list[str | None], meta: dict[str, list[str]], tree: HtmlElement
) -> datetime | None:
    """Return the first parseable publishing date: JSON-LD, then meta tags, then <time>."""
    for value in json_ld_dates:
        found = parse_date(value)
        if found:
            return found
    for key in PUBLISHED_KEYS:
        for value in meta.get(key, []):
            found = parse_date(value)
            if found:
                return found
    for value in tree.xpath("//time[@datetime]/@datetime")[:TIME_ELEMENTS]:
        found = parse_date(value)
        if found:
            return found
    return None


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
