"""Bad configuration: every malformed config gives one line naming the key, and exit code 2.

Each case runs a real command (`briefing crawl`, `briefing build`) through typer's CliRunner;
a few run as separate processes too, to show what a person at a terminal sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing.cli.main import app

SOURCE = '[[sources]]\nname = "wire"\nfeeds = ["https://example.org/feed.xml"]\n'
SMTP = '[mail.smtp]\nhost = "smtp.example.org"\n'

# (case id, file text, text the one-line message must contain: the key, then why)
CASES: list[tuple[str, str | bytes, str]] = [
    ("unknown-time-zone", 'timezone = "Mars/Olympus"\n' + SOURCE, "timezone: unknown time zone"),
    ("time-zone-not-text", "timezone = 9\n" + SOURCE, "timezone: Input should be a valid string"),
    ("unknown-top-level-key", 'titel = "Briefing"\n' + SOURCE, "titel: unknown key"),
    ("misspelt-crawl-key", SOURCE + "[crawl]\nconcurency = 3\n", "crawl.concurency: unknown key"),
    ("zero-concurrency", SOURCE + "[crawl]\nconcurrency = 0\n", "crawl.concurrency: Input should"),
    (
        "concurrency-not-a-number",
        SOURCE + '[crawl]\nconcurrency = "many"\n',
        "crawl.concurrency: Input should be a valid integer",
    ),
    (
        "negative-timeout",
        SOURCE + "[crawl]\ndownload_timeout = -1\n",
        "crawl.download_timeout: Input should be greater than 0",
    ),
    (
        "robots-not-a-boolean",
        SOURCE + '[crawl]\nobey_robots = "maybe"\n',
        "crawl.obey_robots: Input should be a valid boolean",
    ),
    (
        "redis-url-without-scheme",
        SOURCE + '[crawl]\nredis_url = "localhost:6379"\n',
        "crawl.redis_url: must be a redis://",
    ),
    ("sources-as-a-table", SOURCE.replace("[[sources]]", "[sources]"), "sources: Input should be"),
    ("bad-source-name", SOURCE.replace('"wire"', '"Wire Service"'), "sources[0].name: must be"),
    ("feed-not-http", SOURCE.replace("https:", "ftp:"), "sources[0].feeds: each entry must be"),
    (
        "feeds-not-a-list",
        '[[sources]]\nname = "wire"\nfeeds = "https://example.org/feed.xml"\n',
        "sources[0].feeds: Input should be a valid list",
    ),
    ("source-without-entry-point", '[[sources]]\nname = "wire"\n', "sources[0]: needs at least"),
    (
        "bad-allow-regex",
        SOURCE + 'allow = ["(news"]\n',
        "sources[0].allow: '(news' is not a valid regular expression",
    ),
    ("duplicate-source-names", SOURCE + SOURCE, "sources: source names must be unique"),
    (
        "store-url-other-database",
        '[store]\nurl = "mysql://reader:secret@db.example.org/news"\n' + SOURCE,
        "store.url: unsupported database",
    ),
    ("store-url-not-a-url", '[store]\nurl = "nonsense"\n' + SOURCE, "store.url: 'nonsense' is not"),
    (
        "store-url-missing-driver",
        '[store]\nurl = "postgresql://reader@db.example.org/news"\n' + SOURCE,
        "store.url: unsupported database",
    ),
    ("store-not-a-table", 'store = "briefing.db"\n' + SOURCE, "store: Input should be"),
    ("archive-dir-not-a-path", "[archive]\ndir = 5\n" + SOURCE, "archive.dir: Input"),
    ("daily-time-not-hh-mm", SOURCE + '[schedule]\ndaily = "7am"\n', "schedule.daily: must be"),
    ("crawl-every-what", SOURCE + '[schedule]\ncrawl = "often"\n', "schedule.crawl: must be"),
    (
        "zero-stories",
        SOURCE + "[briefing]\nmax_stories = 0\n",
        "briefing.max_stories: Input should be",
    ),
    ("zero-nlp-processes", SOURCE + "[nlp]\nprocesses = 0\n", "nlp.processes: Input should be"),
    ("bad-sender", SOURCE + '[mail]\nsender = "Briefing desk"\n', "mail.sender: "),
    ("smtp-port-out-of-range", SOURCE + SMTP + "port = 70000\n", "mail.smtp.port: Input should"),
    (
        "smtp-security-unknown",
        SOURCE + SMTP + 'security = "ssl"\n',
        "mail.smtp.security: Input should be",
    ),
    ("smtp-without-host", SOURCE + "[mail.smtp]\nport = 25\n", "mail.smtp.host: Field required"),
    (
        "subscriber-without-email",
        SOURCE + '[[subscribers]]\nname = "Desk"\n',
        "subscribers[0].email",
    ),
    ("topic-without-name", SOURCE + '[[topics]]\nkeywords = ["arms"]\n', "topics[0].name: Field"),
    ("invalid-toml", "this is = not toml =\n", "invalid TOML"),
    ("not-utf-8", SOURCE.encode() + b'[briefing]\ntitle = "Caf\xe9"\n', "not UTF-8 text"),
]
# A config without sources is fine for `build`; only a crawl needs them.
CRAWL_ONLY = [("no-sources", '[briefing]\ntitle = "Briefing"\n', "[[sources]]")]


def write_config(folder: Path, text: str | bytes) -> Path:
    path = folder / "briefing.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def assert_clear_message(output: str, expected: str) -> None:
    """One message naming the key and why; no traceback, Python internals or secrets."""
    assert len(output.strip().splitlines()) == 1, output
    text = output.strip()
    assert text.startswith("config error: "), output
    assert text.count("config error") == 1, output
    assert " ".join(expected.split()) in text, output
    for leak in ("Traceback", 'File "', "pydantic", "sqlalchemy", "For further info", "secret"):
        assert leak not in output, output


def test_the_table_is_large_enough() -> None:
    assert len(CASES) + len(CRAWL_ONLY) >= 15
    assert len({case for case, _, _ in CASES + CRAWL_ONLY}) == len(CASES + CRAWL_ONLY)


@pytest.mark.parametrize("command", ["crawl", "build"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=case) for case, text, expected in CASES],
)
def test_bad_config_names_the_key_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the message names the file as given: keep it short
    write_config(tmp_path, text)
    result = CliRunner().invoke(app, [command, "--config", "briefing.toml"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert_clear_message(result.output, expected)
    assert not (tmp_path / "data").exists()  # nothing was created on the way to the error
    assert not (tmp_path / "archive").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=case) for case, text, expected in CRAWL_ONLY],
)
def test_crawl_without_sources_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, text)
    result = CliRunner().invoke(app, ["crawl", "--config", "briefing.toml"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert_clear_message(result.output, expected)


def run_briefing(args: list[str], cwd: Path, env: dict[str, str] | None) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "BRIEFING_CONFIG")}
    result = subprocess.run(
        [sys.executable, "-m", "briefing", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environment, **(env or {})},
        timeout=120,
    )
    return result.returncode, result.stderr + result.stdout


# (command, case, extra environment): crawl, send, and build with $BRIEFING_CONFIG.
PROCESS_RUNS = [
    ("crawl", "store-url-other-database", None),
    ("send", "bad-sender", None),
    ("build", "duplicate-source-names", {"BRIEFING_CONFIG": "briefing.toml"}),
]


@pytest.fixture(scope="module")
def process_runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, str]]:
    """Run each PROCESS_RUNS entry as `python -m briefing …`; return (expected, code, output)."""
    chosen = {case: (text, expected) for case, text, expected in CASES}
    jobs = []
    for command, case, env in PROCESS_RUNS:
        folder = tmp_path_factory.mktemp(case)
        write_config(folder, chosen[case][0])
        args = [command] if env else [command, "--config", "briefing.toml"]
        jobs.append((folder, args, env))
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda job: run_briefing(job[1], job[0], job[2]), jobs))
    return [
        (chosen[case][1], code, output)
        for (_, case, _), (code, output) in zip(PROCESS_RUNS, results, strict=True)
    ]


@pytest.mark.slow
def test_real_processes_exit_2_with_one_line(
    process_runs: list[tuple[str, int, str]],
) -> None:
    for expected, code, output in process_runs:
        assert code == 2, output
        assert_clear_message(output, expected)
