"""The command line behaves the same everywhere: global options, dates, help, one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
import typer.main
from support.config import write_config
from typer.testing import CliRunner

from briefing.cli import app
from briefing.cli.common import hoist_global_options, parse_day
from briefing.errors import UsageError
from briefing.store.engine import Store
from briefing.store.models import Article, Story, StoryArticle

ROOT = Path(__file__).resolve().parents[1]
SEOUL = ZoneInfo("Asia/Seoul")
WIRE = {"name": "wire", "feeds": ["http://127.0.0.1:9/feed.xml"]}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path, timezone="Asia/Seoul", sources=[WIRE])


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["stories", "-c", "F", "-v"], ["-c", "F", "-v", "stories"]),
        (["-c", "F", "stories"], ["-c", "F", "stories"]),
        (["export", "articles", "--config=F", "--version"],
         ["--config=F", "--version", "export", "articles"]),
        (["import", "--", "-v"], ["import", "--", "-v"]),
    ],
)  # fmt: skip
def test_global_options_are_moved_to_the_front(given: list[str], expected: list[str]) -> None:
    assert hoist_global_options(given) == expected


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_verbose_and_version_work_before_or_after_the_command(
    config_file: Path, where: str
) -> None:
    options = ["--config", str(config_file), "-v"]
    args = [*options, "stories"] if where == "before" else ["stories", *options]
    code, output = invoke(*args)
    assert code == 0, output
    assert "story" in output
    code, output = invoke(
        *(["--version", "stories"] if where == "before" else ["stories", "--version"])
    )
    assert code == 0 and output.startswith("news-briefing"), output  # fmt: skip


def test_a_label_with_markup_characters_is_printed_as_it_is(
    config_file: Path, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'briefing.db'}")
    label = "Tariffs [/] and [bold]bonds[/bold] [link=x]"
    now = datetime.now(UTC)
    with store.session() as session:
        session.add(
            Article(
                id="a1",
                url="https://x.example/a1",
                source="wire",
                title="T",
                text="text",
                published_at=now,
                fetched_at=now,
            )
        )
        session.add(Story(id="s1", label=label, status="new", first_seen=now, last_seen=now))
        session.add(StoryArticle(article_id="a1", story_id="s1"))
        session.commit()  # fmt: skip
    result = CliRunner().invoke(app, ["stories", "-c", str(config_file)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert label in result.output
    assert result.exception is None


@pytest.mark.parametrize("command", ["build", "send"])
@pytest.mark.parametrize("value", ["2026-12-4", "4/12/2026", "tomorrow", "2026-02-30", "20261204"])
def test_a_bad_date_is_a_usage_error_in_every_command(
    config_file: Path, command: str, value: str
) -> None:
    code, output = invoke(command, "--date", value, "-c", str(config_file))
    assert code == 2
    assert output.strip().splitlines() == [
        f"usage error: --date: expected YYYY-MM-DD, 'today' or 'yesterday', got {value!r}"
    ]


def test_dates_are_parsed_strictly_and_relative_days_in_the_config_zone() -> None:
    today = datetime.now(SEOUL).date()
    assert parse_day(None, SEOUL) == today
    assert parse_day("today", SEOUL) == today
    assert parse_day("yesterday", SEOUL) == today - timedelta(days=1)
    assert parse_day("2024-02-29", SEOUL) == date(2024, 2, 29)
    with pytest.raises(UsageError, match="--since"):
        parse_day("2024-2-29", SEOUL, "--since")


def test_command_line_mistakes_are_labelled_as_such(config_file: Path) -> None:
    code, output = invoke("build", "--no-such-option", "-c", str(config_file))
    assert code == 2
    assert (
        output.strip() == "usage error: No such option: --no-such-option (see `root build --help`)"
    )
    code, output = invoke("stories", "--limit", "0", "-c", str(config_file))
    assert code == 2 and output.startswith("usage error: ") and len(output.splitlines()) == 1


def test_errors_are_one_line_whatever_the_terminal_width(tmp_path: Path) -> None:
    missing = tmp_path / ("a-very-long-folder-name-" * 6) / "briefing.toml"
    result = subprocess.run(
        [sys.executable, "-m", "briefing", "build", "-c", str(missing)],
        cwd=tmp_path, env={**os.environ, "COLUMNS": "20", "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"config error: {missing}: no such config file (create one with `briefing init`)"
    ]


def _all_commands(command: typer.main.TyperGroup, path: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        found.append((f"{path} {name}".strip(), sub))
        if hasattr(sub, "commands"):
            found.extend(_all_commands(sub, f"{path} {name}"))
    return found


def test_every_option_has_help_and_placeholders_are_upper_case() -> None:
    root = typer.main.get_command(app)
    for name, command in _all_commands(root):  # type: ignore[arg-type]
        assert command.help, f"{name} has no help"  # type: ignore[attr-defined]
        for param in command.params:  # type: ignore[attr-defined]
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"{name} {param.opts} has no help"
            metavar = getattr(param, "metavar", None)
            if metavar:
                assert metavar.strip("[].") == metavar.strip("[].").upper(), (name, metavar)


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["worker", "--help"], "[crawl] redis_url"),
        (["subscribers", "add", "--help"], "[mail] attach_pdf"),
        (["--help"], "Global options may stand before or after the command"),
    ],
)
def test_help_texts_keep_every_word(command: list[str], words: str) -> None:
    result = CliRunner().invoke(app, command, terminal_width=200)
    assert result.exit_code == 0
    assert words in " ".join(result.output.split())


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    probe = (
        "import sys, briefing.cli; "
        "heavy = [m for m in ('spacy', 'sklearn', 'weasyprint', 'trafilatura', 'scrapy') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def _config(tmp_path: Path, **source: object) -> Path:
    return write_config(tmp_path, sources=[{**WIRE, **source}])


@pytest.mark.parametrize(
    ("extra", "args", "expected"),
    [
        ({"spider": "yonhapp"}, [], "config error: sources[wire].spider: no site spider "
                                    "'yonhapp' (available: yonhap)"),
        ({"enabled": False}, ["wire"], "config error: sources[wire]: disabled (enabled = false);"
                                        " enable it to crawl it"),
    ],
)  # fmt: skip
def test_crawl_mistakes_are_one_line_before_anything_runs(
    tmp_path: Path, extra: dict[str, object], args: list[str], expected: str
) -> None:
    code, output = invoke("crawl", *args, "-c", str(_config(tmp_path, **extra)))
    assert (code, output.strip()) == (2, expected)


def test_init_into_a_missing_folder_says_so(tmp_path: Path) -> None:
    code, output = invoke("init", str(tmp_path / "nowhere" / "briefing.toml"))
    assert code == 2
    assert output.strip() == (
        f"usage error: cannot write {tmp_path / 'nowhere' / 'briefing.toml'}: the folder "
        f"{tmp_path / 'nowhere'} does not exist"
    )


def test_scrapy_list_without_a_config_is_one_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "scrapy.cfg", tmp_path / "scrapy.cfg")
    env = {k: v for k, v in os.environ.items() if k != "BRIEFING_CONFIG"}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=tmp_path, capture_output=True, text=True,
        env={**env, "PYTHONPATH": str(ROOT)}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "config error: briefing.toml: no such config file (create one with `briefing init`)"
    ]


@pytest.mark.slow
def test_a_crawl_whose_every_seed_fails_ends_non_zero(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["crawl", "-c", str(_config(tmp_path))])
    assert result.exit_code == 1, result.output
    assert "no feed, sitemap or section page of any source could be read" in result.output
    assert "failed in" in result.output


def test_an_interrupted_crawl_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefing.stages import crawl as crawl_stage
    from scraper.runtime import CrawlSummary

    def interrupted(*args: object, **kwargs: object) -> CrawlSummary:
        return CrawlSummary(per_source={"wire": {}}, status="interrupted")

    monkeypatch.setattr(crawl_stage, "crawl_and_record", interrupted)
    code, _output = invoke("crawl", "-c", str(_config(tmp_path)))
    assert code == 130
