"""Shared fixtures: a fresh store and config per test, no network, no ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing.config import Config, parse_config
from briefing.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'briefing.db'}")


def make_config(tmp_path: Path, **sections: object) -> Config:
    """Build a Config rooted in tmp_path from keyword sections (TOML-shaped dicts)."""
    data: dict[str, object] = {"store": {"url": "sqlite:///data/briefing.db"}, **sections}
    return parse_config(data, base_dir=tmp_path)
