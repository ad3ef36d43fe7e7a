"""Story write-ups a reader trusts: one fixture per error class of issue 14.

Headlines and kickers, entities merged within an article and across a story, quotes with the
right speaker (double, single and other quotation marks), and summaries without furniture.
"""

from __future__ import annotations

import pytest

from briefing.briefs.furniture import is_furniture, without_label
from briefing.briefs.headlines import TitledArticle, choose_headline, clean_title, kicker
from briefing.briefs.summarise import SentenceVectoriser, story_summary
from briefing.nlp.enrich import Enricher, Enrichment
from briefing.nlp.entities import alias_key, load_aliases, story_entity_names
from briefing.nlp.quote_marks import find_quote_spans
from briefing.stories.clustering import ArticleFeatures
from briefing.stories.labels import dominant_entities, entity_stats


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def speakers(result: Enrichment) -> list[tuple[str, str | None]]:
    return [(q.text.split()[0], q.speaker) for q in result.quotes]


# Headlines and kickers -------------------------------------------------------------------


def titled(title: str, outlet: str = "Wire", text: str = "", entities=()) -> TitledArticle:
    return TitledArticle(title, outlet, tuple(s for s in text.split("|") if s), tuple(entities))


def test_headline_is_a_real_title_not_a_label() -> None:
    articles = [
        titled("Russia–North Korea: summit", text="Kim and Putin met."),
        titled(
            "Putin and Kim sign defence pact at Pyongyang summit",
            text="Putin and Kim signed a defence pact at the summit in Pyongyang.",
        ),
        titled("Kim hosts Putin for summit in Pyongyang", text="Kim hosted Putin in Pyongyang."),
    ]
    headline = choose_headline(articles)
    assert headline in {a.title for a in articles}
    assert headline != "Russia–North Korea: summit"


@pytest.mark.parametrize(
    "bad",
    [
        "Will the platform doors work this time?",
        "10 things to know about the subway doors",
        "LIVE: subway platform doors - latest updates",
        "Subway doors",
        "Tweet with a location",
    ],
)
def test_headline_skips_questions_lists_live_blogs_fragments_and_furniture(bad: str) -> None:
    good = "Seoul subway fits platform doors at every station by March"
    text = "The subway will fit platform doors at every station.|Doors cut accidents."
    assert choose_headline([titled(bad, text=text), titled(good, text=text)]) == good


def test_headline_drops_site_names_and_kickers() -> None:
    assert clean_title("EXCLUSIVE: Wolves return to northern forest - Daily Planet") == (
        "Wolves return to northern forest"
    )
    assert clean_title("Wolves return to the forest | The Meridian", "The Meridian") == (
        "Wolves return to the forest"
    )


def test_headline_prefers_the_original_over_republications() -> None:
    copy = "Farmers fear wolves returning to northern forest"
    articles = [
        titled(copy, "Meridian", "Wolves are back in the northern forest, farmers say."),
        titled(copy, "Syndicator", "Wolves are back in the northern forest, farmers say."),
    ]
    assert choose_headline(articles) == copy


def features(entities: list[tuple[str, str, int]], source: str = "Wire") -> ArticleFeatures:
    return ArticleFeatures("a", source, "", "", None, tuple(entities))


def test_kicker_never_shows_an_entity_beside_its_acronym() -> None:
    stats = entity_stats(
        [
            features([("Bank of Korea", "ORG", 3), ("BOK", "ORG", 2), ("Seoul", "GPE", 1)]),
            features([("BOK", "ORG", 2), ("Seoul", "GPE", 1)]),
        ]
    )
    shown = dominant_entities(stats)
    assert "BOK" not in shown and "Bank of Korea" in shown


def test_kicker_leaves_out_outlets_numbers_and_common_nouns() -> None:
    articles = [
        TitledArticle("Falcons win", "Meridian", (), (("Meridian", "ORG", 3), ("Daegu", "GPE", 1))),
        TitledArticle("Falcons win", "Meridian", (), (("Daegu Falcons 2-1", "ORG", 2),)),
        TitledArticle("Falcons", "Other", (), (("tsunami", "PERSON", 2), ("Daegu", "GPE", 1))),
    ]
    label = kicker(articles)
    assert label == "Daegu"


# Entities ---------------------------------------------------------------------------------


def test_hyphen_space_and_case_variants_share_a_key() -> None:
    assert alias_key("Kim Jong Nam") == alias_key("Kim Jong-nam") == alias_key("Kim-Jong-nam")
    assert alias_key("CAIRO") == alias_key("Cairo")


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("Kim Jong Un", "Kim Jong-un"),
        ("Kim-Jong-un", "Kim Jong-un"),
        ("Choe Son Hui", "Choe Son-hui"),
        ("Shoygu", "Sergei Shoigu"),
        ("Sergey Shoygu", "Sergei Shoigu"),
    ],
)
def test_romanisations_fall_together(variant: str, canonical: str) -> None:
    assert load_aliases()[alias_key(variant)] == canonical


def test_story_entities_merge_surnames_case_variants_and_acronyms() -> None:
    merged = story_entity_names(
        [
            ("Trump", "PERSON"),
            ("Donald Trump", "PERSON"),
            ("CAIRO", "GPE"),
            ("Cairo", "GPE"),
            ("Cairo", "GPE"),
            ("DNC", "ORG"),
            ("Democratic National Committee", "ORG"),
        ]
    )
    assert merged["Trump"] == "Donald Trump"
    assert merged["CAIRO"] == "Cairo"
    assert merged["DNC"] == "Democratic National Committee"


def names(result: Enrichment) -> dict[str, str]:
    return {e.text: e.label for e in result.entities}


def test_hyphenated_given_name_is_not_cut(enricher: Enricher) -> None:
    text = "Striker Seo Min-jae scored twice. Seo Min-jae said the team played well."
    assert "Seo Min" not in names(enricher.enrich("", text))


def test_entity_clean_up(enricher: Enricher) -> None:
    text = (
        "The Daegu Falcons 2-1 win came late. Soviet-era flats line the road.\n"
        "His son lives in Oakville, Ont. and works for McMillan LLP in Toronto.\n"
        "A tsunami warning was issued. Tsunami alarms sounded along the coast."
    )
    found = names(enricher.enrich("", text))
    assert "Soviet" not in found
    assert found.get("Ont") != "PERSON" and found.get("McMillan LLP") != "PERSON"
    assert "Tsunami" not in found
    assert not any(ch.isdigit() for name in found for ch in name)


def test_acronym_defined_in_the_text_folds_into_its_name(enricher: Enricher) -> None:
    text = (
        "The Democratic National Committee (DNC) met on Monday. The DNC said it would "
        "review the rules, and the Democratic National Committee chair agreed."
    )
    found = names(enricher.enrich("", text))
    assert "DNC" not in found and "Democratic National Committee" in found


# Quotes -------------------------------------------------------------------------------------


def test_descriptor_stays_a_descriptor(enricher: Enricher) -> None:
    text = '"We will not accept this deal in its current form," an EU official said on Monday.'
    quote = enricher.enrich("", text).quotes[0]
    assert quote.speaker == "an EU official" and quote.speaker_type == "DESCRIPTOR"


def test_he_added_is_a_person_not_a_law_firm(enricher: Enricher) -> None:
    text = (
        "Robert Wisner, a lawyer at McMillan LLP in Toronto, said awards were rising.\n"
        '"Obviously the billion-dollar cases are at the very high end," he added.'
    )
    assert speakers(enricher.enrich("", text)) == [("Obviously", "Robert Wisner")]


def test_speaker_tagged_org_but_resolved_as_person(enricher: Enricher) -> None:
    text = (
        "Sharks head coach Peter DeBoer said having Erik Karlsson back was a big boost.\n"
        '"You can see his impact on our team with the players around him," DeBoer said.'
    )
    assert speakers(enricher.enrich("", text)) == [("You", "Peter DeBoer")]


def test_appositive_name_beats_the_possessor(enricher: Enricher) -> None:
    text = (
        "Andre Campbell draws comics.\n"
        '"Most places will not print anything less than 1,000 copies," says Campbell\'s '
        "partner, Jason Louth."
    )
    assert speakers(enricher.enrich("", text)) == [("Most", "Jason Louth")]


def test_her_statement_is_not_the_speaker(enricher: Enricher) -> None:
    text = (
        "Maria Lopez resigned from the board on Friday.\n"
        'Her statement said she was "proud of the work we have done together."'
    )
    quote = enricher.enrich("", text).quotes[0]
    assert quote.speaker == "Maria Lopez"


def test_colon_and_bare_paragraph_quotes_are_attributed(enricher: Enricher) -> None:
    text = (
        "Daron Shaw, a Republican pollster, put it plainly:\n"
        '"Historically, lesser-known candidates surge late in the race."\n'
        "Young said cold weather takes a toll on many train components.\n"
        '"Things break that normally don\'t. Steel just becomes brittle."'
    )
    assert speakers(enricher.enrich("", text)) == [
        ("Historically,", "Daron Shaw"),
        ("Things", "Young"),
    ]


@pytest.mark.parametrize("verb", ["implored", "shouted", "noting", "telling them", "called it"])
def test_speech_verbs_by_lemma(enricher: Enricher, verb: str) -> None:
    text = f'Senator Ann Kerr spoke on Tuesday, {verb} "a disaster for the whole city of Boston."'
    assert speakers(enricher.enrich("", text)) == [("a", "Ann Kerr")]


def test_pronoun_follows_gender_and_salience(enricher: Enricher) -> None:
    text = (
        "Carole Laurin met Allan Garland in Ottawa. Garland said he was pleased.\n"
        "Laurin said she was fortunate because her pension covered therapy.\n"
        '"I think I\'m lucky because a lot of stroke survivors have no pension," she said.'
    )
    # the model may miss "Carole Laurin" as a name; her surname still names her, never Garland
    assert speakers(enricher.enrich("", text))[-1] in {("I", "Carole Laurin"), ("I", "Laurin")}


def test_british_single_quotes(enricher: Enricher) -> None:
    text = (
        "The Prime Minister said Labour had left millions trapped on welfare.\n"
        "'They have some brass neck attacking us on poverty,' David Cameron said.\n"
        "He added: 'We will carry on making the case for work.'\n"
        "The players' union said Jones' injury was serious."
    )
    result = enricher.enrich("", text)
    assert speakers(result) == [("They", "David Cameron"), ("We", "David Cameron")]


def test_single_quotes_inside_double_quotes_stay_nested() -> None:
    text = "\"He told me 'go home now and rest' and left,\" she said."
    spans = find_quote_spans(text)
    assert [text[s.start : s.end] for s in spans] == ["He told me 'go home now and rest' and left,"]


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("Sie sagte: „Wir bleiben hier bis morgen.“", "Wir bleiben hier bis morgen."),
        ("Il a dit : «Nous restons ici demain.»", "Nous restons ici demain."),
        ("彼は「明日もここにいます」と言った。", "明日もここにいます"),
    ],
)
def test_other_languages_quotation_marks(text: str, quoted: str) -> None:
    spans = find_quote_spans(text)
    assert [text[s.start : s.end] for s in spans] == [quoted]


def test_apostrophes_are_not_quotes() -> None:
    text = "It's the players' day and Jones' goal, rock 'n' roll in the '90s."
    assert find_quote_spans(text) == []


# Summaries -----------------------------------------------------------------------------------


def test_captions_bylines_widgets_and_fragments_are_furniture() -> None:
    assert is_furniture("Tweet with a location")
    assert is_furniture("and then the crowd left the square.")
    assert is_furniture("By Jane Smith For Dailymail.com")
    assert is_furniture("Follow @reporter on Twitter for more.")
    assert without_label("Go fetch: This dog waits for the ball every morning.") == (
        "This dog waits for the ball every morning."
    )
    assert not is_furniture("The council approved the budget on Monday.")


def test_one_article_story_keeps_its_lede() -> None:
    sentences = [
        "Scroll down for video The council approved a new budget for schools on Monday.",
        "'It is a good day,' said the mayor.",
        "The budget adds 40 teachers across the city next year.",
        "Parents had campaigned for the money for three years.",
        "The vote was 7 to 2 after a long debate in the chamber.",
    ]
    vectoriser = SentenceVectoriser(sentences)
    summary = story_summary([sentences], ["Council approves budget"], vectoriser)
    assert summary == (
        "The council approved a new budget for schools on Monday.",
        "The budget adds 40 teachers across the city next year.",
        "Parents had campaigned for the money for three years.",
    )


def test_no_single_off_topic_page_supplies_every_sentence() -> None:
    on = [
        [
            "Floods forced thousands from their homes in the south on Monday.",
            "Rescue teams used boats to reach villages cut off by the floods.",
            "The floods damaged roads and bridges across three provinces.",
        ],
        [
            "Thousands left their homes as floods hit the south of the country.",
            "Boats carried rescue teams to villages cut off by rising water.",
        ],
        [
            "Floods in the south damaged bridges and forced thousands to leave.",
            "Officials said rescue teams reached most villages by boat.",
        ],
    ]
    off = [
        "The stock market rose for a third day as technology shares gained ground again.",
        "Technology shares led the market higher for a third straight trading day.",
        "Investors bought technology shares as the market rose for the third day.",
    ]
    articles = [off, *on]
    vectoriser = SentenceVectoriser([s for a in articles for s in a])
    summary = story_summary(articles, [], vectoriser)
    assert not set(summary) <= set(off)
    assert sum(s in off for s in summary) <= 1


def test_full_name_comes_before_the_surname() -> None:
    articles = [
        ["Schmack concluded that the river had been polluted for years by the plant."],
        ["Anna Schmack, a chemist, tested water from the river near the plant in March."],
        ["Schmack concluded that the river had been polluted for years by the plant."],
    ]
    vectoriser = SentenceVectoriser([s for a in articles for s in a])
    summary = story_summary(articles, [], vectoriser, people=["Anna Schmack"])
    assert summary[0].startswith("Anna Schmack")


# Export ---------------------------------------------------------------------------------------


def test_exports_carry_what_the_reader_sees(enricher: Enricher, tmp_path) -> None:
    import io
    import json

    from briefing.stages.story_export import export_stories
    from briefing.stages.transfer import export_jsonl
    from briefing.store.articles import ArticleRecord, save_article
    from briefing.store.engine import Store
    from briefing.store.models import ArticleNlp, Story, StoryArticle

    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    text = (
        "Seoul subway will fit platform doors at every station by March, officials said.\n"
        '"We expect accidents to fall sharply," said Kim Min-ho, the operator\'s safety chief.'
    )
    record = ArticleRecord(
        url="https://x.example/1",
        source="wire",
        title="Subway fits doors at stations - Wire",
        text=text,
    )
    with store.session() as session:
        article_id = save_article(session, record).article_id
        data = enricher.enrich(record.title, text).to_dict()
        session.add(ArticleNlp(article_id=article_id, model="m", data=data))
        session.add(Story(id="s-1", label="Seoul: doors"))
        session.add(StoryArticle(article_id=article_id, story_id="s-1"))
    out = io.StringIO()
    export_jsonl(store, out)
    exported = json.loads(out.getvalue())
    assert {"name": "Kim Min-ho", "type": "PERSON"} in exported["entities"]
    assert exported["quotes"] == [
        {
            "text": "We expect accidents to fall sharply",
            "speaker": "Kim Min-ho",
            "speaker_type": "PERSON",
        }
    ]
    with store.session() as session:
        (story,) = export_stories(session)
    assert (
        story["headline"] == "Subway fits doors at stations"
    )  # the article's title, site name dropped
    assert story["summary"][0].startswith("Seoul subway will fit platform doors")
    assert story["articles"] == [article_id] and "label" in story
    store.close()
