"""Articles in the store: save with de-duplication, look up, export and import as JSONL."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, delete, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from briefing.limits import clip_authors, clip_body, clip_title
from briefing.store.models import Article, ArticleNlp, ArticleUrl, Source, utcnow
from briefing.store.wire import Copy, is_original

log = logging.getLogger(__name__)
SaveStatus = Literal["stored", "duplicate_url", "duplicate_content"]
# The longest URL the store keeps (articles.url, article_urls.url): PostgreSQL enforces it,
# SQLite would not, so it is checked here and both stores accept the same URLs.
MAX_URL_LENGTH = 2048
EXPORT_FIELDS = ("id", "url", "source", "title", "authors", "published_at", "language", "text")


def article_id_for(url: str) -> str:
    """Return the stable id of the article whose canonical URL is url."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


@dataclass(slots=True)
class ArticleRecord:
    """An article on its way into the store."""

    url: str
    source: str
    title: str
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    fetched_at: datetime | None = None
    language: str | None = None
    fingerprint: int | None = None
    id: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class SaveResult:
    status: SaveStatus
    article_id: str


def _insert_ignore(session: Session, table: Any, values: dict[str, Any]) -> bool:
    """Insert a row unless its key exists; return whether it was inserted (race-safe)."""
    statement = _insert_ignore_statement(session.get_bind().dialect.name, table)
    return session.execute(statement, values).first() is not None


@functools.cache
def _insert_ignore_statement(dialect: str, table: Any) -> Any:
    """Build the INSERT … ON CONFLICT DO NOTHING once: a crawl runs it twice an article.

    The values come as parameters at execution; building the statement anew each time cost
    about as much CPU as running it.
    """
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # RETURNING, not rowcount: psycopg 3 reports -1 rows for INSERT … ON CONFLICT DO NOTHING.
    return insert(table).on_conflict_do_nothing().returning(literal_column("1"))


# Built once: a crawl looks up every article's URL.
_KNOWN_URL = select(ArticleUrl.article_id).where(ArticleUrl.url == bindparam("url"))


def known_url(session: Session, url: str) -> str | None:
    """Return the id of the article already stored under url (canonical or alias)."""
    return session.scalar(_KNOWN_URL, {"url": url})


def known_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Return those of urls already stored (canonical or alias), in one query per 500."""
    wanted = list(dict.fromkeys(urls))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(chunk))))
    return found


def without_nul(value: str) -> str:
    """Return value without NUL characters, which PostgreSQL text cannot hold."""
    return value.replace("\x00", "") if "\x00" in value else value


def add_alias(
    session: Session,
    article_id: str,
    url: str,
    source: str | None,
    published_at: datetime | None = None,
) -> bool:
    """Record that article_id was also found at url; return whether the URL was new.

    A URL the store cannot hold is not recorded (logged): the article keeps its others.
    """
    url = without_nul(url)
    if len(url) > MAX_URL_LENGTH:
        log.info("alias of %s not kept: %d characters (%.80s…)", article_id, len(url), url)
        return False
    values = {"url": url, "article_id": article_id, "source": source, "first_seen": utcnow()}
    return _insert_ignore(session, ArticleUrl, {**values, "published_at": published_at})


def ensure_source(session: Session, name: str, language: str | None = None) -> None:
    _insert_ignore(session, Source, {"name": name, "language": language, "first_seen": utcnow()})


def save_article(
    session: Session,
    record: ArticleRecord,
    duplicate_of: str | None = None,
    *,
    source_known: bool = False,
) -> SaveResult:
    """Store record, or attach its URLs to the article it duplicates.

    duplicate_of is the id of a stored article with near-identical text (a wire copy); the
    caller finds it with a FingerprintIndex. A URL seen before is a duplicate whatever the text.
    source_known: the caller has seen record.source's row committed (a crawl writes one
    source's articles by the thousand), so it is not written again.
    Raises ValueError for a canonical URL longer than MAX_URL_LENGTH, on every store alike.
    """
    record.url = without_nul(record.url)
    record.language = _language(record.language)
    if len(record.url) > MAX_URL_LENGTH:
        raise ValueError(f"URL longer than {MAX_URL_LENGTH} characters ({len(record.url)})")
    existing = known_url(session, record.url)
    if existing:
        for alias in record.aliases:
            add_alias(session, existing, alias, record.source)
        return SaveResult("duplicate_url", existing)
    if duplicate_of:
        _save_copy(session, record, duplicate_of)
        return SaveResult("duplicate_content", duplicate_of)
    article_id = record.id or article_id_for(record.url)
    if not source_known:
        ensure_source(session, record.source, record.language)
    inserted = _insert_ignore(session, Article, _row(record, article_id))
    if not inserted:  # another writer stored the same URL or id a moment ago
        winner = known_url(session, record.url) or article_id
        for alias in record.aliases:
            add_alias(session, winner, alias, record.source)
        return SaveResult("duplicate_url", winner)
    for url in dict.fromkeys((record.url, *record.aliases)):
        add_alias(session, article_id, url, record.source, record.published_at)
    return SaveResult("stored", article_id)


def _save_copy(session: Session, record: ArticleRecord, article_id: str) -> None:
    """File a wire copy under the stored article; the original publication becomes the article.

    The article keeps its id (stories and NLP results refer to it) and takes the original's
    URL, outlet, time and text; the copy it replaces stays as an alias with its outlet and time.
    """
    stored = session.get(Article, article_id)
    candidate = Copy(record.source, record.authors, record.text, record.published_at)
    if stored is not None and is_original(
        candidate, Copy(stored.source, stored.authors or [], stored.text, stored.published_at)
    ):
        log.info("%s is the original of %s's copy at %s", record.url, stored.source, stored.url)
        add_alias(session, article_id, stored.url, stored.source, stored.published_at)
        session.execute(
            update(ArticleUrl)
            .where(ArticleUrl.url == stored.url)
            .values(published_at=stored.published_at)
        )
        ensure_source(session, record.source, record.language)
        for name, value in _row(record, article_id).items():
            if name not in ("id", "fetched_at"):
                setattr(stored, name, value)
        # The parse was of the copy's text (its republication credit line and all).
        session.execute(delete(ArticleNlp).where(ArticleNlp.article_id == article_id))
    for url in dict.fromkeys((record.url, *record.aliases)):
        add_alias(session, article_id, url, record.source, record.published_at)


def _row(record: ArticleRecord, article_id: str) -> dict[str, Any]:
    # NUL is stripped from every string (JSON-LD can carry \u0000): SQLite keeps it,
    # PostgreSQL refuses the row, and both must accept the same articles.
    text = clip_body(without_nul(record.text))
    return {
        "id": article_id,
        "url": record.url,
        "source": without_nul(record.source),
        "title": clip_title(without_nul(record.title)),
        "authors": clip_authors(without_nul(author) for author in record.authors),
        "published_at": record.published_at,
        "fetched_at": record.fetched_at or utcnow(),
        "language": _language(record.language),
        "text": text,
        "word_count": len(text.split()),
        "fingerprint": record.fingerprint,
    }


def _language(value: str | None) -> str | None:
    """Return a language tag that fits the store's 16 characters (en-US-x-…: its "en")."""
    tag = without_nul(value or "").strip()
    return (tag if len(tag) <= 16 else tag.split("-")[0][:16]) or None


def recent_fingerprints(session: Session, days: int = 14) -> Iterator[tuple[str, int]]:
    """Yield (id, fingerprint) of articles fetched in the last days, for near-dup checks."""
    since = utcnow() - timedelta(days=days)
    query = select(Article.id, Article.fingerprint).where(
        Article.fetched_at >= since, Article.fingerprint.is_not(None)
    )
    for article_id, value in session.execute(query):
        if value is not None:
            yield str(article_id), int(value)


def to_export(article: Article, nlp: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the JSON-ready export record of an article, with what the reader sees of its NLP.

    `entities` and `quotes` are null until the article is enriched (`briefing group`), and
    stay null, with `nlp_error` saying why, for an article that could not be enriched.
    """
    record = {name: getattr(article, name) for name in EXPORT_FIELDS}
    published = article.published_at
    record["published_at"] = published.isoformat() if published else None
    record["entities"] = record["quotes"] = record["nlp_error"] = None
    if nlp is not None and nlp.get("error"):
        record["nlp_error"] = nlp["error"]
    elif nlp is not None:
        record["entities"] = [
            {"name": e["text"], "type": e["label"]} for e in nlp.get("entities", [])
        ]
        record["quotes"] = [
            {"text": q["text"], "speaker": q.get("speaker"), "speaker_type": q.get("speaker_type")}
            for q in nlp.get("quotes", [])
        ]
    return record


def export_articles(session: Session, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Yield articles as export records, oldest first, optionally published since a time.

    An article without a publication time counts from when it was fetched.
    """
    query = (
        select(Article, ArticleNlp.data)
        .outerjoin(ArticleNlp, ArticleNlp.article_id == Article.id)
        .order_by(Article.fetched_at, Article.id)
    )
    if since is not None:
        undated = Article.published_at.is_(None) & (Article.fetched_at >= since)
        query = query.where((Article.published_at >= since) | undated)
    for article, nlp in session.execute(query).yield_per(500):
        yield to_export(article, nlp)


class ImportLineError(ValueError):
    """A line of an import file that cannot become an article."""


def parse_import_line(line: str) -> ArticleRecord:
    """Turn one JSONL line into an ArticleRecord, or raise ImportLineError saying why."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ImportLineError(f"not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ImportLineError("not a JSON object")
    if not isinstance(data.get("text"), str) or not data["text"].strip():
        raise ImportLineError("'text' must be a non-empty string")
    url = data.get("url")
    if url is None and data.get("id") is not None:
        # Corpora without URLs still need a unique address; the id provides one.
        url = f"urn:briefing:import:{data['id']}"
    if not isinstance(url, str) or not url.strip():
        raise ImportLineError("'url' must be a non-empty string (or give an 'id')")
    if len(without_nul(url.strip())) > MAX_URL_LENGTH:
        raise ImportLineError(f"'url' is longer than the store keeps ({MAX_URL_LENGTH} characters)")
    published = data.get("published_at")
    try:
        published_at = _parse_time(published) if published else None
    except (ValueError, OverflowError, TypeError):
        raise ImportLineError(f"'published_at' is not ISO 8601: {published!r}") from None
    authors = data.get("authors") or []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise ImportLineError("'authors' must be a list of strings")
    article_id = data.get("id")
    if article_id is not None and (not isinstance(article_id, str | int) or not str(article_id)):
        raise ImportLineError("'id' must be a string")
    # The store's key and source columns hold 64 characters, on PostgreSQL strictly.
    if article_id is not None and len(str(article_id)) > 64:
        raise ImportLineError("'id' is longer than 64 characters")
    if len(str(data.get("source") or "")) > 64:
        raise ImportLineError("'source' is longer than 64 characters")
    return ArticleRecord(
        id=str(article_id) if article_id is not None else None,
        url=url.strip(),
        source=str(data.get("source") or "import"),
        title=clip_title(str(data.get("title") or "")),
        text=clip_body(data["text"]),
        authors=clip_authors(authors),
        published_at=published_at,
        language=data["language"] if isinstance(data.get("language"), str) else None,
    )


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iter_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """Yield (line number, line) for the non-blank lines of a JSONL stream."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line
