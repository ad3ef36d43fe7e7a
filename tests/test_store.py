"""The store: migrations on first use, de-duplication, import and export."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect

from briefing.stages.transfer import export_jsonl, import_jsonl
from briefing.store.articles import ArticleRecord, article_id_for, recent_fingerprints, save_article
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleUrl
from scraper.fingerprint import FingerprintIndex, hamming, simhash

TEXT = " ".join(f"word{i} sentence about the summit in Vladivostok" for i in range(40))


def record(url: str, text: str = TEXT, **extra: object) -> ArticleRecord:
    return ArticleRecord(url=url, source="wire", title="Summit", text=text, **extra)  # type: ignore[arg-type]


def test_first_use_creates_schema_in_wal_mode(store: Store) -> None:
    assert {"articles", "article_urls", "crawl_runs", "sources", "stories"} <= set(
        inspect(store.engine).get_table_names()
    )
    if store.dialect == "sqlite":  # PostgreSQL has no journal mode to choose
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_reopening_an_existing_store_keeps_its_data(store_url: str) -> None:
    first = Store(store_url)
    with first.session() as session:
        save_article(session, record("https://a.example/1"))
    first.close()
    reopened = Store(store_url)
    with reopened.session() as session:
        assert session.get(Article, article_id_for("https://a.example/1")) is not None
    reopened.close()


def test_same_url_is_stored_once(store: Store) -> None:
    with store.session() as session:
        first = save_article(session, record("https://a.example/1"))
        second = save_article(
            session, record("https://a.example/1", aliases=["https://a.example/1?x"])
        )
    assert (first.status, second.status) == ("stored", "duplicate_url")
    assert second.article_id == first.article_id
    with store.session() as session:
        assert session.query(Article).count() == 1
        assert session.get(ArticleUrl, "https://a.example/1?x").article_id == first.article_id


def test_wire_copy_keeps_every_url(store: Store) -> None:
    with store.session() as session:
        first = save_article(session, record("https://a.example/1"))
        copy = save_article(session, record("https://b.example/9"), duplicate_of=first.article_id)
    assert copy.status == "duplicate_content"
    with store.session() as session:
        urls = {u.url for u in session.query(ArticleUrl).filter_by(article_id=first.article_id)}
    assert urls == {"https://a.example/1", "https://b.example/9"}


def test_published_times_come_back_in_utc(store: Store) -> None:
    local = datetime.fromisoformat("2026-11-28T09:30:00+09:00")
    with store.session() as session:
        result = save_article(session, record("https://a.example/t", published_at=local))
    with store.session() as session:
        article = session.get(Article, result.article_id)
        assert article is not None and article.published_at == local
        assert article.published_at.tzinfo == UTC


def test_near_duplicate_found_by_fingerprint(store: Store) -> None:
    copy = "SEOUL (Wire) -- " + TEXT + " Copyright Wire. All rights reserved."
    original = simhash(TEXT)
    assert original is not None and hamming(original, simhash(copy) or 0) <= 10
    with store.session() as session:  # the signed 64-bit value survives the round trip
        stored = save_article(session, record("https://a.example/1", fingerprint=original))
    with store.session() as session:
        index = FingerprintIndex(recent_fingerprints(session))
    assert index.nearest(simhash(copy) or 0) == stored.article_id
    other = simhash("An earthquake of magnitude 6.1 struck central Chile on Monday " * 5)
    assert index.nearest(other or 0) is None


def test_import_keeps_ids_and_reports_bad_lines(store: Store) -> None:
    lines = [
        json.dumps({"id": "ecb-1", "url": "https://x.example/1", "title": "A", "text": TEXT}),
        "{not json",
        json.dumps({"id": "ecb-2", "url": "https://x.example/2", "text": ""}),
        json.dumps(
            {
                "id": "ecb-3",
                "url": "https://x.example/3",
                "text": TEXT,
                "published_at": "2026-11-27T10:00:00+09:00",
                "authors": ["Kim"],
            }
        ),
    ]
    report = import_jsonl(store, lines)
    assert report.imported == 2
    assert [number for number, _ in report.errors] == [2, 3]
    out = io.StringIO()
    assert export_jsonl(store, out) == 2
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {e["id"] for e in exported} == {"ecb-1", "ecb-3"}
    third = next(e for e in exported if e["id"] == "ecb-3")
    assert third["published_at"] == "2026-11-27T01:00:00+00:00"
    assert set(third) == {
        "id",
        "url",
        "source",
        "title",
        "authors",
        "published_at",
        "language",
        "text",
        "entities",
        "quotes",
        "nlp_error",
    }
    assert third["entities"] is None and third["quotes"] is None  # not enriched yet
    assert third["nlp_error"] is None


def test_import_keeps_distinct_ids_that_share_a_url(store: Store) -> None:
    lines = [
        json.dumps({"id": f"live-{n}", "url": "https://x.example/live", "text": f"{TEXT} {n}"})
        for n in range(3)
    ]
    lines.append(json.dumps({"id": "no-url", "text": TEXT + " alone"}))
    report = import_jsonl(store, lines)
    assert report.imported == 4
    out = io.StringIO()
    export_jsonl(store, out)
    assert {json.loads(line)["id"] for line in out.getvalue().splitlines()} == {
        "live-0",
        "live-1",
        "live-2",
        "no-url",
    }


def test_threads_opening_a_new_store_together_migrate_it_once(tmp_path: Path) -> None:
    # The daemon's jobs run in threads and each opens the store; Alembic's module-level
    # proxies break when two threads migrate at once ("table articles already exists").
    url = f"sqlite:///{tmp_path / 'new.db'}"
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            Store(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
