"""One bad article fails alone: enrichment skips and reports it, every later run goes on.

A store can hold an article that breaks enrichment: a million-character title (spaCy refuses
texts over its max_length), or a page that trips a bug in our own NLP code. Either used to
fail the whole batch, and with it every later `group`, `run` and daily job.
"""

from __future__ import annotations

import json
from concurrent.futures import BrokenExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.config import make_config, write_config
from typer.testing import CliRunner

from briefing.cli import app
from briefing.limits import AUTHOR_CHARS, AUTHORS, TITLE_CHARS
from briefing.nlp import enrich as enrich_module
from briefing.nlp.enrich import Enricher, Enrichment, enrich_each
from briefing.stages.group import group_pending
from briefing.store.articles import ArticleRecord, export_articles, parse_import_line, save_article
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp
from scraper.extract import extract_article

NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
BODY = (
    "North Korean leader Kim Jong-un met Russian President Vladimir Putin in Vladivostok on "
    "Wednesday. The two leaders discussed military cooperation, officials in Seoul said. "
    '"We will stand together," Putin said after the talks.'
)
POISON = "POISONED-ARTICLE"


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def _store_articles(store: Store, titles: list[str]) -> list[str]:
    """Store one article per title the way an old store (before any limits) would hold it."""
    ids = []
    with store.session() as session:
        for n, title in enumerate(titles):
            article_id = f"a{n}"
            session.add(
                Article(
                    id=article_id,
                    url=f"https://news.example/{n}",
                    source="news",
                    title=title,
                    text=f"{BODY} Story {n}.",
                    authors=[],
                    published_at=NOW - timedelta(hours=n + 1),
                    fetched_at=NOW,
                    word_count=40,
                )
            )
            ids.append(article_id)
    return ids


def test_a_million_character_title_no_longer_stops_enrichment(
    store: Store, tmp_path: Path, enricher: Enricher
):
    titles = ["Kim and Putin meet", "x" * 1_000_000, "Putin hosts Kim in Vladivostok"]
    _store_articles(store, titles)
    report = group_pending(store, make_config(tmp_path), now=NOW, enricher=enricher)
    assert (report.enriched, report.failures, report.grouped) == (3, [], 3)
    again = group_pending(store, make_config(tmp_path), now=NOW, enricher=enricher)
    assert (again.enriched, again.grouped, again.failures) == (0, 0, [])


def _poison_quotes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make our own quote step raise on one article, as a bug met by a hostile page would."""
    real = enrich_module.extract_quotes

    def extract_quotes(doc, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        if POISON in text:
            raise IndexError("list index out of range")
        return real(doc, text, *args, **kwargs)

    monkeypatch.setattr(enrich_module, "extract_quotes", extract_quotes)


def test_an_article_that_breaks_enrichment_is_skipped_recorded_and_reported(
    store: Store, tmp_path: Path, enricher: Enricher, monkeypatch: pytest.MonkeyPatch
):
    _poison_quotes(monkeypatch)
    ids = _store_articles(store, ["Kim meets Putin", f"{POISON} Kim and Putin", "Putin and Kim"])
    config = make_config(tmp_path)
    report = group_pending(store, config, now=NOW, enricher=enricher)
    assert report.enriched == 2 and report.grouped == 2
    [failure] = report.failures
    assert failure.article_id == ids[1] and failure.url == "https://news.example/1"
    assert failure.error == "IndexError: list index out of range"
    assert report.describe_failures() == [
        "not enriched: https://news.example/1 (a1): IndexError: list index out of range"
    ]
    # Recorded once and for all: later runs neither retry it nor trip on it.
    again = group_pending(store, config, now=NOW + timedelta(hours=1), enricher=enricher)
    assert (again.enriched, again.grouped, again.failures) == (0, 0, [])
    with store.session() as session:
        nlp = session.get(ArticleNlp, ids[1])
        assert nlp is not None and nlp.data["error"].startswith("IndexError")
        records = {r["id"]: r for r in export_articles(session)}
    # The article itself is kept, and the export says why it has no entities.
    assert records[ids[1]]["nlp_error"] == "IndexError: list index out of range"
    assert records[ids[1]]["entities"] is None
    assert records[ids[0]]["nlp_error"] is None and records[ids[0]]["entities"]


def test_the_group_command_names_the_skipped_article_and_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    _poison_quotes(monkeypatch)
    config_path = write_config(tmp_path)
    store = Store(make_config(tmp_path).store.url)
    try:
        _store_articles(store, ["Kim meets Putin", f"{POISON} Kim and Putin"])
    finally:
        store.close()
    result = CliRunner().invoke(app, ["group", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    assert "not enriched: https://news.example/1 (a1): IndexError" in result.output
    assert "enriched 1, grouped 1 articles" in result.output


class DyingWorkers:
    """An enricher whose worker pool breaks on one article, as a crashed worker process does."""

    model = "test-model"

    def __init__(self) -> None:
        self.closed = 0

    def enrich_many(self, docs):  # type: ignore[no-untyped-def]
        docs = list(docs)
        if any(POISON in title for title, _ in docs):
            raise BrokenExecutor("a worker process died")
        return iter([Enrichment(key_phrases=[title]) for title, _ in docs])


def test_a_batch_broken_by_one_article_is_retried_one_by_one():
    results = enrich_each(DyingWorkers(), [("one", ""), (POISON, ""), ("three", "")])
    assert [r.key_phrases for r in results] == [["one"], [], ["three"]]
    assert [bool(r.error) for r in results] == [False, True, False]
    assert results[1].error == "BrokenExecutor: a worker process died"
    assert results[1].model == "test-model"


def test_an_enrichment_error_survives_the_round_trip_and_healthy_records_are_unchanged():
    failed = Enrichment.failed("m", ValueError("bad\n input " + "y" * 1000))
    assert failed.error.startswith("ValueError: bad input") and len(failed.error) == 300
    assert Enrichment.from_dict(failed.to_dict()) == failed
    assert "error" not in Enrichment(model="m").to_dict()  # stored records stay as they were


def test_short_fields_are_bounded_at_storage(store: Store):
    record = ArticleRecord(
        url="https://news.example/long",
        source="news",
        title="word " * 300_000,
        text=BODY,
        authors=[f"Reporter {n} " + "z" * 500 for n in range(5_000)],
    )
    with store.session() as session:
        article_id = save_article(session, record).article_id
    with store.session() as session:
        stored = session.get(Article, article_id)
        assert stored is not None
        assert len(stored.title) <= TITLE_CHARS and stored.title.endswith("word…")
        assert len(stored.authors) == AUTHORS
        assert all(len(name) <= AUTHOR_CHARS for name in stored.authors)


def test_short_fields_are_bounded_at_import():
    fields = {"url": "https://news.example/x", "title": "t" * 50_000, "text": BODY}
    line = json.dumps({**fields, "authors": ["A"] * 500})
    record = parse_import_line(line)
    assert len(record.title) == TITLE_CHARS and record.title.endswith("…")
    assert record.authors == ["A"] * AUTHORS


def test_short_fields_are_bounded_at_extraction():
    huge_title = "Headline " * 100_000
    paragraphs = "".join(f"<p>{BODY} Paragraph {n}.</p>" for n in range(5))
    html = (
        f"<html><head><title>{huge_title}</title>"
        f'<meta name="author" content="{"Name " * 10_000}"></head>'
        f"<body><article><h1>{huge_title}</h1>{paragraphs}</article></body></html>"
    )
    extracted = extract_article(html, "https://news.example/story")
    assert extracted.title is not None and 0 < len(extracted.title) <= TITLE_CHARS
    assert all(len(name) <= AUTHOR_CHARS for name in extracted.authors)
    assert "Kim Jong-un" in extracted.text
