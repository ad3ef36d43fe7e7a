"""A mixed-language news day: every language grouped and written up on its own.

Builds one day from the ECB+ development texts (English) and the non-English pages of
../shared/eval/pages/ and ../shared/eval/extraction/ (German, Japanese, Chinese, Korean,
Turkish, French…, extracted by the project's own extractor), all dated within the same
morning, then enriches, groups and composes it through the real stages. Prints:

- non-English stories carrying English-model entities: before (the old path, every article
  through the English model and grouped as English) and after (each language's pipeline);
- stories showing their language in the rendered briefing;
- ECB+ B-cubed and pairwise F1 on the mixed day beside ECB+ alone (must not drop);
- the number of cross-language "Related" links, with a few examples.

Usage: .venv/bin/python bench/languages.py    (skips, saying so, without ../shared/eval)
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(EVAL))

DAY = datetime(2026, 3, 2, tzinfo=UTC)
GROUP_AT = DAY + timedelta(hours=12)
MIN_CHARS = 200  # shorter extractions are not articles worth a story


def ecb_rows() -> list[dict]:
    with (EVAL / "clustering" / "ecbplus-dev.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def foreign_pages() -> list[dict]:
    """Extract pages/ and extraction/ with the project's extractor; keep the non-English."""
    from scraper.extract import extract_article

    found: list[tuple[str, str, str]] = []  # (id, url, html)
    with (EVAL / "pages" / "manifest.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            html = gzip.decompress((EVAL / "pages" / entry["file"]).read_bytes())
            found.append((f"pages/{entry['file']}", entry["url"], html.decode("utf-8", "replace")))
    truth = json.loads((EVAL / "extraction" / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id, entry in truth.items():
        path = EVAL / "extraction" / "html" / f"{page_id}.html.gz"
        if path.is_file():
            html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
            found.append((f"extraction/{page_id}", entry.get("url") or "", html))
    pages = []
    for page_id, url, html in found:
        extracted = extract_article(html, url or f"https://example.org/{page_id}")
        if not extracted.title or len(extracted.text) < MIN_CHARS:
            continue
        if extracted.language in (None, "en"):
            continue
        pages.append(
            {"id": page_id, "title": extracted.title, "text": extracted.text,
             "language": extracted.language, "url": url}
        )  # fmt: skip
    return pages


def load_store(store_url: str, rows: list[dict], pages: list[dict], *, languages: bool) -> None:
    """Store the day; with languages=False every article is stored as the old path saw it."""
    from briefing.store.articles import ArticleRecord, save_article
    from briefing.store.engine import Store

    store = Store(store_url)
    with store.session() as session:
        for n, row in enumerate(rows):
            record = ArticleRecord(
                url=row.get("url") or f"https://ecb.example/{row['id']}",
                source=row.get("source") or "ecb",
                title=row["title"],
                text=row["text"],
                published_at=DAY + timedelta(minutes=n % 600),
                language="en",
                id=f"ecb-{row['id']}",
            )
            save_article(session, record)
        for n, page in enumerate(pages):
            record = ArticleRecord(
                url=page["url"] or f"https://pages.example/{page['id']}",
                source=page["id"].split("/")[1] if page["id"].startswith("pages/") else "wire",
                title=page["title"],
                text=page["text"],
                published_at=DAY + timedelta(minutes=(7 * n) % 600),
                language=page["language"] if languages else None,
                id=f"page-{n}",
            )
            save_article(session, record)
    store.close()


def stories_of(store_url: str) -> tuple[dict[str, list[str]], dict[str, str], dict]:
    """Return story id -> article ids, story id -> language, and article id -> NLP row data."""
    from briefing.store.engine import Store
    from briefing.store.models import ArticleNlp, Story, StoryArticle

    store = Store(store_url)
    with store.session() as session:
        members: dict[str, list[str]] = {}
        for article_id, story_id in session.query(StoryArticle.article_id, StoryArticle.story_id):
            members.setdefault(story_id, []).append(article_id)
        languages = {s.id: str(s.profile.get("language") or "en") for s in session.query(Story)}
        nlp = {n.article_id: (n.model, n.data) for n in session.query(ArticleNlp)}
    store.close()
    return members, languages, nlp


def english_entities_on_foreign(members, nlp, foreign: set[str]) -> tuple[int, int]:
    """Count stories holding non-English articles, and those whose articles carry entities
    from the English model."""
    stories = [ids for ids in members.values() if any(a in foreign for a in ids)]
    carrying = [
        ids
        for ids in stories
        if any(
            a in foreign and nlp[a][0].startswith("en_") and nlp[a][1].get("entities") for a in ids
        )
    ]
    return len(carrying), len(stories)


def ecb_score(members: dict[str, list[str]], gold: dict[str, str]) -> dict:
    from score_clusters import score

    predicted = {a: s for s, ids in members.items() for a in ids if a in gold}
    return score({a: gold[a] for a in predicted}, predicted)


def english_only(store_url: str, gold: dict[str, str]) -> dict:
    """Group the ECB+ articles alone (same enrichment, same settings) and score them."""
    from briefing.nlp.enrich import Enrichment
    from briefing.stages.group import features
    from briefing.store.engine import Store
    from briefing.store.models import Article, ArticleNlp
    from briefing.stories.tracking import group

    store = Store(store_url)
    with store.session() as session:
        rows = session.query(Article, ArticleNlp).join(
            ArticleNlp, ArticleNlp.article_id == Article.id
        )
        articles = [features(a, Enrichment.from_dict(n.data)) for a, n in rows if a.id in gold]
    store.close()
    stories = group(articles, [], now=GROUP_AT)
    return ecb_score({s.id: s.article_ids for s in stories}, gold)


def shown_languages(store_url: str, folder: Path) -> tuple[int, int, Counter]:
    """Compose and render the day; count the stories whose language the HTML shows."""
    from briefing.config import parse_config
    from briefing.output.render import render_html
    from briefing.stages.build import compose_day
    from briefing.store.engine import Store

    config = parse_config(
        {"store": {"url": store_url}, "timezone": "UTC", "schedule": {"daily": "18:00"},
         "briefing": {"max_stories": 500}},
        base_dir=folder,
    )  # fmt: skip
    store = Store(store_url)
    briefing, _ids = compose_day(store, config, DAY.date(), now=DAY + timedelta(hours=19))
    store.close()
    html = render_html(briefing)
    stories = [*briefing.stories, *briefing.also_noted]
    shown = len(re.findall(r'class="(?:language|noted-language)"', html))
    return shown, len(stories), Counter(s.language for s in stories)


def main() -> int:
    if not (EVAL / "clustering" / "ecbplus-dev.jsonl").is_file():
        print(f"skipped: {EVAL} is absent (the mixed-language day is made from it)")
        return 0
    from briefing.config import parse_config
    from briefing.stages.group import group_pending
    from briefing.store.engine import Store

    rows = ecb_rows()
    gold = {f"ecb-{r['id']}": str(r["cluster"]) for r in rows}
    started = time.perf_counter()
    pages = foreign_pages()
    ids = {f"page-{n}": p for n, p in enumerate(pages)}
    print(f"mixed day: {len(rows)} ECB+ articles (English) + {len(pages)} non-English pages "
          f"({dict(Counter(p['language'] for p in pages).most_common())}); "
          f"extracted in {time.perf_counter() - started:.0f} s")  # fmt: skip
    foreign = set(ids)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp)  # keep the stores there
        figures = {}
        for mode, with_languages in (("before", False), ("after", True)):
            url = f"sqlite:///{folder / mode}.db"
            load_store(url, rows, pages, languages=with_languages)
            config = parse_config({"store": {"url": url}}, base_dir=folder)
            started = time.perf_counter()
            report = group_pending(Store(url), config, now=GROUP_AT)
            seconds = time.perf_counter() - started
            members, languages, nlp = stories_of(url)
            figures[mode] = (members, languages, nlp)
            carrying, total = english_entities_on_foreign(members, nlp, foreign)
            mixed = ecb_score(members, gold)
            print(f"[{mode}] enriched+grouped {report.enriched} articles in {seconds:.0f} s "
                  f"(loaded machine): {len(members)} stories")  # fmt: skip
            print(f"[{mode}] stories with non-English articles carrying English-model "
                  f"entities: {carrying}/{total}")  # fmt: skip
            print(f"[{mode}] ECB+ on the mixed day: B-cubed {mixed['b3_f1']:.3f}, "
                  f"pairwise {mixed['pair_f1']:.3f}")  # fmt: skip
        url = f"sqlite:///{folder / 'after'}.db"
        alone = english_only(url, gold)
        print(f"ECB+ alone (same enrichment): B-cubed {alone['b3_f1']:.3f}, "
              f"pairwise {alone['pair_f1']:.3f}")  # fmt: skip
        members, languages, _nlp = figures["after"]
        mixed_stories = [
            s for s, ids_ in members.items()
            if len({(ids[a]["language"] if a in ids else "en") for a in ids_}) > 1
        ]  # fmt: skip
        print(f"stories mixing languages: {len(mixed_stories)}")
        shown, total, by_language = shown_languages(url, folder)
        print(f"stories showing a language in the briefing: {shown}/{total} "
              f"({dict(by_language.most_common())})")  # fmt: skip
        print_links(url)
    return 0


def print_links(store_url: str) -> None:
    from briefing.store.engine import Store
    from briefing.store.models import Story, StoryLink

    store = Store(store_url)
    with store.session() as session:
        stories = {s.id: s for s in session.query(Story)}
        pairs = {
            tuple(sorted((link.story_id, link.related_id)))
            for link in session.query(StoryLink)
            if (stories[link.story_id].profile or {}).get("language", "en")
            != (stories[link.related_id].profile or {}).get("language", "en")
        }
    store.close()
    print(f"cross-language Related links: {len(pairs)}")
    for a, b in sorted(pairs)[:12]:
        first, second = stories[a], stories[b]
        print(f"  [{first.profile.get('language')}] {first.label[:60]}  <->  "
              f"[{second.profile.get('language')}] {second.label[:60]}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
