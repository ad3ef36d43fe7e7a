"""Tables of the store: every stage reads and writes these, nothing else holds state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Store datetimes as UTC and always hand back timezone-aware UTC values.

    SQLite has no time zones; keeping naive UTC in the column and re-attaching UTC on the
    way out gives the same behaviour on SQLite and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Source(Base):
    __tablename__ = "sources"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(16))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_crawled: Mapped[datetime | None]


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    # 64-bit SimHash of the body, stored signed so it fits BIGINT on every database.
    fingerprint: Mapped[int | None] = mapped_column(BigInteger, index=True)
    grouped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ArticleUrl(Base):
    """Every URL an article was found at: its canonical URL and each alias or wire copy."""

    __tablename__ = "article_urls"
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str | None] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the outlet at this URL published it: a wire copy's republication time.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="running")
    # {"total": {...}, "per_source": {name: {"fetched": n, "stored": n, "skipped/<reason>": n}}}
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SourceHealth(Base):
    """Each source's latest health, and the status its admin was last told about."""

    __tablename__ = "source_health"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="healthy")
    reason: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    alerted_status: Mapped[str] = mapped_column(String(16), default="healthy")


class ArticleNlp(Base):
    __tablename__ = "article_nlp"
    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    enriched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Story(Base):
    __tablename__ = "stories"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Compact matching state (top terms and entities) so new articles join without rereading.
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoryArticle(Base):
    __tablename__ = "story_articles"
    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[str] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_story_articles_story", "story_id"),)


class StoryLink(Base):
    """A related story ("see also"): a sibling incident, or the story this one merged into."""

    __tablename__ = "story_links"
    story_id: Mapped[str] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[str] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BriefingRecord(Base):
    __tablename__ = "briefings"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    html_path: Mapped[str] = mapped_column(Text)
    pdf_path: Mapped[str] = mapped_column(Text)
    json_path: Mapped[str] = mapped_column(Text)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    story_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    article_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class Subscriber(Base):
    """Someone who receives the briefing, added with `briefing subscribers add`."""

    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(Text, default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # ISO 639-1 codes of the stories their mail carries; None or empty: every language.
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    # None follows [mail] attach_pdf; True or False overrides it for this subscriber.
    attach_pdf: Mapped[bool | None] = mapped_column(Boolean)
    # `remove` deactivates rather than deletes, so past deliveries keep their recipient.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # store: managed here (CLI, web); config: a [[subscribers]] entry, kept here only so
    # that its links have an id and its unsubscribe (active = False) is honoured.
    managed_by: Mapped[str] = mapped_column(String(16), default="store", server_default="store")
    # Bumped at each confirmed (re)subscription: links signed for an earlier epoch are dead.
    epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubscriptionEvent(Base):
    """One change to a subscription: who, what, when and through which door."""

    __tablename__ = "subscription_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    # requested | confirmed | changed | unsubscribed | added | removed
    action: Mapped[str] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16))  # web | one-click | cli
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppKey(Base):
    """A secret the app generated for itself (the link-signing key), kept with the data."""

    __tablename__ = "app_keys"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """One briefing to one recipient: the record that makes sending exactly-once."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    # pending -> sending -> sent | failed; see briefing/delivery.py for what `sending` means.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Chosen before the first attempt and kept for every retry, so receivers can de-duplicate.
    message_id: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "host:pid" of the process that marked the row `sending`: when that process is gone,
    # a resuming run takes the row over at once instead of waiting for the lease.
    claimed_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (UniqueConstraint("day", "recipient", name="uq_deliveries_day_recipient"),)


class Decision(Base):
    """One editorial decision: who made which correction when (the desk's history).

    `kind` says what (headline, drop, order, section, merge, move, lead, quote, outlet,
    note, approve); `story_id`/`article_id`/`target` say on what; `day` is set for the
    decisions that hold for one edition only. A later decision on the same thing wins.
    """

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    day: Mapped[date | None] = mapped_column(Date, index=True)
    story_id: Mapped[str | None] = mapped_column(String(64), index=True)
    article_id: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)  # another story, a quote key, a source
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    editor: Mapped[str] = mapped_column(String(254))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Edition(Base):
    """A day's edition under review: its draft, and whether (and by whom) it was approved."""

    __tablename__ = "editions"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # draft -> approved | held | unreviewed (sent without review at the daily time)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    article_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    story_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    approved_by: Mapped[str | None] = mapped_column(String(254))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EditorAccount(Base):
    """An editor's password hash (argon2id) and sign-in failures (the lockout)."""

    __tablename__ = "editor_accounts"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
