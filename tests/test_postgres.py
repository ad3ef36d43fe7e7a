"""PostgreSQL as the store: concurrent writers, migrations by many workers, every command.

Each test gets its own throwaway database (the postgres_url fixture) and skips, saying why,
when the server on 127.0.0.1:5432 is not reachable.
"""

from __future__ import annotations

import gc
import multiprocessing
import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from briefing.stages.crawl import open_store
from briefing.store.articles import ArticleRecord, recent_fingerprints, save_article
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleUrl
from scraper.addon import SharedFingerprintIndex
from scraper.fingerprint import FingerprintIndex, simhash

pytestmark = pytest.mark.postgres
URLS = [f"https://wire.example/2026/11/28/story-{n}" for n in range(40)]
WRITERS = 4


def body(n: int) -> str:
    rng = random.Random(n)
    words = "summit envoy port harbour missile talks treaty council ministers budget".split()
    return " ".join(rng.choice(words) + str(rng.randint(0, 999)) for _ in range(120))


def save_everything(url: str, writer: int, start: float) -> list[str]:
    """One writer process: save every URL, in its own order, racing the other writers."""
    store = Store(url)
    order = list(range(len(URLS)))
    random.Random(writer).shuffle(order)
    time.sleep(max(0.0, start - time.time()))  # all writers begin at the same moment
    statuses = []
    for n in order:
        record = ArticleRecord(url=URLS[n], source="wire", title=f"Story {n}", text=body(n))
        result = store.run(lambda session, r=record: save_article(session, r))  # type: ignore[misc]
        statuses.append(f"{n}:{result.status}")
    store.close()
    return statuses


def test_concurrent_writers_store_each_url_once(postgres_url: str) -> None:
    Store(postgres_url).close()  # migrated before the race: that is another test's subject
    context = multiprocessing.get_context("spawn")
    start = time.time() + 3
    with context.Pool(WRITERS) as pool:
        results = pool.starmap(
            save_everything, [(postgres_url, writer, start) for writer in range(WRITERS)]
        )
    outcomes = Counter(entry for statuses in results for entry in statuses)
    for n in range(len(URLS)):
        assert outcomes[f"{n}:stored"] >= 1, n
        assert outcomes[f"{n}:stored"] + outcomes[f"{n}:duplicate_url"] == WRITERS, n
    store = Store(postgres_url)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == len(URLS)
        urls = set(session.scalars(select(ArticleUrl.url)))
    store.close()
    assert urls == set(URLS)


def race(store: Store, first: ArticleRecord, second: ArticleRecord) -> list[str]:
    """Save first and, while its transaction is open, second; return their statuses."""
    statuses: list[str] = []
    with store.session() as session:
        statuses.append(save_article(session, first).status)  # inserted, not yet committed
        racer = threading.Thread(
            target=lambda: statuses.append(store.run(lambda s: save_article(s, second)).status)
        )
        racer.start()
        time.sleep(1.0)  # the racer has looked the URL up (not there) and waits on the insert
    racer.join(timeout=10)
    return statuses


def test_the_writer_that_loses_the_race_is_told_so(postgres_url: str) -> None:
    store = Store(postgres_url)
    record = ArticleRecord(url=URLS[0], source="wire", title="A", text=body(0))
    statuses = race(store, record, record)
    store.close()
    assert statuses == ["stored", "duplicate_url"]


def test_the_writer_that_loses_the_race_keeps_its_aliases(postgres_url: str) -> None:
    store = Store(postgres_url)
    first = ArticleRecord(url=URLS[0], source="wire", title="A", text=body(0))
    second = ArticleRecord(
        url=URLS[0], source="agency", title="A", text=body(0), aliases=[URLS[0] + "?via=agency"]
    )
    race(store, first, second)
    with store.session() as session:
        urls = {
            url: ident
            for url, ident in session.execute(select(ArticleUrl.url, ArticleUrl.article_id))
        }
        articles = session.scalar(select(func.count()).select_from(Article))
    store.close()
    assert articles == 1 and set(urls) == {URLS[0], URLS[0] + "?via=agency"}
    assert len(set(urls.values())) == 1


def test_near_duplicates_stored_by_another_worker_are_recognised(postgres_url: str) -> None:
    store = Store(postgres_url)
    index = SharedFingerprintIndex(store)  # a worker's index, loaded while the store is empty
    assert len(index) == 0
    other_worker = Store(postgres_url)
    original = simhash(body(7))
    record = ArticleRecord(URLS[7], "wire", "Story", body(7), fingerprint=original)
    with other_worker.session() as session:
        stored = save_article(session, record)
    wire_copy = simhash("SEOUL (Agency) -- " + body(7) + " Copyright Agency.")
    index.next_refresh = 0  # as if REFRESH_SECONDS had passed
    assert wire_copy is not None and index.nearest(wire_copy) == stored.article_id
    copy = ArticleRecord(URLS[8], "agency", "Story", body(7), fingerprint=wire_copy)
    with store.session() as session:
        assert save_article(session, copy, duplicate_of=stored.article_id).status == (
            "duplicate_content"
        )
        assert FingerprintIndex(recent_fingerprints(session)).nearest(wire_copy) is not None
    store.close()
    other_worker.close()


def open_and_count(url: str) -> int:
    store = open_store(url)
    with store.session() as session:
        version_rows = session.execute(text("SELECT count(*) FROM alembic_version")).scalar()
    store.close()
    return int(version_rows or 0)


def test_workers_starting_together_migrate_a_new_database_once(postgres_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        assert pool.map(open_and_count, [postgres_url] * 3) == [1, 1, 1]


@pytest.mark.slow
# The commands leave their Store to the garbage collector, and psycopg warns when it
# closes a connection that way: not this test's subject.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_every_command_runs_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    from briefing.cli.main import app
    from briefing.demo.run import demo_config_text
    from briefing.demo.site import serve_demo_site

    runner = CliRunner()
    with serve_demo_site() as (base, _site):
        config = tmp_path / "briefing.toml"
        config.write_text(
            demo_config_text(base).replace("[mail]\n", f'[mail]\noutbox = "{tmp_path}/outbox"\n')
            + f'\n[store]\nurl = "{postgres_url}"\n[archive]\ndir = "{tmp_path}/archive"\n'
        )
        outputs = {}
        for command in (
            ["crawl"],
            ["group"],
            ["stories"],
            ["build"],
            ["run", "--no-crawl", "--draft"],  # the demo has review on: the desk's commands
            ["review"],
            ["approve", "--send-now", "--editor", "editor@demo.example.org"],
            ["send"],
            ["export", "articles"],
            ["archive", "list"],
        ):
            result = runner.invoke(app, [*command, "--config", str(config)])
            assert result.exit_code == 0, (command, result.output[-1500:])
            outputs[command[0]] = result.output
    gc.collect()  # within the test, whose filter ignores the ResourceWarnings (see above)
    assert "sent to 1 subscriber(s)" in outputs["approve"]
    assert outputs["export"].count('"url"') >= 30
    store = Store(postgres_url)
    with store.session() as session:
        assert session.scalar(text("SELECT count(*) FROM stories")) > 0
    store.close()
