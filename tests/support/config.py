"""Configurations for tests: one way to build a Config, one way to write a briefing.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from briefing.config import Config, parse_config
from support.briefings import WATCH

SENDER = "Briefing <briefing@example.org>"
BASE_URL = "https://briefing.example.org/"


def smtp_section(port: int, **extra: Any) -> dict[str, Any]:
    """Return `[mail.smtp]` for the loopback test server (plain SMTP, short timeout)."""
    return {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5, **extra}


def config_data(**sections: Any) -> dict[str, Any]:
    """Return TOML-shaped config data: a store in the folder's data/ unless one is given."""
    return {"store": {"url": "sqlite:///data/briefing.db"}, **sections}


def make_config(folder: Path, **sections: Any) -> Config:
    """Build a Config rooted in folder from keyword sections (TOML-shaped dicts)."""
    return parse_config(config_data(**sections), base_dir=folder)


def write_config(folder: Path, **sections: Any) -> Path:
    """Write folder/briefing.toml from keyword sections; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "briefing.toml"
    path.write_text(tomli_w.dumps(config_data(**sections)), encoding="utf-8")
    return path


def reader_config(folder: Path, port: int | None, *emails: str, base_url: str = BASE_URL) -> Config:
    """A newsroom for subscriber tests: two topics, subscribers by address, a public base URL."""
    return make_config(
        folder,
        briefing={"title": "Morning Briefing"},
        topics=[{"name": WATCH, "entities": ["North Korea"]}, {"name": "Weather"}],
        mail={"sender": SENDER, **({"smtp": smtp_section(port)} if port else {})},
        subscribers=[{"email": address} for address in emails],
        web={"base_url": base_url},
    )
