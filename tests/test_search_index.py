"""The SQLite search index under concurrency: refreshes take turns, reads never write,
the stages keep it current, and duplicates left by earlier versions are repaired."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from briefing.store.engine import MIGRATIONS, Store
from briefing.store.models import Article, Story, StoryArticle
from briefing.store.search import refresh_index, search

THREADS = 8
MOMENT = datetime(2026, 5, 14, 3, 0, tzinfo=UTC)


def add_articles(store: Store, first: int, count: int) -> None:
    """Store articles (and a story holding them) as a crawl and `group` leave them."""
    with store.session() as session:
        session.merge(Story(id="s-port", label="Port talks", updated_at=MOMENT))
        for n in range(first, first + count):
            session.add(
                Article(
                    id=f"a{n}", url=f"https://wire.example/{n}", source="wire",
                    title=f"Harbour strike day {n}", text=f"Dockers walked out again, day {n}.",
                    published_at=MOMENT + timedelta(minutes=n), fetched_at=MOMENT,
                    word_count=6,
                )
            )  # fmt: skip
        session.flush()
        for n in range(first, first + count):
            session.add(StoryArticle(article_id=f"a{n}", story_id="s-port"))


def duplicates(store: Store) -> int:
    """Count index rows beyond the first for each (kind, ref)."""
    query = text(
        "SELECT coalesce(sum(n - 1), 0) FROM "
        "(SELECT count(*) AS n FROM search_fts GROUP BY kind, ref)"
    )
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def together(work: Callable[[], object]) -> list[BaseException]:
    """Run work in THREADS threads released at the same moment; return their errors."""
    gate, errors = threading.Barrier(THREADS), []

    def one() -> None:
        try:
            gate.wait()
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_refreshes_arriving_together_take_turns(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    add_articles(store, 0, 200)
    for round_number in range(3):  # new articles come in, and everyone refreshes at once
        assert together(lambda: refresh_index(store)) == []
        assert duplicates(store) == 0, f"round {round_number}"
        add_articles(store, 200 + round_number * 50, 50)
    assert together(lambda: refresh_index(store)) == []
    hits = search(store, "harbour strike", limit=500)
    ids = [hit.id for hit in hits.articles]
    assert len(ids) == len(set(ids)) == 350  # every article, each listed once
    assert [hit.id for hit in hits.stories] == ["s-port"]


def test_searches_arriving_together_never_write(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    add_articles(store, 0, 100)
    refresh_index(store)
    add_articles(store, 100, 100)  # new articles, not yet indexed
    results: list[list[str]] = []
    errors = together(lambda: results.append([h.id for h in search(store, "dockers").articles]))
    assert errors == [] and duplicates(store) == 0
    assert all(len(ids) == len(set(ids)) for ids in results)
    with store.engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM search_fts WHERE kind='article'"))
        assert count.scalar_one() == 100  # a read leaves the refresh to the stages


def test_the_stages_refresh_the_index(tmp_path: Path) -> None:
    from briefing.stages.transfer import import_jsonl

    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    line = (
        '{"id": "imp1", "url": "https://wire.example/imp1", "source": "wire", '
        '"title": "Lighthouse keepers return", "text": "The lighthouse keepers came back."}'
    )
    import_jsonl(store, [line])
    assert [hit.id for hit in search(store, "lighthouse").articles] == ["imp1"]


def test_a_store_with_duplicates_is_repaired_on_opening(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    old = Store(f"sqlite:///{db}", auto_migrate=False)
    settings = AlembicConfig()
    settings.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:  # a store made before the repair existed
        settings.attributes["connection"] = connection
        command.upgrade(settings, "0003")
    add_articles(old, 0, 10)
    refresh_index(old)
    with old.engine.begin() as connection:  # what concurrent searches left in old versions
        for _ in range(9):
            connection.exec_driver_sql(
                "INSERT INTO search_fts (kind, ref, stamp, title, body) "
                "SELECT kind, ref, stamp, title, body FROM search_fts WHERE kind = 'article'"
                " AND rowid IN (SELECT min(rowid) FROM search_fts GROUP BY kind, ref)"
            )
    assert duplicates(old) == 90
    old.close()
    repaired = Store(f"sqlite:///{db}")  # migrations run on opening
    assert duplicates(repaired) == 0
    ids = [hit.id for hit in search(repaired, "harbour").articles]
    assert sorted(ids) == sorted(f"a{n}" for n in range(10))
