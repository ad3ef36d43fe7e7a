"""Source health: each status with its reason, the alert once per change, where it is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.config import SENDER, make_config
from support.smtp import LoopbackController, Recorder
from typer.testing import CliRunner

from briefing.cli import app
from briefing.config import Config, HealthConfig
from briefing.stages.health import Figures, alert_changes, check_sources, classify, source_health
from briefing.store.engine import Store
from briefing.store.models import Article, CrawlRun

NOW = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")
RULES = HealthConfig()
GOOD_TEXT = "The port reopened after the strike ended. " * 20


def test_a_source_never_crawled_is_not_judged() -> None:
    assert classify("wire", Figures(), RULES, NOW, SEOUL).reason == "not crawled yet"


@pytest.mark.parametrize(
    ("figures", "status", "reason"),
    [
        (Figures(last_run={"fetched": 12, "stored": 4}, runs=3, recent_articles=20,
                 median_body_chars=2400, last_stored=NOW - timedelta(hours=3)),
         "healthy", "last article 4 Dec 04:00"),
        (Figures(last_run={"fetched": 0}, runs=2, runs_without_article=2,
                 last_stored=NOW - timedelta(hours=30)),
         "failing", "wire failing (2 crawls failed): no page could be fetched"),
        (Figures(last_run={"fetched": 9, "skipped/http_503": 9}, runs=5, runs_without_article=3,
                 last_stored=NOW - timedelta(hours=5)),
         "failing", "wire failing (3 crawls failed): 9 pages fetched in the last crawl, "
                    "all skipped as http_503"),
        (Figures(last_run={"fetched": 47, "skipped/not_article": 47}, runs=9,
                 runs_without_article=9, last_stored=datetime(2026, 12, 1, 21, 10, tzinfo=UTC)),
         "silent", "No articles from wire since 2 Dec 06:10: 47 pages fetched in the last crawl, "
                   "all skipped as not_article"),
        (Figures(last_run={"fetched": 10, "stored": 10}, runs=2, recent_articles=10,
                 short_bodies=6, last_stored=NOW),
         "degraded", "60% of recent articles have an empty or very short body"),
        (Figures(last_run={"fetched": 10, "stored": 10}, runs=2, recent_articles=10, undated=8,
                 last_stored=NOW),
         "degraded", "80% of recent articles have no date"),
    ],
)  # fmt: skip
def test_each_status_has_its_reason(figures: Figures, status: str, reason: str) -> None:
    verdict = classify("wire", figures, RULES, NOW, SEOUL)
    assert (verdict.status, verdict.reason) == (status, reason)


def test_one_failed_crawl_is_not_yet_failing() -> None:
    figures = Figures(last_run={"fetched": 0}, runs=4, runs_without_article=1, last_stored=NOW)
    assert classify("wire", figures, RULES, NOW, SEOUL).status == "healthy"


# Through the store: crawls recorded, articles stored, verdicts kept.
def make(tmp_path: Path, **mail: object) -> tuple[Config, Store]:
    config = make_config(
        tmp_path,
        timezone="Asia/Seoul",
        sources=[
            {"name": "wire", "feeds": ["http://127.0.0.1:9/wire.xml"]},
            {"name": "gazette", "feeds": ["http://127.0.0.1:9/gazette.xml"]},
        ],
        mail={"sender": SENDER, **mail},
    )
    return config, Store(config.store.url)


def crawl(store: Store, at: datetime, **per_source: dict[str, int]) -> None:
    with store.session() as session:
        stats = {"per_source": per_source}
        session.add(CrawlRun(sources=list(per_source), started_at=at, finished_at=at,
                             status="finished", stats=stats))  # fmt: skip
        session.commit()


def store_articles(store: Store, source: str, at: datetime, count: int, text: str) -> None:
    with store.session() as session:
        for n in range(count):
            url = f"https://{source}.example/{at:%Y%m%d%H}/{n}"
            session.add(Article(id=url[-40:], url=url, source=source, title=f"Story {n}",
                                text=text, published_at=at, fetched_at=at))  # fmt: skip
        session.commit()


def statuses(store: Store) -> dict[str, str]:
    return {row.source: row.status for row in source_health(store)}


def test_a_source_whose_pages_start_failing_then_recovers(tmp_path: Path) -> None:
    config, store = make(tmp_path)
    start = NOW - timedelta(hours=6)
    store_articles(store, "wire", start, 5, GOOD_TEXT)
    store_articles(store, "gazette", start, 5, GOOD_TEXT)
    crawl(store, start, wire={"fetched": 6, "stored": 5}, gazette={"fetched": 6, "stored": 5})
    assert statuses(store) == {}
    check_sources(store, config, now=start)
    assert statuses(store) == {"wire": "healthy", "gazette": "healthy"}
    for hours in (4, 2):
        bad = {"fetched": 3, "skipped/http_500": 3}
        crawl(
            store,
            NOW - timedelta(hours=hours),
            wire=bad,
            gazette={"fetched": 2, "already_stored": 2},
        )
    check_sources(store, config, now=NOW)
    assert statuses(store) == {"wire": "failing", "gazette": "healthy"}
    store_articles(store, "wire", NOW, 2, GOOD_TEXT)
    crawl(store, NOW, wire={"fetched": 3, "stored": 2}, gazette={"fetched": 1, "already_stored": 1})
    check_sources(store, config, now=NOW)
    assert statuses(store)["wire"] == "healthy"


def test_a_source_whose_bodies_go_empty_is_degraded(tmp_path: Path) -> None:
    config, store = make(tmp_path)
    store_articles(store, "gazette", NOW - timedelta(days=2), 4, GOOD_TEXT)
    store_articles(store, "gazette", NOW - timedelta(hours=1), 8, "Subscribe to read.")
    crawl(store, NOW, gazette={"fetched": 8, "stored": 8})
    (verdict,) = [v for v in check_sources(store, config, now=NOW) if v.source == "gazette"]
    assert verdict.status == "degraded"
    assert verdict.reason == "67% of recent articles have an empty or very short body"


@pytest.fixture
def smtp(smtp_server: tuple[Recorder, LoopbackController]) -> tuple[Recorder, LoopbackController]:
    return smtp_server


def test_the_admin_is_told_once_per_change_through_a_real_smtp_server(
    tmp_path: Path, smtp: tuple[Recorder, LoopbackController]
) -> None:
    recorder, controller = smtp
    server = {"host": "127.0.0.1", "port": controller.port, "security": "none"}
    config, store = make(tmp_path, admin="ops@example.org", smtp=server)
    store_articles(store, "gazette", NOW, 3, GOOD_TEXT)
    for hours in (3, 1):
        crawl(store, NOW - timedelta(hours=hours), wire={"fetched": 0},
              gazette={"fetched": 3, "already_stored": 3})  # fmt: skip
    check_sources(store, config, now=NOW)
    assert alert_changes(store, config) == [("wire", "failing")]
    assert alert_changes(store, config) == []  # told already: nothing twice
    check_sources(store, config, now=NOW)
    assert alert_changes(store, config) == []
    store_articles(store, "wire", NOW, 1, GOOD_TEXT)
    crawl(store, NOW, wire={"fetched": 1, "stored": 1}, gazette={"fetched": 1, "already_stored": 1})
    check_sources(store, config, now=NOW)
    assert alert_changes(store, config) == [("wire", "healthy")]
    told = [m.parsed() for m in recorder.to("ops@example.org")]
    assert [m["Subject"] for m in told] == ["Source wire is failing", "Source wire recovered"]
    assert "wire failing (2 crawls failed): no page could be fetched" in told[0].get_content()


def test_briefing_sources_lists_status_and_reason(tmp_path: Path) -> None:
    config, store = make(tmp_path)
    store_articles(store, "wire", datetime.now(UTC) - timedelta(days=3), 2, GOOD_TEXT)
    crawl(store, datetime.now(UTC), wire={"fetched": 4, "skipped/not_article": 4},
          gazette={"fetched": 0})  # fmt: skip
    config_file = tmp_path / "briefing.toml"
    config_file.write_text(
        'timezone = "Asia/Seoul"\n'
        f'[store]\nurl = "{config.store.url}"\n'
        '[[sources]]\nname = "wire"\nfeeds = ["http://127.0.0.1:9/wire.xml"]\n'
    )
    result = CliRunner().invoke(app, ["sources", "-c", str(config_file)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "silent" in result.output
    assert "all skipped as not_article" in result.output


def test_the_colophon_and_the_sources_page_name_a_silent_source(tmp_path: Path) -> None:
    from support.web import Client

    from briefing.stages.build import build_day
    from briefing.web.app import create_app
    from briefing.web.pages import Site

    config, store = make(tmp_path)
    now = datetime.now(UTC)
    store_articles(store, "gazette", now - timedelta(hours=2), 2, GOOD_TEXT)
    store_articles(store, "wire", now - timedelta(days=4), 1, GOOD_TEXT)
    crawl(store, now, wire={"fetched": 5, "skipped/not_article": 5},
          gazette={"fetched": 2, "stored": 2})  # fmt: skip
    check_sources(store, config)
    built = build_day(store, config, config.briefing_day())
    html = built.html.read_text(encoding="utf-8")
    assert "Sources to check: No articles from wire since" in html
    assert "5 pages fetched in the last crawl, all skipped as not_article" in html
    site = Site(config.archive.dir, store, "Morning Briefing", config.tz)
    page = Client(create_app(site)).get("/sources/")
    assert page.status_code == 200
    assert page.text.index("wire") < page.text.index("gazette")  # worst first
    assert "silent" in page.text and "healthy" in page.text
