"""Load and validate briefing.toml: one file configures every stage."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from briefing.addresses import parse_address, parse_sender
from briefing.errors import ConfigError, MailError
from briefing.network import redact_url

DEFAULT_CONFIG_NAME = "briefing.toml"
CONFIG_ENV = "BRIEFING_CONFIG"
DEFAULT_USER_AGENT = (
    "BriefingBot/0.1 (+https://github.com/news-briefing/news-briefing; daily news briefing)"
)
SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # always fullmatch: `$` passes "x\n"
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")  # "ko", "zh-CN", "pt_BR"
# The drivers installed with the package: SQLite, and PostgreSQL through psycopg 3.
STORE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
STORE_URL_FORMS = "use sqlite:///… or postgresql+psycopg://…"


def readable_name(name: str) -> str:
    """Turn a source id into a name for readers: pacific-ledger -> Pacific Ledger."""
    words = re.split(r"[-_\s]+", name.strip())
    return " ".join(word[:1].upper() + word[1:] for word in words if word) or name


class _Section(BaseModel):
    # No nan or inf: TOML allows both, and every later comparison or sleep breaks on them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_url(value: str, key: str) -> str:
    if not re.fullmatch(r"https?://[^\s/?#]+([/?#]\S*)?", value):
        raise ValueError(f"{key} must be an http(s) URL, got {value!r}")
    return value


# A host name or IP literal (IPv6 in brackets), with an optional port.
_PRIVATE_HOST = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:(?P<port>\d{1,5}))?")


def _check_private_allowance(value: str) -> str:
    """Check an allow_private entry: a network ("10.1.0.0/16", "10.0.0.5") or host[:port]."""
    try:
        ipaddress.ip_network(value, strict=False)
        return value
    except ValueError:
        pass
    match = _PRIVATE_HOST.fullmatch(value)
    if match is None or not 1 <= int(match["port"] or 1) <= 65535:
        raise ValueError(
            f"{value!r} is neither a network (10.1.0.0/16) nor a host with an optional port "
            "(intranet.local:8080)"
        )
    return value


class StoreConfig(_Section):
    url: str = "sqlite:///data/briefing.db"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        # Checked here, not when the engine is made: a bad URL is a config error (exit 2),
        # not a traceback from SQLAlchemy deep inside a stage.
        try:
            url = make_url(value)
        except ArgumentError:
            shown = redact_url(value)[:80]
            raise ValueError(f"{shown!r} is not a database URL: {STORE_URL_FORMS}") from None
        if url.drivername not in STORE_DRIVERS:
            shown = url.render_as_string(hide_password=True)
            raise ValueError(f"unsupported database {shown!r}: {STORE_URL_FORMS}")
        return value


class ArchiveConfig(_Section):
    dir: Path = Path("archive")


class CrawlConfig(_Section):
    user_agent: str = Field(DEFAULT_USER_AGENT, pattern=r"^[^\x00-\x1f\x7f]{1,512}$")
    concurrency: int = Field(16, ge=1, le=512)
    concurrency_per_domain: int = Field(4, ge=1, le=64)
    download_timeout: float = Field(30, gt=0, le=600)
    max_page_mb: float = Field(10, gt=0, le=200)
    max_redirects: int = Field(5, ge=0, le=20)
    retries: int = Field(2, ge=0, le=10)
    obey_robots: bool = True
    autothrottle: bool = True
    min_words: int = Field(40, ge=0, le=10_000)
    redis_url: str = ""
    # Empty: $BRIEFING_REDIS_PREFIX, else "briefing".
    redis_prefix: str = Field("", pattern=r"^[A-Za-z0-9_.:-]{0,64}$")
    worker_timeout: float = Field(30, gt=1, le=3600)
    seen_hours: float = Field(1, gt=0, le=24 * 30)
    # Private hosts[:port] or networks any source may fetch besides its own seeds' host:port.
    allow_private: list[str] = []
    # Article URLs one source may queue in one crawl; the rest wait for the next crawl.
    max_urls_per_source: int = Field(10_000, ge=1, le=1_000_000)

    @field_validator("allow_private")
    @classmethod
    def _allow_private(cls, values: list[str]) -> list[str]:
        return [_check_private_allowance(value) for value in values]

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not re.fullmatch(r"(redis|rediss|unix)://\S*", value):
            raise ValueError(f"must be a redis://, rediss:// or unix:// URL, got {value[:80]!r}")
        return value


class SourceConfig(_Section):
    name: str
    feeds: list[str] = []
    sitemaps: list[str] = []
    start_urls: list[str] = []
    allow: list[str] = []
    deny: list[str] = []
    language: str = "en"
    spider: str | None = None
    enabled: bool = True
    title: str = Field("", max_length=120)  # shown to readers; default: a readable name

    @property
    def display_name(self) -> str:
        """Return the name readers see: the title, else the id made readable."""
        return self.title.strip() or readable_name(self.name)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SOURCE_NAME.fullmatch(value):
            raise ValueError("must be lowercase letters, digits, '-' or '_' (at most 64)")
        return value

    @field_validator("feeds", "sitemaps", "start_urls")
    @classmethod
    def _urls(cls, values: list[str]) -> list[str]:
        return [_check_url(value, "each entry") for value in values]

    @field_validator("allow", "deny")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from exc
        return values

    @model_validator(mode="after")
    def _has_entry_point(self) -> SourceConfig:
        if not (self.feeds or self.sitemaps or self.start_urls):
            raise ValueError("needs at least one of feeds, sitemaps or start_urls")
        return self


class NlpConfig(_Section):
    model: str = "en_core_web_sm"
    aliases: dict[str, str] = {}
    batch_size: int = Field(64, ge=1, le=10_000)
    processes: int = Field(2, ge=1, le=64)
    # The daily run and the daemon's crawls enrich articles while the crawl is still
    # fetching (briefing.stages.enrich_along); false: only `briefing group` enriches.
    enrich_with_crawl: bool = True


class TopicConfig(_Section):
    name: str
    entities: list[str] = []
    keywords: list[str] = []


def language_codes(values: list[str]) -> list[str]:
    """Check ISO 639-1/-3 codes ("ko", "ZH-cn"), returning their base codes, each once."""
    codes = []
    for value in values:
        if not LANGUAGE_TAG.fullmatch(value.strip()):
            raise ValueError(f'{value!r} is not a language code such as "en", "ko" or "ja"')
        codes.append(value.strip().lower().replace("_", "-").split("-")[0])
    return list(dict.fromkeys(codes))


class BriefingSettings(_Section):
    title: str = "Morning Briefing"
    window_hours: int = Field(24, ge=1, le=24 * 31)
    max_stories: int = Field(30, ge=1, le=500)
    # Longer than this, the PDF is given up and the mail goes out without it, on time.
    pdf_time_limit_seconds: float = Field(120, gt=0, le=3600)
    languages: list[str] = Field([], max_length=200)  # stories in these languages only; []: all

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[str]) -> list[str]:
        return language_codes(values)


class ScheduleConfig(_Section):
    crawl: str = "every 2h"
    daily: str = "07:00"
    misfire_grace_minutes: int = Field(120, ge=0, le=24 * 60)
    crawl_time_limit_minutes: int = Field(60, ge=1, le=24 * 60)

    @field_validator("daily")
    @classmethod
    def _daily(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"must be HH:MM (24-hour), got {value!r}")
        return value

    @property
    def daily_time(self) -> time:
        """Return the local time of day the briefing is due (`daily`)."""
        hour, minute = self.daily.split(":")
        return time(int(hour), int(minute))

    @field_validator("crawl")
    @classmethod
    def _crawl(cls, value: str) -> str:
        if not re.fullmatch(r"every [1-9]\d{0,3} *[mh]|(\S+ ){4}\S+", value):
            raise ValueError(f"must be 'every N m|h' or a 5-field cron line, got {value!r}")
        return value


class SmtpConfig(_Section):
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password_env: str = Field("BRIEFING_SMTP_PASSWORD", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout: float = Field(30, gt=0, le=600)

    def password(self) -> str:
        """Read the password from its environment variable (never from the file)."""
        return os.environ.get(self.password_env, "")


class MailConfig(_Section):
    sender: str = "Briefing <briefing@localhost>"
    outbox: Path = Path("outbox")
    attach_pdf: bool = True
    smtp: SmtpConfig | None = None
    admin: str = ""  # source-health and failure alerts go here; empty: none are mailed

    @field_validator("admin")
    @classmethod
    def _admin(cls, value: str) -> str:
        if value:
            try:
                parse_address(value)
            except MailError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        try:
            parse_sender(value)
        except MailError as exc:
            raise ValueError(str(exc).removeprefix("mail.sender: ")) from None
        return value


class HealthConfig(_Section):
    """When a source counts as silent, failing or degraded (see `briefing sources`)."""

    silent_hours: float = Field(36, gt=0, le=24 * 90)  # no new article for this long
    failing_runs: int = Field(2, ge=1, le=50)  # consecutive crawls that stored nothing
    window_days: int = Field(7, ge=1, le=90)  # recent articles judged for quality
    short_body_chars: int = Field(400, ge=0, le=100_000)  # a body shorter than this is "short"
    max_short_share: float = Field(0.3, ge=0, le=1)
    max_undated_share: float = Field(0.5, ge=0, le=1)
    max_skipped_share: float = Field(0.5, ge=0, le=1)  # of pages fetched in the last crawl


class ReviewConfig(_Section):
    """The editor's desk: a draft before the send, and what happens when nobody approves it."""

    enabled: bool = False
    draft_at: str = ""  # HH:MM; empty: 30 minutes before [schedule] daily
    unreviewed: Literal["send", "hold"] = "send"
    session_hours: float = Field(12, gt=0, le=24 * 30)  # how long a desk sign-in lasts

    @field_validator("draft_at")
    @classmethod
    def _draft_at(cls, value: str) -> str:
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"must be HH:MM (24-hour), got {value!r}")
        return value


class EditorConfig(_Section):
    """An editor who may sign in to the desk (password hash: `briefing editors add`)."""

    email: str
    name: str = ""

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return parse_address(value)
        except MailError as exc:
            raise ValueError(str(exc)) from None


class WebConfig(_Section):
    """The web app's public face: its address, the key that signs links, plain-HTTP editing."""

    base_url: str = ""  # public address of `briefing serve`: links in mail, unsubscribe
    # The key that signs sessions and subscribers' links; unset: one generated into the store.
    secret_env: str = "BRIEFING_SECRET_KEY"
    allow_http: bool = False  # let the desk run beyond loopback without https (not advised)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        _check_url(value, "base_url")
        if re.search(r"[?#\s\"'<>]", value):
            raise ValueError(f"base_url must be a plain address without ? or #, got {value!r}")
        return value.rstrip("/") + "/"


class SubscriberConfig(_Section):
    email: str
    name: str = ""
    topics: list[str] = []
    attach_pdf: bool | None = None
    languages: list[str] = Field([], max_length=200)  # their mail's languages; []: all

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[str]) -> list[str]:
        return language_codes(values)


class Config(_Section):
    timezone: str = "UTC"
    store: StoreConfig = StoreConfig()
    archive: ArchiveConfig = ArchiveConfig()
    crawl: CrawlConfig = CrawlConfig()
    sources: list[SourceConfig] = []
    nlp: NlpConfig = NlpConfig()
    topics: list[TopicConfig] = []
    briefing: BriefingSettings = BriefingSettings()
    schedule: ScheduleConfig = ScheduleConfig()
    mail: MailConfig = MailConfig()
    health: HealthConfig = HealthConfig()
    subscribers: list[SubscriberConfig] = []
    review: ReviewConfig = ReviewConfig()
    editors: list[EditorConfig] = []
    web: WebConfig = WebConfig()
    base_dir: Path = Path(".")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, sources: list[SourceConfig]) -> list[SourceConfig]:
        names = [source.name for source in sources]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicates)}")
        return sources

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def briefing_due(self, day: date) -> datetime:
        """Return the moment (UTC) day's briefing is due: the daily time in the config's zone."""
        return datetime.combine(day, self.schedule.daily_time, self.tz).astimezone(UTC)

    def briefing_day(self, now: datetime | None = None) -> date:
        """Return the day of the latest daily time at or before now (the edition being made)."""
        local = (now or datetime.now(self.tz)).astimezone(self.tz)
        due = self.briefing_due(local.date())
        return local.date() if due <= local else local.date() - timedelta(days=1)

    def draft_due(self, day: date) -> datetime:
        """Return the moment (UTC) day's draft is due: `[review] draft_at`, else 30 min early."""
        if self.review.draft_at:
            hour, minute = self.review.draft_at.split(":")
            at = datetime.combine(day, time(int(hour), int(minute)), self.tz)
            if at.astimezone(UTC) <= self.briefing_due(day):
                return at.astimezone(UTC)
            return (at - timedelta(days=1)).astimezone(UTC)  # e.g. 23:00 the evening before
        return self.briefing_due(day) - timedelta(minutes=30)

    def editor(self, email: str) -> EditorConfig | None:
        """Return the editor with this address (any case), or None."""
        wanted = email.strip().casefold()
        return next((e for e in self.editors if e.email.casefold() == wanted), None)

    def outlet_name(self, source: str) -> str:
        """Return the display name of a source id (a readable form when it is not configured)."""
        for entry in self.sources:
            if entry.name == source:
                return entry.display_name
        return readable_name(source)

    def source(self, name: str) -> SourceConfig:
        """Return the source called name, or raise ConfigError."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"unknown source {name!r} (known: {known})")


def _location(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif not str(part).startswith(("function-after", "function-before")):
            key += f".{part}" if key else str(part)
    return key or "(top level)"


def _describe(error: ValidationError, origin: str) -> str:
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key (check its spelling in the README's reference)"
    return f"{origin}: {_location(first['loc'])}: {message}"


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Resolve relative paths (archive, outbox, sqlite file) against the config's folder."""
    store = data.setdefault("store", {})
    url = store.get("url", StoreConfig().url) if isinstance(store, dict) else None
    if isinstance(url, str) and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:" and not relative.startswith("file:"):
            store["url"] = f"sqlite:///{(base / relative).resolve()}"
    for section, key, default in (("archive", "dir", "archive"), ("mail", "outbox", "outbox")):
        block = data.setdefault(section, {})
        if isinstance(block, dict):
            value = block.get(key, default)
            if isinstance(value, str):
                block[key] = str((base / value).resolve())
    return data


def parse_config(data: dict[str, Any], *, base_dir: Path, origin: str = "config") -> Config:
    """Validate a config mapping, resolving relative paths against base_dir."""
    data = _resolve_paths(dict(data), base_dir)
    data["base_dir"] = base_dir
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None


def config_path(explicit: str | Path | None = None) -> Path:
    """Return the config path: the argument, else $BRIEFING_CONFIG, else ./briefing.toml."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME)


def load_config(path: str | Path | None = None) -> Config:
    """Read, validate and return the configuration, or raise ConfigError."""
    file = config_path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such config file (create one with `briefing init`)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    return parse_config(data, base_dir=file.resolve().parent, origin=str(file))
