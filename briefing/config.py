"""Load and validate briefing.toml: one file configures every stage."""

from __future__ import annotations

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

from briefing.addresses import parse_sender
from briefing.errors import ConfigError, MailError
from briefing.network import redact_url

DEFAULT_CONFIG_NAME = "briefing.toml"
CONFIG_ENV = "BRIEFING_CONFIG"
DEFAULT_USER_AGENT = (
    "BriefingBot/0.1 (+https://github.com/news-briefing/news-briefing; daily news briefing)"
)
SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# The drivers installed with the package: SQLite, and PostgreSQL through psycopg 3.
STORE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
STORE_URL_FORMS = "use sqlite:///… or postgresql+psycopg://…"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_url(value: str, key: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{key} must be an http(s) URL, got {value!r}")
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
    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = Field(16, ge=1, le=512)
    concurrency_per_domain: int = Field(4, ge=1, le=64)
    download_timeout: float = Field(30, gt=0, le=600)
    max_page_mb: float = Field(10, gt=0, le=200)
    max_redirects: int = Field(5, ge=0, le=20)
    retries: int = Field(2, ge=0, le=10)
    obey_robots: bool = True
    autothrottle: bool = True
    min_words: int = Field(40, ge=0)
    redis_url: str = ""
    # Empty: $BRIEFING_REDIS_PREFIX, else "briefing".
    redis_prefix: str = Field("", pattern=r"^[A-Za-z0-9_.:-]{0,64}$")
    worker_timeout: float = Field(30, gt=1)
    seen_hours: float = Field(1, gt=0)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not re.match(r"^(redis|rediss|unix)://", value):
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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SOURCE_NAME.match(value):
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
    batch_size: int = Field(64, ge=1)
    processes: int = Field(2, ge=1, le=64)


class TopicConfig(_Section):
    name: str
    entities: list[str] = []
    keywords: list[str] = []


class BriefingSettings(_Section):
    title: str = "Morning Briefing"
    window_hours: int = Field(24, ge=1, le=24 * 31)
    max_stories: int = Field(30, ge=1, le=500)
    # Longer than this, the PDF is given up and the mail goes out without it, on time.
    pdf_time_limit_seconds: float = Field(120, gt=0, le=3600)


class ScheduleConfig(_Section):
    crawl: str = "every 2h"
    daily: str = "07:00"
    misfire_grace_minutes: int = Field(120, ge=0)
    crawl_time_limit_minutes: int = Field(60, ge=1)

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
        if not re.match(r"^every \d+\s*[mh]$|^(\S+ ){4}\S+$", value):
            raise ValueError(f"must be 'every N m|h' or a 5-field cron line, got {value!r}")
        return value


class SmtpConfig(_Section):
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password_env: str = "BRIEFING_SMTP_PASSWORD"
    timeout: float = Field(30, gt=0)

    def password(self) -> str:
        """Read the password from its environment variable (never from the file)."""
        return os.environ.get(self.password_env, "")


class MailConfig(_Section):
    sender: str = "Briefing <briefing@localhost>"
    outbox: Path = Path("outbox")
    attach_pdf: bool = True
    smtp: SmtpConfig | None = None

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        try:
            parse_sender(value)
        except MailError as exc:
            raise ValueError(str(exc).removeprefix("mail.sender: ")) from None
        return value


class SubscriberConfig(_Section):
    email: str
    name: str = ""
    topics: list[str] = []
    attach_pdf: bool | None = None


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
    subscribers: list[SubscriberConfig] = []
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
