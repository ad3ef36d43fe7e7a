"""`briefing build`: compose the day's briefing from the store, render it, and archive it."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from briefing.briefs.compose import Briefing, SourceArticle, StoryInput, compose
from briefing.briefs.overrides import apply_to_briefing, apply_to_inputs
from briefing.config import Config
from briefing.mail.message import compile_mail_templates
from briefing.nlp.entities import alias_key, display_name, load_alias_table, story_entity_names
from briefing.nlp.language_codes import language_code
from briefing.output.archive import write_briefing
from briefing.output.display import (
    LABEL_CHARS,
    NAME_CHARS,
    QUOTE_CHARS,
    SENTENCE_CHARS,
    TITLE_CHARS,
    bounded,
)
from briefing.output.render import PdfJob, render_html, render_print_html
from briefing.processes import heap_left_alone
from briefing.stages.decisions import overrides_for
from briefing.stages.health import troubled_sources
from briefing.store.engine import Store
from briefing.store.models import (
    Article,
    ArticleNlp,
    BriefingRecord,
    Story,
    StoryArticle,
    StoryLink,
    utcnow,
)
from briefing.store.search import refresh_after

log = logging.getLogger(__name__)
MAX_ENTITIES = 6
LONGEST_GAP = timedelta(days=7)  # a window never reaches further back than this


@dataclass(frozen=True, slots=True)
class BuildResult:
    day: date
    html: Path
    pdf: Path | None  # None: the PDF was given up (see pdf_note); the mail goes without it
    json: Path
    stories: int
    articles: int
    pdf_note: str = ""


def window_for(session: Session, config: Config, day: date) -> tuple[datetime, datetime]:
    """Return [start, end) in UTC: since the previous briefing's send time, else window_hours."""
    end = config.briefing_due(day)
    previous = session.scalar(
        select(BriefingRecord.day)
        .where(BriefingRecord.day < day)
        .order_by(BriefingRecord.day.desc())
        .limit(1)
    )
    start = end - timedelta(hours=config.briefing.window_hours)
    if previous is not None:
        previous_end = config.briefing_due(previous)
        if end - LONGEST_GAP <= previous_end < start:
            start = previous_end
    return start, end


def _in_window(start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(Article.published_at >= start, Article.published_at < end),
        and_(Article.published_at.is_(None), Article.fetched_at >= start, Article.fetched_at < end),
    )


def ungrouped_before(store: Store, config: Config, day: date) -> int:
    """Count the articles published before day's window ends that no story holds yet."""
    with store.session() as session:
        _start, end = window_for(session, config, day)
        query = select(func.count()).select_from(Article).where(Article.grouped_at.is_(None))
        return int(session.scalar(query.where(_in_window(end - LONGEST_GAP, end))) or 0)


def published_after(store: Store, config: Config, day: date, now: datetime) -> int:
    """Count the articles published between day's window end and now (tomorrow's news)."""
    with store.session() as session:
        _start, end = window_for(session, config, day)
        query = select(func.count()).select_from(Article).where(_in_window(end, now))
        return int(session.scalar(query) or 0)


def _story_inputs(
    session: Session, config: Config, start: datetime, end: datetime
) -> list[StoryInput]:
    active = select(StoryArticle.story_id).join(Article, Article.id == StoryArticle.article_id)
    story_ids = set(session.scalars(active.where(_in_window(start, end))))
    display = load_alias_table().display if story_ids else {}
    inputs = []
    for story in session.scalars(select(Story).where(Story.id.in_(story_ids)).order_by(Story.id)):
        rows = session.execute(
            select(Article, ArticleNlp)
            .join(StoryArticle, StoryArticle.article_id == Article.id)
            .outerjoin(ArticleNlp, ArticleNlp.article_id == Article.id)
            .where(StoryArticle.story_id == story.id)
            .where(or_(Article.published_at < end, Article.published_at.is_(None)))
        ).all()
        related = _related(session, story.id)
        inputs.append(_story_input(story, rows, start, display, config.outlet_name, related))
    return inputs


def _related(session: Session, story_id: str) -> tuple[tuple[str, str, str], ...]:
    """Return (id, label, language) of the stories linked to story_id."""
    query = (
        select(Story.id, Story.label, Story.profile)
        .join(StoryLink, StoryLink.related_id == Story.id)
        .where(StoryLink.story_id == story_id)
        .order_by(StoryLink.created_at, Story.id)
    )
    return tuple(
        (str(i), str(label), _profile_language(profile or {}))
        for i, label, profile in session.execute(query)
    )


def _profile_language(profile: dict) -> str:
    """Return a stored story's language (stories grouped before languages were told apart: en)."""
    return language_code(profile.get("language"))


def _story_input(
    story: Story, rows, start: datetime, display, outlet_name, related=()
) -> StoryInput:  # type: ignore[no-untyped-def]
    entity_counts: Counter[str] = Counter()
    articles = []
    found = [(article, nlp.data if nlp is not None else {}) for article, nlp in rows]
    # One name per entity across the story ("Trump" is "Donald Trump"); outlets are no subject.
    merged = story_entity_names(
        (e["text"], e["label"]) for _, data in found for e in data.get("entities", [])
    )
    outlets = {alias_key(article.source) for article, _ in found}
    for article, data in found:
        named = [
            (merged.get(e["text"], e["text"]), str(e["label"]), int(e.get("count", 1)))
            for e in data.get("entities", [])
        ]
        named = [e for e in named if alias_key(e[0]) not in outlets]
        for name, _, count in named:
            entity_counts[name] += count
        articles.append(
            SourceArticle(
                id=article.id,
                outlet=bounded(outlet_name(article.source), NAME_CHARS),  # display name
                title=bounded(article.title, TITLE_CHARS),
                url=article.url,
                published_at=article.published_at,
                sentences=tuple(bounded(s, SENTENCE_CHARS) for s in data.get("sentences", [])),
                quotes=tuple(_quote(q) for q in data.get("quotes", [])),
                entities=tuple((display_name(n, display), k, c) for n, k, c in named),
            )
        )
    earlier = any(a.published_at is not None and a.published_at < start for a in articles)
    entities = tuple(
        bounded(display_name(name, display), NAME_CHARS)
        for name, _ in entity_counts.most_common(MAX_ENTITIES)
    )
    language = _profile_language(story.profile or {})
    return StoryInput(
        id=story.id,
        label=bounded(story.label, LABEL_CHARS),
        status="developing" if earlier else "new",
        topics=tuple(story.topics),
        entities=entities,
        articles=tuple(articles),
        # Stories in the same language are "see also"; in another, the same news "related".
        related=tuple((i, label) for i, label, lang in related if lang == language),
        language=language,
        crosslingual=tuple(
            (i, bounded(label, LABEL_CHARS), lang) for i, label, lang in related if lang != language
        ),
    )


def _quote(quote: dict[str, str | None]) -> tuple[str, str | None]:
    """Return a stored quote as shown: bounded, without bidi controls."""
    speaker = quote.get("speaker")
    return bounded(quote["text"] or "", QUOTE_CHARS), speaker and bounded(speaker, NAME_CHARS)


def compose_day(
    store: Store, config: Config, day: date, now: datetime | None = None
) -> tuple[Briefing, list[str]]:
    """Compose the briefing of day from the store; also return the in-window article ids."""
    with store.session() as session:
        start, end = window_for(session, config, day)
        stories = _story_inputs(session, config, start, end)
    overrides = overrides_for(store, day, stories)  # the editors' corrections
    # An editor renames a source; the inputs already carry its display name ([[sources]] title).
    shown = {config.outlet_name(source): name for source, name in overrides.outlets.items()}
    overrides = dataclasses.replace(overrides, outlets=shown)
    stories = apply_to_inputs(stories, overrides)
    if config.briefing.languages:  # [briefing] languages: only stories in these languages
        stories = [s for s in stories if s.language in config.briefing.languages]
    articles = [a for s in stories for a in s.articles]
    previous = frozenset(a.id for a in articles if a.published_at and a.published_at < start)
    briefing = compose(
        stories,
        day=day,
        title=config.briefing.title,
        timezone=config.timezone,
        window_start=start,
        window_end=end,
        previous_article_ids=previous,
        topic_order=[t.name for t in config.topics],
        max_stories=config.briefing.max_stories,
        generated_at=now or utcnow(),
        source_notes=[row.reason for row in troubled_sources(store)],
    )
    briefing = apply_to_briefing(briefing, overrides)
    return briefing, sorted({a.id for a in articles if a.id not in previous})


@heap_left_alone()
def build_day(store: Store, config: Config, day: date, now: datetime | None = None) -> BuildResult:
    """Compose, render (HTML + PDF) and archive the briefing of day; record it in the store."""
    # The PDF's child process starts first: its start-up overlaps the composing.
    with PdfJob() as job:
        briefing, article_ids = compose_day(store, config, day, now)
        return publish_briefing(store, config, briefing, article_ids, job=job)


def publish_briefing(
    store: Store,
    config: Config,
    briefing: Briefing,
    article_ids: list[str],
    *,
    job: PdfJob | None = None,
) -> BuildResult:
    """Render a composed briefing (HTML + PDF), archive it and record it in the store."""
    day = briefing.day
    with job or PdfJob() as pdf_job:
        pdf_job.submit(render_print_html(briefing), config.briefing.pdf_time_limit_seconds)
        html = render_html(briefing)  # while the PDF is laid out
        compile_mail_templates()  # so is the send's first message, when it follows
        pdf, why = pdf_job.result()
    if pdf is None:
        log.warning("no PDF for the briefing of %s: %s; the mail goes out without it", day, why)
    paths = write_briefing(config.archive.dir, briefing, html, pdf)
    story_ids = [s.id for s in briefing.stories] + [s.id for s in briefing.also_noted]
    with store.session() as session:
        record = session.get(BriefingRecord, day) or BriefingRecord(day=day)
        record.title = briefing.title
        record.html_path, record.pdf_path, record.json_path = (
            str(paths.html),
            "" if pdf is None else str(paths.pdf),  # "": no PDF this time, and the mail says so
            str(paths.json),
        )
        record.built_at = utcnow()
        record.story_ids, record.article_ids = story_ids, article_ids
        session.add(record)
    log.info("built the briefing of %s: %d stories", day, len(story_ids))
    refresh_after(store, "build")  # grouping before the build changed the stories
    return BuildResult(
        day,
        paths.html,
        None if pdf is None else paths.pdf,
        paths.json,
        len(story_ids),
        briefing.counts.articles,
        why,
    )
