"""Every language grouped and written up on its own: pipelines, grouping, links and filters.

Synthetic articles (tests/support/languages.py) in Japanese, Chinese, Korean, French, German
and English, enriched by the real pipelines and grouped through the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from html import escape
from pathlib import Path
from typing import Any

import pytest
from support.config import SENDER, make_config, write_config
from support.languages import ARTICLES, DAY_START, expected_stories, records
from support.web import Client
from typer.testing import CliRunner

from briefing.briefs.compose import Briefing, StoryBrief
from briefing.cli import app
from briefing.config import Config, parse_config
from briefing.errors import ConfigError
from briefing.mail.message import Recipient, build_message
from briefing.nlp.language_codes import language_name
from briefing.nlp.languages import language_code, load_language_pipeline
from briefing.output.render import render_html
from briefing.stages.build import build_day, compose_day
from briefing.stages.group import group_pending
from briefing.stages.story_export import export_stories
from briefing.stages.subscribers import active_recipients, add_subscriber
from briefing.stages.tokens import link_signer
from briefing.store.articles import save_article
from briefing.store.engine import Store
from briefing.store.models import ArticleNlp, Story, StoryArticle, StoryLink, Subscriber
from briefing.stories.clustering import ArticleFeatures, article_counts
from briefing.stories.crosslingual import cross_language_links, latin_names
from briefing.stories.tracking import GroupingParams, group
from briefing.web.app import create_app
from briefing.web.pages import Site
from briefing.web.subscribe import Subscriptions

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
    doc = nlp("東京で会議が開かれた。首相は「NATOと協力する」と述べた。\n\n金利は0.75%に。")
    assert [t.text for t in doc[:3]] == ["東", "京", "で"]
    assert "NATO" in [t.text for t in doc]  # Latin letters stay one word
    assert doc.text == "東京で会議が開かれた。首相は「NATOと協力する」と述べた。\n\n金利は0.75%に。"
    assert [s.text.strip() for s in doc.sents] == [
        "東京で会議が開かれた。",
        "首相は「NATOと協力する」と述べた。",
        "金利は0.75%に。",  # a decimal point ends no sentence
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
        if language not in ("en", "fr"):  # no NER for these
            assert row.data["entities"] == []
        if language != "en":  # attribution reads English speech verbs
            assert row.data["quotes"] == []
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


def _day_config(folder: Path, **sections: Any) -> Config:
    """A config whose briefing day (UTC, sent at 18:00) holds the whole mixed day."""
    return make_config(
        folder, timezone="UTC", schedule={"daily": "18:00"}, mail={"sender": SENDER}, **sections
    )


def _compose(store: Store, config: Config) -> Briefing:
    briefing, _ids = compose_day(
        store, config, DAY_START.date(), now=DAY_START + timedelta(hours=19)
    )
    return briefing


def _stories(briefing: Briefing) -> list[StoryBrief]:
    return [*briefing.stories, *briefing.also_noted]


def _mail_text(briefing: Briefing, recipient: Recipient) -> tuple[str, str]:
    message = build_message(
        briefing,
        recipient,
        sender=Address("Briefing", addr_spec="briefing@example.org"),
        message_id="<test@example.org>",
        now=DAY_START + timedelta(hours=19),
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def test_every_story_shows_its_language_in_html_mail_and_export(tmp_path: Path, grouped_day: Store):
    briefing = _compose(grouped_day, _day_config(tmp_path))
    stories = _stories(briefing)
    assert {s.language for s in stories} == {"ja", "zh", "ko", "fr", "de", "en"}
    html = render_html(briefing)
    shown = re.findall(r'<span class="language">([^<]+)</span>', html)
    assert len(shown) == len(briefing.stories)
    assert {"Japanese", "Chinese", "Korean", "French", "German", "English"} <= set(shown)
    text, mail_html = _mail_text(briefing, Recipient("reader@example.org"))
    for story in stories:
        name = language_name(story.language)
        assert f"{name} · " in text and f"{name} · " in mail_html
    headlines = {s.language: s.headline for s in stories}
    titles = {" ".join(a.title.split()) for a in ARTICLES if a.language == "ja"}
    assert headlines["ja"] in titles  # a real title, its ideographic space made plain
    with grouped_day.session() as session:
        exported = export_stories(session)
    assert {row["language"] for row in exported} == {"ja", "zh", "ko", "fr", "de", "en"}


def test_a_story_in_another_language_is_related_to_the_english_one(
    tmp_path: Path, grouped_day: Store
):
    with grouped_day.session() as session:
        links = {(link.story_id, link.related_id) for link in session.query(StoryLink)}
        languages = {story.id: story.profile["language"] for story in session.query(Story)}
    assert links and all(languages[a] != languages[b] for a, b in links)
    assert {frozenset((languages[a], languages[b])) for a, b in links} == {frozenset({"ko", "en"})}
    briefing = _compose(grouped_day, _day_config(tmp_path))
    english = next(s for s in _stories(briefing) if s.language == "en")
    korean = next(s for s in _stories(briefing) if s.id in {a for a, _ in links} - {english.id})
    assert [(r.id, r.language) for r in english.related] == [(korean.id, "ko")]
    assert [(r.id, r.language) for r in korean.related] == [(english.id, "en")]
    assert not english.see_also and not korean.see_also  # "Related", not "See also"
    html = render_html(briefing)
    assert f'href="#{korean.anchor}" lang="ko">' in html and "(Korean)</p>" in html
    text, _html = _mail_text(briefing, Recipient("reader@example.org"))
    assert "Related: " in text and "(Korean)" in text


def test_cross_language_links_need_two_shared_latin_names():
    english = (
        "en-1",
        "en",
        {"entities": {"Vladimir Putin": ["PERSON", 2, 3, 1], "NATO": ["ORG", 2, 2, 0]}},
    )
    russian = ("ru-1", "ru", {"names": ["NATO", "Putin"]})  # surname matches the full name
    japanese = ("ja-1", "ja", {"names": ["NATO"]})  # one shared name: not enough
    assert cross_language_links([english, russian, japanese]) == [("ru-1", "en-1")]


def test_latin_names_are_read_from_cjk_text_and_acronyms_from_latin_text():
    korean = _features("k-1", "Samsung, NATO와 계약", "삼성전자(Samsung)는 NATO와 손잡았다.", "ko")
    german = _features("d-1", "Die NATO tagt", "Der Gipfel der NATO in Berlin beginnt heute.", "de")
    assert latin_names([korean]) == ["NATO", "Samsung"]
    assert latin_names([german]) == ["NATO"]  # German nouns are capitalised: not names


def test_config_languages_choose_the_briefings_stories(tmp_path: Path, grouped_day: Store):
    config = _day_config(tmp_path, briefing={"languages": ["en", "ko", "ja"]})
    assert {s.language for s in _stories(_compose(grouped_day, config))} == {"en", "ko", "ja"}
    everything = _compose(grouped_day, _day_config(tmp_path))
    assert len(_stories(everything)) == len(expected_stories())


def test_a_bad_language_code_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="languages"):
        _day_config(tmp_path, briefing={"languages": ["korean!"]})


def test_a_subscribers_mail_carries_only_their_languages(tmp_path: Path, grouped_day: Store):
    config = _day_config(tmp_path)
    briefing = _compose(grouped_day, config)
    recipient, _created = add_subscriber(
        grouped_day, config, "ko-desk@example.org", languages=["ko", "JA"]
    )
    assert recipient.languages == ("ko", "ja")
    found = {r.email: r for r in active_recipients(grouped_day, config)[0]}
    assert found["ko-desk@example.org"].languages == ("ko", "ja")
    text, html = _mail_text(briefing, found["ko-desk@example.org"])
    for story in _stories(briefing):
        wanted = story.language in ("ko", "ja")
        assert (story.headline in text) is wanted, story.headline
        assert (escape(story.headline, quote=False) in html) is wanted, story.headline
    everyone, _html = _mail_text(briefing, Recipient("all@example.org"))
    assert all(story.headline in everyone for story in _stories(briefing))


def test_subscribers_add_takes_repeated_languages(tmp_path: Path):
    config_file = write_config(tmp_path, mail={"sender": SENDER})
    result = CliRunner().invoke(
        app,
        [
            "subscribers",
            "add",
            "desk@example.org",
            "--language",
            "ko",
            "--language",
            "ja",
            "-c",
            str(config_file),
        ],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(
        app, ["subscribers", "list", "-c", str(config_file)], env={"COLUMNS": "300"}
    )
    assert "ko, ja" in listed.output
    bad = CliRunner().invoke(
        app, ["subscribers", "add", "x@example.org", "--language", "??", "-c", str(config_file)]
    )
    assert bad.exit_code == 1 and "--language" in bad.output


def test_the_manage_page_lets_a_subscriber_choose_languages(tmp_path: Path, grouped_day: Store):
    config = _day_config(tmp_path, web={"base_url": "https://briefing.example.org/"})
    add_subscriber(grouped_day, config, "reader@example.org")
    with grouped_day.session() as session:
        row = session.query(Subscriber).filter_by(email="reader@example.org").one()
        token = link_signer(grouped_day, config).subscriber_token("manage", row.id, row.epoch)
    site = Site(config.archive.dir, grouped_day, config.briefing.title, config.tz)
    client = Client(create_app(site, subscriptions=Subscriptions(site, config)))
    page = client.get(f"/manage/{token}")
    assert page.status_code == 200
    assert 'name="language" value="ko"' in page.text and "Korean" in page.text
    form = {"languages_shown": "1", "language": ["ko", "zh"]}
    saved = client.request("POST", f"/manage/{token}", data=form)
    assert saved.status_code == 200 and "Saved" in saved.text
    found = {r.email: r for r in active_recipients(grouped_day, config)[0]}
    assert found["reader@example.org"].languages == ("ko", "zh")
    # A form without the language choice leaves the languages as they were.
    client.request("POST", f"/manage/{token}", data={"pdf": "yes"})
    found = {r.email: r for r in active_recipients(grouped_day, config)[0]}
    assert found["reader@example.org"].languages == ("ko", "zh")


def test_the_web_pages_show_each_storys_language(tmp_path: Path, grouped_day: Store):
    config = _day_config(tmp_path)
    build_day(grouped_day, config, DAY_START.date(), now=DAY_START + timedelta(hours=19))
    site = Site(config.archive.dir, grouped_day, config.briefing.title, config.tz)
    client = Client(create_app(site))
    day = client.get(f"/{DAY_START:%Y/%m/%d}/index.html")
    assert day.status_code == 200
    for name in ("Japanese", "Chinese", "Korean", "French", "German", "English"):
        assert f'<span class="language">{name}</span>' in day.text
    listed = client.get("/stories/")
    assert listed.status_code == 200 and "<td>Korean</td>" in listed.text
    with grouped_day.session() as session:
        korean = next(s.id for s in session.query(Story) if s.profile["language"] == "ko")
    page = client.get(f"/stories/{korean}.html")
    assert page.status_code == 200 and '<span class="language">Korean</span>' in page.text
