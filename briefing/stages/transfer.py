"""Move articles in and out of the store as JSON Lines, for other tools."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TextIO

from sqlalchemy.orm import Session

from briefing.store.articles import (
    ArticleRecord,
    ImportLineError,
    export_articles,
    iter_lines,
    parse_import_line,
    save_article,
)
from briefing.store.engine import Store
from briefing.store.search import refresh_after

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_jsonl(store: Store, lines: Iterable[str], *, batch: int = 500) -> ImportReport:
    """Import articles; a bad line is reported with its number and the rest go on.

    Imported articles keep their `id`, so exports and story lists refer to them unchanged.
    Only exact URL duplicates are merged: an import is a deliberate set, not a crawl.
    """
    report = ImportReport()
    pending = []
    for number, line in iter_lines(lines):
        try:
            pending.append(parse_import_line(line))
        except ImportLineError as exc:
            report.errors.append((number, str(exc)))
            log.warning("line %d skipped: %s", number, exc)
        if len(pending) >= batch:
            _save(store, pending, report)
            pending = []
    _save(store, pending, report)
    if report.imported:
        refresh_after(store, "import")
    return report


def _save(store: Store, records: list[ArticleRecord], report: ImportReport) -> None:
    def work(session: Session) -> tuple[int, int]:
        # Counted here and added once committed: Store.run re-runs the whole batch when
        # the database was locked, and the records must come out of it unchanged.
        imported = duplicates = 0
        for record in records:
            result = save_article(session, record)
            if result.status != "stored" and record.id and result.article_id != record.id:
                # Another id under the same URL (a live page captured twice, say): the
                # source calls them two articles, so keep both, told apart by a fragment.
                log.info(
                    "%s: id %s shares its URL with %s", record.url, record.id, result.article_id
                )
                separate = replace(record, url=f"{record.url}#import-id={record.id}")
                result = save_article(session, separate)
            if result.status == "stored":
                imported += 1
            else:
                duplicates += 1
        return imported, duplicates

    if records:
        imported, duplicates = store.run(work)
        report.imported += imported
        report.duplicates += duplicates


def export_jsonl(store: Store, out: TextIO, since: datetime | None = None) -> int:
    """Write articles as JSON Lines to out and return how many were written."""
    count = 0
    with store.session() as session:
        for record in export_articles(session, since):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
