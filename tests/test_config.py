"""The config file: defaults, path resolution, and clear one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from briefing.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]
SOURCE = '[[sources]]\nname = "wire"\nfeeds = ["https://example.org/feed.xml"]\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "briefing.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_starter_config_is_valid(tmp_path: Path) -> None:
    starter = (ROOT / "briefing" / "starter.toml").read_text(encoding="utf-8")
    config = load_config(write(tmp_path, starter))
    assert config.timezone == "Asia/Seoul"
    assert config.sources[0].name == "yonhap"
    assert config.topics[0].entities == ["North Korea", "Russia"]


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SOURCE))
    assert config.store.url == f"sqlite:///{tmp_path.resolve() / 'data' / 'briefing.db'}"
    assert config.archive.dir == tmp_path / "archive"
    assert config.mail.outbox == tmp_path / "outbox"


def test_environment_variable_names_the_file(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, SOURCE)
    monkeypatch.setenv("BRIEFING_CONFIG", str(path))
    assert load_config().sources[0].name == "wire"


def test_secret_comes_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    text = SOURCE + '[mail.smtp]\nhost = "smtp.example.org"\npassword_env = "MY_SECRET"\n'
    config = load_config(write(tmp_path, text))
    monkeypatch.setenv("MY_SECRET", "hunter2")
    assert config.mail.smtp is not None and config.mail.smtp.password() == "hunter2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('timezone = "Mars/Olympus"\n' + SOURCE, "timezone: unknown time zone"),
        (SOURCE + "[crawl]\nconcurency = 3\n", "crawl.concurency: unknown key"),
        (SOURCE + "[crawl]\nconcurrency = 0\n", "crawl.concurrency: Input should be greater"),
        ('[[sources]]\nname = "Bad Name"\nfeeds = ["https://x.org/f"]\n', "sources[0].name"),
        ('[[sources]]\nname = "a"\nfeeds = ["ftp://x.org/f"]\n', "sources[0].feeds"),
        ('[[sources]]\nname = "a"\n', "sources[0]: needs at least one of feeds"),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["https://x.org"]\nallow = ["("]\n',
            "sources[0].allow: '(' is not a valid regular expression",
        ),
        (SOURCE + SOURCE, "source names must be unique; repeated: wire"),
        (SOURCE + '[schedule]\ndaily = "7am"\n', "schedule.daily: must be HH:MM"),
        ("this is = not toml =", "invalid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="briefing init"):
        load_config(tmp_path / "nope.toml")


def test_cli_reports_bad_config_with_exit_code_2(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "[crawl]\nconcurency = 3\n")
    result = subprocess.run(
        [sys.executable, "-m", "briefing", "crawl", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "crawl.concurency: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_writes_a_valid_config(tmp_path: Path) -> None:
    target = tmp_path / "briefing.toml"
    result = subprocess.run(
        [sys.executable, "-m", "briefing", "init", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert parse_config({"sources": []}, base_dir=tmp_path).sources == []
    assert load_config(target).crawl.obey_robots is True
