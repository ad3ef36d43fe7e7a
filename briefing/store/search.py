"""Full-text search over stories and articles: SQLite FTS5, or PostgreSQL full text.

SQLite keeps a copy of each story's and article's words in the FTS5 table `search_fts`
(migration 0003). `refresh_index` brings it in step with the store: the stages that change
what is indexed call it (crawl, import, group, build) and `briefing serve` at start. A search
only reads: searches arriving together once each inserted the same rows. Refreshes take
turns (BEGIN IMMEDIATE: the check and the writes are one transaction), and each removes any
duplicate rows it finds (migration 0004 repaired stores that had them). On PostgreSQL the
database indexes the articles itself and stories are ranked on the fly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from briefing.errors import SearchError
from briefing.store.engine import Store
from briefing.store.models import Article, Story, StoryArticle

log = logging.getLogger(__name__)

MAX_TERMS = 12
MARK_START, MARK_END = "\x02", "\x03"  # snippet markers no article text contains
SIGNATURE_KIND = "meta"
Docs = dict[str, tuple[str, str]]  # id -> (title, body)
# Stories' labels weigh most, then their article titles; articles' titles, then bodies.
SQLITE_MATCH = """
SELECT ref, -bm25(search_fts, 0, 0, 0, 8.0, 1.0) AS score,
       snippet(search_fts, -1, char(2), char(3), '…', 18) AS snippet
FROM search_fts WHERE search_fts MATCH :query AND kind = :kind
ORDER BY bm25(search_fts, 0, 0, 0, 8.0, 1.0) LIMIT :limit
"""
PG_ARTICLE_VECTOR = (
    "to_tsvector('english'::regconfig, "
    "left(coalesce(a.title, '') || ' ' || coalesce(a.text, ''), 200000))"
)
PG_ARTICLES = f"""
SELECT a.id AS ref, ts_rank({PG_ARTICLE_VECTOR}, q.query) AS score,
       ts_headline('english', left(coalesce(a.text, ''), 20000), q.query,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=30, MinWords=12')
           AS snippet
FROM articles a, websearch_to_tsquery('english', :query) AS q(query)
WHERE {PG_ARTICLE_VECTOR} @@ q.query
ORDER BY score DESC LIMIT :limit
"""
PG_STORIES = """
SELECT s.id AS ref, ts_rank(doc.vector, q.query) AS score,
       ts_headline('english', coalesce(doc.titles, ''), q.query,
                   'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=30, MinWords=12')
           AS snippet
FROM stories s
LEFT JOIN (
    SELECT sa.story_id, string_agg(a.title, ' · ') AS titles
    FROM story_articles sa JOIN articles a ON a.id = sa.article_id GROUP BY sa.story_id
) t ON t.story_id = s.id
CROSS JOIN LATERAL (SELECT t.titles,
    setweight(to_tsvector('english', coalesce(s.label, '')), 'A')
    || setweight(to_tsvector('english', coalesce(t.titles, '')), 'C') AS vector) doc
CROSS JOIN websearch_to_tsquery('english', :query) AS q(query)
WHERE doc.vector @@ q.query
ORDER BY score DESC LIMIT :limit
"""


@dataclass(frozen=True, slots=True)
class StoryHit:
    id: str
    label: str
    status: str
    article_count: int
    last_seen: datetime | None
    score: float
    snippet: str  # raw text with MARK_START/MARK_END around matches; see highlight()
    direct: bool  # the story's own label or article titles matched, not only an article body


@dataclass(frozen=True, slots=True)
class ArticleHit:
    id: str
    title: str
    source: str
    url: str
    published_at: datetime | None
    story_id: str | None
    score: float
    snippet: str


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    terms: tuple[str, ...]
    stories: tuple[StoryHit, ...]
    articles: tuple[ArticleHit, ...]
    matched_all: bool  # False when no document held every term and any term was enough


def query_terms(query: str) -> tuple[str, ...]:
    """Split what a person typed into plain words, dropping every search operator."""
    return tuple(dict.fromkeys(re.findall(r"\w+", query.lower())))[:MAX_TERMS]


def highlight(snippet: str) -> Markup:
    """Escape a snippet and wrap its matches in <mark>."""
    escaped = str(escape(snippet))
    if escaped.count(MARK_START) != escaped.count(MARK_END):  # a stray marker in the text
        return Markup(escaped.replace(MARK_START, "").replace(MARK_END, ""))
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def _fts_query(terms: Iterable[str], joiner: str) -> str:
    # Each term quoted: FTS5 then reads it as a phrase, never as syntax.
    return joiner.join(f'"{term}"' for term in terms)


def _signature(session: Session) -> str:
    """Summarise what the index covers, cheaply, to notice when the store changed."""
    articles = session.execute(
        select(func.count(), func.max(Article.fetched_at), func.sum(Article.word_count))
    ).one()
    stories = session.execute(
        select(func.count(), func.max(Story.updated_at), func.sum(func.length(Story.label)))
    ).one()
    members = session.scalar(select(func.count()).select_from(StoryArticle))
    return "|".join(str(value) for value in (*articles, *stories, members))


def _article_stamps(session: Session) -> dict[str, str]:
    query = select(Article.id, Article.fetched_at, Article.word_count, func.length(Article.title))
    return {
        ref: f"{fetched}|{words}|{length}" for ref, fetched, words, length in session.execute(query)
    }


def _article_texts(session: Session, ids: list[str]) -> Docs:
    docs: Docs = {}
    for start in range(0, len(ids), 500):  # bounded IN lists; only changed articles are read
        query = select(Article.id, Article.title, Article.text).where(
            Article.id.in_(ids[start : start + 500])
        )
        docs.update({ref: (title, body) for ref, title, body in session.execute(query)})
    return docs


def _story_docs(session: Session) -> tuple[dict[str, str], Docs]:
    """Return each story's stamp, and its document: the label, then article titles and topics."""
    titles: dict[str, list[str]] = {}
    members = select(StoryArticle.story_id, Article.title).join(
        Article, Article.id == StoryArticle.article_id
    )
    for story_id, title in session.execute(members.order_by(Article.published_at, Article.id)):
        titles.setdefault(story_id, []).append(title)
    stamps, docs = {}, {}
    for story in session.scalars(select(Story)):
        own = titles.get(story.id, [])
        stamps[story.id] = f"{story.updated_at}|{len(own)}|{story.label}"
        docs[story.id] = (story.label, " · ".join([*own, *story.topics]))
    return stamps, docs


def _sync(
    session: Session, kind: str, stamps: dict[str, str], load: Callable[[list[str]], Docs]
) -> int:
    """Make the index rows of one kind match stamps, loading only what changed."""
    indexed = session.execute(
        text("SELECT rowid, ref, stamp FROM search_fts WHERE kind = :kind"), {"kind": kind}
    ).all()
    stale, current = [], set()
    for rowid, ref, stamp in indexed:
        if stamps.get(ref) != stamp or ref in current:  # changed, gone, or a duplicate
            stale.append(rowid)
        else:
            current.add(ref)
    for rowid in stale:
        session.execute(text("DELETE FROM search_fts WHERE rowid = :rowid"), {"rowid": rowid})
    missing = [ref for ref in stamps if ref not in current]
    fresh = [
        {"kind": kind, "ref": ref, "stamp": stamps[ref], "title": title, "body": body}
        for ref, (title, body) in (load(missing) if missing else {}).items()
    ]
    if fresh:
        session.execute(
            text(
                "INSERT INTO search_fts (kind, ref, stamp, title, body) "
                "VALUES (:kind, :ref, :stamp, :title, :body)"
            ),
            fresh,
        )
    return len(stale) + len(fresh)


def _stored_signature(session: Session) -> str | None:
    return session.scalar(
        text("SELECT stamp FROM search_fts WHERE kind = :kind"), {"kind": SIGNATURE_KIND}
    )


def refresh_index(store: Store, *, force: bool = False) -> int:
    """Bring the SQLite search index in step with the store; return the rows changed."""
    if store.dialect != "sqlite":
        return 0  # PostgreSQL maintains its own index

    def work(session: Session) -> int:
        # Take the write lock before reading: two refreshes that both read the old state
        # would each insert the same rows.
        session.execute(text("BEGIN IMMEDIATE"))
        signature = _signature(session)
        if not force and _stored_signature(session) == signature:
            return 0
        articles = _article_stamps(session)
        changed = _sync(session, "article", articles, lambda ids: _article_texts(session, ids))
        stories, docs = _story_docs(session)
        changed += _sync(session, "story", stories, lambda ids: {i: docs[i] for i in ids})
        _sync(session, SIGNATURE_KIND, {"store": signature}, lambda ids: {"store": ("", "")})
        log.info("search index refreshed: %d rows changed", changed)
        return changed

    return store.run(work)


def refresh_after(store: Store, stage: str) -> None:
    """Refresh the index after a stage changed the store; a failure is logged, not raised."""
    try:
        refresh_index(store)
    except OperationalError as exc:  # the stage's own work is done and kept
        log.warning("search index not refreshed after %s: %s", stage, exc.orig)


def _ranked(session: Session, sql: str, params: dict[str, object]) -> list[tuple[str, float, str]]:
    return [
        (ref, float(score), snippet or "")
        for ref, score, snippet in session.execute(text(sql), params)
    ]


def _matches(
    session: Session, dialect: str, terms: tuple[str, ...], joiner: str, limit: int
) -> tuple[list[tuple[str, float, str]], list[tuple[str, float, str]]]:
    """Return (story matches, article matches) as (id, score, snippet), best first."""
    if dialect == "sqlite":
        query = _fts_query(terms, f" {joiner} ")
        stories = _ranked(session, SQLITE_MATCH, {"query": query, "kind": "story", "limit": limit})
        articles = _ranked(
            session, SQLITE_MATCH, {"query": query, "kind": "article", "limit": limit * 4}
        )
        return stories, articles
    query = (" or " if joiner == "OR" else " ").join(terms)
    stories = _ranked(session, PG_STORIES, {"query": query, "limit": limit})
    return stories, _ranked(session, PG_ARTICLES, {"query": query, "limit": limit * 4})


def _story_hits(
    session: Session,
    direct: list[tuple[str, float, str]],
    articles: list[ArticleHit],
    limit: int,
) -> tuple[StoryHit, ...]:
    """Rank stories: those matched themselves first, then those reached through an article."""
    order: dict[str, tuple[float, str, bool]] = {
        ref: (score, snip, True) for ref, score, snip in direct
    }
    for hit in articles:
        if hit.story_id and hit.story_id not in order:
            order[hit.story_id] = (hit.score, hit.snippet, False)
    ids = list(order)[:limit]
    sizes = dict(
        session.execute(
            select(StoryArticle.story_id, func.count())
            .where(StoryArticle.story_id.in_(ids))
            .group_by(StoryArticle.story_id)
        ).all()
    )
    rows = {story.id: story for story in session.scalars(select(Story).where(Story.id.in_(ids)))}
    return tuple(
        StoryHit(
            id=ref,
            label=rows[ref].label,
            status=rows[ref].status,
            article_count=sizes.get(ref, 0),
            last_seen=rows[ref].last_seen,
            score=order[ref][0],
            snippet=order[ref][1],
            direct=order[ref][2],
        )
        for ref in ids
        if ref in rows
    )


def _article_hits(session: Session, matches: list[tuple[str, float, str]]) -> list[ArticleHit]:
    ids = [ref for ref, _score, _snippet in matches]
    rows = session.execute(
        select(Article, StoryArticle.story_id)
        .outerjoin(StoryArticle, StoryArticle.article_id == Article.id)
        .where(Article.id.in_(ids))
    ).all()
    found = {article.id: (article, story_id) for article, story_id in rows}
    return [
        ArticleHit(a.id, a.title, a.source, a.url, a.published_at, story_id, score, snippet)
        for ref, score, snippet in matches
        if ref in found  # else deleted since the index was refreshed
        for a, story_id in [found[ref]]
    ]


def search(store: Store, query: str, *, limit: int = 20) -> SearchResults:
    """Find the stories and articles matching every word of query (else any word), best first."""
    terms = query_terms(query)
    if not terms:
        return SearchResults(query, terms, (), (), True)
    try:
        with store.session() as session:
            matched_all = True
            stories, articles = _matches(session, store.dialect, terms, "AND", limit)
            if not stories and not articles and len(terms) > 1:
                matched_all = False
                stories, articles = _matches(session, store.dialect, terms, "OR", limit)
            article_hits = _article_hits(session, articles)
            story_hits = _story_hits(session, stories, article_hits, limit)
    except OperationalError as exc:
        if "search_fts" not in str(exc.orig):
            raise
        raise SearchError("the store has no search index (SQLite without FTS5?)") from None
    return SearchResults(query, terms, story_hits, tuple(article_hits[:limit]), matched_all)


def is_search_object(name: str | None) -> bool:
    """Tell whether a schema object belongs to the search index, which no model declares.

    Alembic's autogenerate and compare_metadata skip these (include_name), since the
    FTS5 table and the PostgreSQL expression index live outside the ORM models.
    """
    return bool(name) and (name == "ix_articles_fulltext" or str(name).startswith("search_fts"))
