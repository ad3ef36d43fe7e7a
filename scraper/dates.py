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
# Regions whose numeric dates put the month first (04/05/2025 is 5 April); everywhere else
# writes the day first, and dotted dates (04.05.2025) are day-first wherever they are used.
MONTH_FIRST_REGIONS = frozenset({"us", "ph", "fm", "mh", "pw", "as", "gu", "mp", "pr", "vi", "um"})
YEAR_FIRST = re.compile(r"^\s*\d{4}\s*[-./年]")
# 2025年5月4日 (Chinese, Japanese) and 2025년 5월 4일 (Korean), which dateutil cannot read.
CJK_DATE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?")
CJK_TIME = re.compile(r"(\d{1,2})\s*[時时시]\s*(\d{1,2})\s*[分분]?")
DOTTED = re.compile(r"^\s*\d{1,2}\.\s*\d{1,2}\.\s*\d{2,4}\b")


def date_values(
    json_ld_dates: list[str | None], meta: dict[str, list[str]], tree: HtmlElement
) -> list[str]:
    """List the page's publishing date candidates, best first: JSON-LD, meta tags, <time>."""
    values = [value for value in json_ld_dates if value]
    values += [value for key in PUBLISHED_KEYS for value in meta.get(key, [])]
    values += [str(value) for value in tree.xpath("//time[@datetime]/@datetime")[:TIME_ELEMENTS]]
    return values


def parse_listed_time(value: object) -> datetime | None:
    """Parse the ISO 8601 time a feed or sitemap listed an article with; naive means UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # past datetime's range in UTC
        return None


def first_date(values: list[str], locale: str | None = None) -> datetime | None:
    """Return the first candidate that parses, numeric dates read in the page's locale."""
    dayfirst = day_first(locale)
    for value in values:
        found = parse_date(value, dayfirst=dayfirst)
        if found:
            return found
    return None


def day_first(locale: str | None) -> bool | None:
    """Tell whether the locale ("tr", "en-GB", "en_US") writes numeric dates day first.

    None when it cannot say: English without a region is written both ways.
    """
    if not locale:
        return None
    language, _, region = locale.strip().lower().replace("_", "-").partition("-")
    region = region.split("-")[-1] if region else ""
    if region in MONTH_FIRST_REGIONS:
        return False
    if language == "en" and not region:
        return None
    return True


def parse_date(value: str | None, *, dayfirst: bool | None = None) -> datetime | None:
    """Parse an ISO 8601, RFC 2822, epoch or written date; return it in UTC.

    Naive values are read as UTC. dayfirst says how the page's locale orders an ambiguous
    numeric date such as 04/05/2025; None keeps the month first except in dotted dates.
    """
    if not value:
        return None
    value = value.strip()
    parsed = _parse_date_text(value, dayfirst)
    if parsed is None or not 1990 <= parsed.year <= 2100:
        return None
    # Naive dates are read as UTC: the page gives no zone, and UTC keeps results reproducible
    # whatever the machine's zone; a publisher-local reading could be off by a day either way.
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_date_text(value: str, dayfirst: bool | None) -> datetime | None:
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
    return _parse_date_loosely(value, dayfirst)


def _parse_date_loosely(value: str, dayfirst: bool | None) -> datetime | None:
    from dateutil import parser as date_parser  # htmldate's dependency, only for odd formats

    value = CJK_TIME.sub(r"\1:\2", CJK_DATE.sub(r"\1-\2-\3 ", value)).strip()
    year_first = bool(YEAR_FIRST.match(value))  # 2025/05/04 is year-month-day everywhere
    if year_first:
        dayfirst = False
    elif DOTTED.match(value):
        dayfirst = True
    elif dayfirst is None:
        dayfirst = False
    with warnings.catch_warnings():  # unknown zone names warn; the date is still usable
        warnings.simplefilter("ignore")
        try:
            return date_parser.parse(value, fuzzy=False, dayfirst=dayfirst, yearfirst=year_first)
        except (ValueError, OverflowError, TypeError):
            return None
