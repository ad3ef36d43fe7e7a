"""Wire copies: the original publication keeps the credit, a republication changes no story."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from briefing.config import parse_config
from briefing.stages.build import compose_day
from briefing.store.articles import ArticleRecord, save_article
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp, ArticleUrl, Story, StoryArticle
from briefing.store.wire import Copy, is_original

BODY = [
    "The Bank of Korea kept its benchmark interest rate unchanged at 3.50% on Friday for a "
    "sixth consecutive meeting, saying inflation was slowing more gradually than expected.",
    "The decision by the seven-member monetary policy board was unanimous and in line with "
    "the forecasts of all 18 economists polled by Meridian.",
    '"It is premature to consider a rate cut," the board said in a statement. (Meridian)',
]
ORIGINAL_AT = datetime(2024, 9, 13, 2, 10, tzinfo=UTC)  # Friday 11:10 in Seoul
COPY_AT = datetime(2024, 9, 14, 3, 5, tzinfo=UTC)  # the Ledger's Friday evening in California
ORIGINAL = ArticleRecord(
    url="https://meridian.example/story/20240913-bank-of-korea-holds",
    source="meridian",
    title="Bank of Korea holds base rate at 3.50% for sixth straight meeting",
    text="\n".join(BODY),
    authors=["Oksana Reyes"],
    published_at=ORIGINAL_AT,
)
COPY = ArticleRecord(
    url="https://ledger.example/2024/09/13/bank-of-korea-holds/",
    source="pacific-ledger",
    title=ORIGINAL.title,
    text="\n".join(
        [
            *BODY,
            "This story was written by Meridian Press Agency and is republished by The "
            "Pacific Ledger under a content-sharing agreement.",
        ]
    ),
    authors=["Meridian Press Agency"],
    published_at=COPY_AT,
)


def save_both(store: Store, first: ArticleRecord, second: ArticleRecord) -> str:
    """Save first, then second as its near-duplicate (as the crawl's dedup finds it)."""
    with store.session() as session:
        stored = save_article(session, first)
        session.add(ArticleNlp(article_id=stored.article_id, model="m", data={}))
    with store.session() as session:
        copy = save_article(session, second, duplicate_of=stored.article_id)
    assert copy.status == "duplicate_content" and copy.article_id == stored.article_id
    return stored.article_id


def check_original_kept(store: Store, article_id: str) -> None:
    with store.session() as session:
        article = session.get(Article, article_id)
        assert article is not None
        assert (article.url, article.source, article.published_at) == (
            ORIGINAL.url,
            "meridian",
            ORIGINAL_AT,
        )
        assert article.authors == ["Oksana Reyes"] and "republished" not in article.text
        aliases = {
            u.url: (u.source, u.published_at)
            for u in session.query(ArticleUrl).filter_by(article_id=article_id)
        }
    assert aliases == {
        ORIGINAL.url: ("meridian", ORIGINAL_AT),
        COPY.url: ("pacific-ledger", COPY_AT),
    }


def test_copy_crawled_first_gives_way_to_the_original(store: Store) -> None:
    article_id = save_both(store, COPY, ORIGINAL)
    check_original_kept(store, article_id)
    with store.session() as session:  # parsed from the copy's text: parse the original again
        assert session.get(ArticleNlp, article_id) is None


def test_copy_crawled_after_the_original_is_only_an_alias(store: Store) -> None:
    article_id = save_both(store, ORIGINAL, COPY)
    check_original_kept(store, article_id)
    with store.session() as session:
        assert session.get(ArticleNlp, article_id) is not None


def test_the_credited_outlet_wins_over_an_earlier_time() -> None:
    early_copy = Copy("pacific-ledger", ["Meridian Press Agency"], COPY.text, ORIGINAL_AT)
    late_original = Copy("meridian", ["Oksana Reyes"], ORIGINAL.text, COPY_AT)
    assert is_original(late_original, early_copy)
    assert not is_original(early_copy, late_original)
    # Without credits, the earlier publication is the original; an unknown time never is.
    plain = Copy("a", [], "text", ORIGINAL_AT)
    assert is_original(plain, Copy("b", [], "text", COPY_AT))
    assert not is_original(Copy("b", [], "text", None), plain)


def test_republication_does_not_make_its_story_developing(store: Store, tmp_path: Path) -> None:
    article_id = save_both(store, COPY, ORIGINAL)
    with store.session() as session:
        session.add(Story(id="s-bok", label="Bank of Korea: rate decision", status="new"))
        session.flush()
        session.add(StoryArticle(article_id=article_id, story_id="s-bok"))
    config = parse_config({"timezone": "UTC", "sources": []}, base_dir=tmp_path)
    # The 07:00 (UTC) briefings: Friday's window holds the original, Saturday's the copy.
    friday, _ = compose_day(store, config, date(2024, 9, 13), now=ORIGINAL_AT)
    assert [(s.id, s.status) for s in friday.also_noted] == [("s-bok", "new")]
    assert friday.also_noted[0].sources[0].outlet == "Meridian"  # its display name
    saturday, new_ids = compose_day(store, config, date(2024, 9, 14), now=COPY_AT)
    assert saturday.is_empty and new_ids == []  # the Ledger's republication is nothing new
