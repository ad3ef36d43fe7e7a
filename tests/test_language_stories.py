"""Every language grouped and written up on its own: pipelines, grouping, links and filters.

Synthetic articles (tests/support/languages.py) in Japanese, Chinese, Korean, French, German
and English, enriched by the real pipelines and grouped through the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.languages import ARTICLES, DAY_START, expected_stories, records

from briefing.config import parse_config
from briefing.nlp.languages import language_code, load_language_pipeline
from briefing.stages.group import group_pending
from briefing.store.articles import save_article
from briefing.store.engine import Store
from briefing.store.models import ArticleNlp, Story, StoryArticle
from briefing.stories.clustering import ArticleFeatures, article_counts
from briefing.stories.tracking import GroupingParams, group

LANGUAGE_OF = {a.key: a.language for a in ARTICLES}
NOW = DAY_START + timedelta(hours=12)


@pytest.fixture(scope="module")
def grouped_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store holding the mixed-language day, enriched and grouped once for the module."""
    folder = tmp_path_factory.mktemp("mixed")
    store = Store(f"sqlite:///{folder / 'briefing.db'}")
    with store.session() as session:
        for record in records():
            save_article(session, record)
    group_pending(store, parse_config({"sources": []}, base_dir=folder), now=NOW)
    yield store
    store.close()


def test_language_codes_are_read_as_their_base_language():
    assert language_code("zh-CN") == "zh"
    assert language_code("pt_BR") == "pt"
    assert language_code("FR") == "fr"
    assert language_code(None) == "en"  # articles from before detection stay English
    assert language_code("") == "en"


def test_french_gets_its_own_model_with_the_english_label_names():
    nlp = load_language_pipeline("fr")
    doc = nlp("Emmanuel Macron a reçu Olaf Scholz à Paris pour parler de l'OTAN.")
    labels = {ent.text: ent.label_ for ent in doc.ents}
    assert labels.get("Emmanuel Macron") == "PERSON"
    assert labels.get("Paris") == "GPE"
    assert set(labels.values()) <= {"PERSON", "ORG", "GPE"}
    assert nlp.meta["lang"] == "fr"


@pytest.mark.parametrize("language", ["ja", "zh"])
def test_chinese_and_japanese_are_read_a_character_at_a_time(language: str):
    nlp = load_language_pipeline(language)
    doc = nlp("東京で会議が開かれた。首相は「NATOと協力する」と述べた。\n\n次の段落。")
    assert [t.text for t in doc[:3]] == ["東", "京", "で"]
    assert "NATO" in [t.text for t in doc]  # Latin letters stay one word
    assert doc.text == "東京で会議が開かれた。首相は「NATOと協力する」と述べた。\n\n次の段落。"
    assert [s.text.strip() for s in doc.sents][:2] == [
        "東京で会議が開かれた。",
        "首相は「NATOと協力する」と述べた。",
    ]
    assert not doc.ents


@pytest.mark.parametrize("language", ["ko", "de", "ru", "th", "sw"])
def test_other_languages_get_a_tokenizer_and_sentences_but_no_entities(language: str):
    nlp = load_language_pipeline(language)
    doc = nlp("Samsung opened a plant. NATO said nothing.")
    assert len(list(doc.sents)) == 2
    assert not doc.ents
    assert nlp.meta["lang"] == language
    assert "ner" not in nlp.pipe_names


def test_each_language_is_grouped_with_its_own_articles_only(grouped_day: Store):
    with grouped_day.session() as session:
        members: dict[str, set[str]] = {}
        for article_id, story_id in session.query(StoryArticle.article_id, StoryArticle.story_id):
            members.setdefault(story_id, set()).add(article_id)
        languages = {story.id: story.profile.get("language") for story in session.query(Story)}
    assert {frozenset(ids) for ids in members.values()} == expected_stories()
    for story_id, ids in members.items():
        assert {LANGUAGE_OF[a] for a in ids} == {languages[story_id]}


def test_no_english_model_entities_on_non_english_articles(grouped_day: Store):
    with grouped_day.session() as session:
        enriched = {row.article_id: row for row in session.query(ArticleNlp)}
    assert set(enriched) == set(LANGUAGE_OF)
    for article_id, row in enriched.items():
        language = LANGUAGE_OF[article_id]
        assert row.model.startswith(f"{language}_"), (article_id, row.model)
        if language not in ("en", "fr"):  # no NER for these: no entities, no quotes
            assert row.data["entities"] == [] and row.data["quotes"] == []
        assert row.data["sentences"], article_id
    french = enriched["fr-strike-lemonde"].data["entities"]
    assert {"SNCF", "Philippe Tabarot"} <= {e["text"] for e in french}
    english = {e["text"] for e in enriched["en-chips-reuters"].data["entities"]}
    assert {"Samsung", "NATO"} <= english


def _features(key: str, title: str, text: str, language: str) -> ArticleFeatures:
    return ArticleFeatures(
        id=key,
        source=key.split("-")[0],
        title=title,
        text=text,
        published_at=DAY_START,
        language=language,
    )


def test_chinese_and_japanese_are_compared_by_character_ngrams():
    article = _features("a-1", "北海道で地震", "北海道東部で地震があった。", "ja")
    counts = article_counts(article, GroupingParams())
    assert "ja:北海" in counts["words"] and "ja:北海道" in counts["bigrams"]
    assert all(term.startswith("ja:") for block in counts.values() for term in block)


def test_cjk_grouping_by_character_ngrams_never_crosses_a_language():
    quake = "北海道東部で地震があり、釧路市で震度6強を観測した。津波注意報が出された。"
    rates = "日本銀行は政策金利を引き上げた。物価上昇と賃金の伸びが続いている。"
    articles = [
        _features("asahi-1", "北海道で震度6強の地震", quake, "ja"),
        _features("mainichi-1", "北海道東部で震度6強", quake[:30] + "釧路市で倒壊。", "ja"),
        _features("nikkei-1", "日銀が利上げ", rates, "ja"),
        _features("yomiuri-1", "日銀、政策金利を引き上げ", rates[10:] + "総裁会見。", "ja"),
        # The same characters in a Chinese article: Chinese stories are Chinese only.
        _features("xinhua-1", "北海道发生地震", quake[:36], "zh"),
    ]
    stories = group(articles, [], now=DAY_START + timedelta(hours=1))
    partition = {frozenset(s.article_ids) for s in stories}
    assert partition == {
        frozenset({"asahi-1", "mainichi-1"}),
        frozenset({"nikkei-1", "yomiuri-1"}),
        frozenset({"xinhua-1"}),
    }
    assert {s.profile["language"] for s in stories} == {"ja", "zh"}


def test_english_grouping_is_unchanged_by_other_languages_the_same_day():
    english = [
        _features(f"en{n}", title, text, "en")
        for n, (title, text) in enumerate(
            [
                ("Quake hits Aceh", "A strong earthquake struck Aceh province on Monday."),
                ("Aceh earthquake kills five", "Five people died when an earthquake hit Aceh."),
                ("Bank raises rates", "The central bank raised interest rates by a quarter point."),
                ("Rates go up again", "Interest rates rose again as the central bank acted."),
            ]
        )
    ]
    others = [
        _features(f"fr{n}", "Séisme à Aceh", "Un séisme a frappé la province d'Aceh lundi.", "fr")
        for n in range(3)
    ]
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    alone = group(english, [], now=now)
    mixed = group([*english, *others], [], now=now)
    in_english = [s for s in mixed if s.profile["language"] == "en"]
    assert [(s.id, s.article_ids, s.profile, s.related) for s in alone] == [
        (s.id, s.article_ids, s.profile, s.related) for s in in_english
    ]


def test_a_rerun_after_a_mixed_day_changes_nothing(tmp_path: Path, grouped_day: Store):
    report = group_pending(
        grouped_day, parse_config({"sources": []}, base_dir=tmp_path), now=NOW + timedelta(hours=1)
    )
    assert (report.enriched, report.grouped) == (0, 0)
