"""Composition: window, ranking, extractive summaries, what's new, quotes, also noted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from support.briefings import composed

from briefing.briefs.compose import Briefing, SourceArticle, StoryInput
from briefing.briefs.summarise import SentenceVectoriser, is_usable, pick_quotes, summarise

END = datetime(2024, 5, 13, 22, 0, tzinfo=UTC)  # 07:00 in Seoul on 14 May
START = END - timedelta(hours=24)
WATCH = "DPRK–Russia arms talks"


def article(
    key: str,
    outlet: str,
    hours_ago: float | None,
    sentences: list[str],
    quotes: list[tuple[str, str | None]] | None = None,
) -> SourceArticle:
    published = None if hours_ago is None else END - timedelta(hours=hours_ago)
    return SourceArticle(
        id=key,
        outlet=outlet,
        title=f"{outlet} report {key}",
        url=f"https://{outlet.lower().replace(' ', '')}.example/{key}",
        published_at=published,
        sentences=tuple(sentences),
        quotes=tuple(quotes or ()),
    )


SHARED = (
    "Western governments accuse North Korea of shipping artillery shells to Russia for its war."
)
ARMS = StoryInput(
    "arms",
    "DPRK–Russia arms talks",
    "developing",
    (WATCH,),
    ("North Korea", "Russia", "Sergei Shoigu"),
    (
        article(
            "a1",
            "Yonhap",
            30,
            [
                "South Korea warned Russia on Sunday against sending missile know-how north.",
                "Seoul's foreign ministry summoned the Russian envoy to lodge a formal protest.",
            ],
        ),
        article(
            "a2",
            "Reuters",
            5,
            [
                "Russian security chief Sergei Shoigu met Kim Jong Un in Pyongyang on Monday.",
                SHARED,
                "“Our cooperation is not directed against third countries,” Shoigu said.",
                "Click here to subscribe to our newsletter for daily updates on Korea.",
                "Talks resumed.",
            ],
            [
                ("Our cooperation is not directed against third countries", "Sergei Shoigu"),
                ("The DPRK will always stand with the Russian people", "Kim Jong Un"),
            ],
        ),
        article(
            "a3",
            "AP",
            6,
            [
                "Kim Jong Un hosted Russia's security chief amid concern over arms transfers.",
                SHARED,
                "Washington said arms transfers would violate UN Security Council resolutions.",
            ],
            [
                ("The DPRK will always stand with the Russian people and army", "Kim Jong Un"),
                (
                    "Any arms transfer would violate several Security Council resolutions",
                    "Matthew Miller",
                ),
                ("This quote has nobody to say it at all", None),
            ],
        ),
    ),
)
RATES = StoryInput(
    "rates",
    "Bank of Korea holds rates",
    "new",
    ("Economy",),
    ("Bank of Korea",),
    tuple(
        article(
            f"r{index}",
            outlet,
            2 + index,
            [
                f"The Bank of Korea kept its benchmark rate at 3.5 percent, {outlet} reported.",
                "Inflation remains above the central bank's target of two percent this spring.",
                f"Economists polled by {outlet} had expected the decision to hold rates steady.",
            ],
        )
        for index, outlet in enumerate(["Yonhap", "Bloomberg", "Korea Times", "KBS"])
    ),
)
FLOODS = StoryInput(
    "floods",
    "Floods in the south",
    "developing",
    (),
    ("South Jeolla",),
    (
        article(
            "f1",
            "KBS",
            20,
            ["More than 3,000 people were evacuated as torrential rain battered the south."],
        ),
        article(
            "f2",
            "Yonhap",
            None,
            ["Train services between Gwangju and Mokpo were suspended until further notice."],
        ),
    ),
)
SINGLE = StoryInput(
    "kakao",
    "Kakao fined over data leak",
    "new",
    (),
    ("Kakao",),
    (
        article(
            "k1",
            "Korea Times",
            11,
            ["The privacy regulator fined Kakao a record 15.1 billion won over a data leak."],
        ),
        article(
            "k2",
            "Korea Times",
            9,
            ["Kakao said it would consider an administrative lawsuit against the fine."],
        ),
    ),
)
STALE = StoryInput(
    "stale",
    "Old news",
    "quiet",
    (),
    (),
    (
        article("o1", "AP", 40, ["Something happened well before this briefing's window opened."]),
        article("o2", "Reuters", -2, ["Something reported after the window closed is left out."]),
    ),
)
STORIES = (STALE, FLOODS, SINGLE, RATES, ARMS)


def build(stories=STORIES, **overrides) -> Briefing:  # type: ignore[no-untyped-def]
    options = {"previous_article_ids": frozenset({"a1"}), "topic_order": (WATCH,)}
    return composed(stories, **{"window_start": START, "window_end": END, **options, **overrides})


@pytest.fixture(scope="module")
def briefing() -> Briefing:
    return build()


def sentences_of(story_id: str) -> set[str]:
    story = next(story for story in STORIES if story.id == story_id)
    return {sentence for item in story.articles for sentence in item.sentences}


def test_watch_topic_first_then_by_outlets(briefing: Briefing) -> None:
    assert [section.title for section in briefing.sections] == [WATCH, "Other stories"]
    assert [story.id for story in briefing.stories] == ["arms", "rates", "floods"]
    assert [line.anchor for line in briefing.at_a_glance] == ["story-1", "story-2", "story-3"]
    rates = briefing.stories[1]
    # At a glance and the contents show the headline: a real title of one of the story's articles
    assert briefing.at_a_glance[1].label == rates.headline
    assert rates.headline in {source.title for source in rates.sources}


def test_window_excludes_stale_stories_and_late_articles(briefing: Briefing) -> None:
    ids = {story.id for story in briefing.stories} | {s.id for s in briefing.also_noted}
    assert "stale" not in ids
    # Articles without a time count as in the window: the floods story has two outlets.
    floods = next(story for story in briefing.stories if story.id == "floods")
    assert floods.outlet_count == 2
    assert floods.sources[-1].time_label == "time unknown"
    assert briefing.counts.stories == 4


def test_summaries_are_verbatim_distinct_and_skip_boilerplate(briefing: Briefing) -> None:
    for story in briefing.stories:
        assert 1 <= len(story.summary) <= 4
        assert set(story.summary) <= sentences_of(story.id)
        assert len(set(story.summary)) == len(story.summary)
        assert not set(story.summary) & set(story.whats_new)
    arms = briefing.stories[0]
    assert len(arms.summary) >= 2
    joined = " ".join(arms.summary + arms.whats_new)
    assert "newsletter" not in joined and "Talks resumed." not in joined
    assert not any(sentence.startswith("“Our cooperation") for sentence in arms.summary)
    assert joined.count(SHARED) <= 1


def test_rates_summary_does_not_repeat_syndicated_lines(briefing: Briefing) -> None:
    rates = briefing.stories[1]
    assert len(rates.summary) >= 2
    holds = [sentence for sentence in rates.summary if "kept its benchmark rate" in sentence]
    assert len(holds) == 1


def test_whats_new_comes_from_new_articles_only(briefing: Briefing) -> None:
    arms = briefing.stories[0]
    assert arms.continuing and arms.whats_new
    new_sentences = {s for item in ARMS.articles[1:] for s in item.sentences}
    assert set(arms.whats_new) <= new_sentences
    assert [source.is_new for source in arms.sources] == [True, True, False]
    rates = briefing.stories[1]
    assert not rates.continuing and rates.whats_new == ()


def test_quotes_have_distinct_speakers_and_no_near_duplicates(briefing: Briefing) -> None:
    quotes = briefing.stories[0].quotes
    speakers = [quote.speaker for quote in quotes]
    assert len(quotes) == 3
    assert len(set(speakers)) == 3
    assert set(speakers) == {"Sergei Shoigu", "Kim Jong Un", "Matthew Miller"}
    assert all(quote.outlet in {"Reuters", "AP"} for quote in quotes)


def test_single_source_story_is_also_noted(briefing: Briefing) -> None:
    assert [story.id for story in briefing.also_noted] == ["kakao"]
    assert briefing.also_noted[0].anchor == "noted-1"
    assert "kakao" not in {story.id for story in briefing.stories}


def test_sources_are_listed_newest_first_in_local_time(briefing: Briefing) -> None:
    arms = briefing.stories[0]
    assert [source.outlet for source in arms.sources] == ["Reuters", "AP", "Yonhap"]
    assert arms.sources[0].time_label == "14 May 02:00"  # 17:00 UTC is 02:00 in Seoul
    assert arms.sources[0].published_at.utcoffset() == timedelta(hours=9)
    assert arms.entities == ("North Korea", "Russia", "Sergei Shoigu")


def test_edition_and_window_in_local_time(briefing: Briefing) -> None:
    assert briefing.edition == "07:00 KST edition"
    assert briefing.window_end.hour == 7 and briefing.window_end.utcoffset() == timedelta(hours=9)


def test_empty_day_is_an_honest_short_briefing() -> None:
    empty = build(stories=())
    assert empty.is_empty
    assert empty.at_a_glance == () and empty.also_noted == ()
    assert [section.stories for section in empty.sections] == [()]
    assert (empty.counts.stories, empty.counts.articles, empty.counts.outlets) == (0, 0, 0)
    assert Briefing.from_dict(json.loads(json.dumps(empty.to_dict()))) == empty


def test_max_stories_caps_the_main_list() -> None:
    capped = build(max_stories=1)
    assert [story.id for story in capped.stories] == ["arms"]
    assert capped.omitted_stories == 2


def test_round_trip_through_json(briefing: Briefing) -> None:
    data = json.loads(json.dumps(briefing.to_dict()))
    assert data["day"] == "2024-05-14"
    assert data["generated_at"] == "2024-05-14T07:00:00+09:00"
    assert Briefing.from_dict(data) == briefing


def test_is_usable_rejects_short_boilerplate_and_quote_only() -> None:
    assert is_usable("The Bank of Korea kept its benchmark rate at 3.5 percent on Monday.")
    assert not is_usable("Talks resumed on Monday.")
    assert not is_usable("Reporting by Jane Doe; Editing by John Roe in Seoul today, Monday.")
    assert not is_usable("“We will never give in to pressure from anyone, ever,” he said.")


def test_summarise_falls_back_to_short_sentences_and_handles_nothing() -> None:
    vectoriser = SentenceVectoriser(["Fire in the port.", "Ships were moved away."])
    assert summarise([["Fire in the port.", "Ships were moved away."]], vectoriser, count=2)
    assert summarise([[]], vectoriser, count=3) == ()
    assert summarise([["Ok."]], SentenceVectoriser([]), count=3) == ()


def test_pick_quotes_falls_back_to_repeat_speakers() -> None:
    quotes = [
        [
            ("We will rebuild every single home lost in this flood", "Lee Sang-min"),
            ("The budget for recovery will be approved by Friday at the latest", "Lee"),
            ("We will rebuild every home that was lost in this flood", "Kim Min-ji"),
            ("Volunteers from across the country have already arrived here", "Park Ji-hoon"),
        ]
    ]
    picked = pick_quotes(quotes)
    # Distinct people first; the near-repeat by Kim is dropped; Lee's second quote fills in.
    assert [quote.speaker for quote in picked] == ["Lee Sang-min", "Park Ji-hoon", "Lee"]


def test_a_one_word_description_is_no_speaker() -> None:
    from briefing.briefs.summarise import pick_quotes

    quotes = [
        [
            ("Our job is to establish facts, not to make accusations", "member"),
            ("We will keep pressing for action in New York this week", "Jake Sullivan"),
            ("The talks have been advancing for months now, clearly", "a senior US official"),
        ]
    ]
    speakers = [quote.speaker for quote in pick_quotes(quotes)]
    assert speakers == ["Jake Sullivan", "a senior US official"]


TYPHOON = StoryInput(
    "typhoon",
    "Typhoon Mirinae",
    "developing",
    (),
    ("Mirinae", "Okinawa"),
    (
        article(
            "t-old",
            "Eastwind",
            30,
            [
                "Typhoon Mirinae strengthened over the Philippine Sea on Tuesday, experts said.",
                "The storm was expected to pass near Okinawa later in the week, the agency said.",
            ],
        ),
        article(
            "t-mid",
            "Courier",
            12,
            [
                "Airlines cancelled more than 300 flights to and from Okinawa ahead of the storm.",
                "Schools across the islands were told to stay closed on Thursday and Friday.",
            ],
        ),
        article(
            "t-new",
            "Northgate",
            2,
            [
                "Typhoon Mirinae made landfall on Okinawa's main island early on Thursday morning.",
                "Two people were injured by flying debris in Naha, the prefectural police said.",
            ],
        ),
    ),
    related=(("quake", "Earthquake in Hokkaido"), ("arms", "DPRK–Russia arms talks")),
)


def test_whats_new_is_this_edition_newest_first_and_background_is_earlier() -> None:
    typhoon = build((TYPHOON, ARMS), previous_article_ids=frozenset({"t-old", "a1"})).stories[-1]
    assert typhoon.id == "typhoon" and typhoon.continuing
    new_lines = {s for a in TYPHOON.articles[1:] for s in a.sentences}
    assert typhoon.whats_new and set(typhoon.whats_new) <= new_lines
    # The landfall (2 hours ago) comes before the cancellations (12 hours ago).
    assert typhoon.whats_new[0] in TYPHOON.articles[2].sentences
    assert set(typhoon.summary) <= set(TYPHOON.articles[0].sentences)  # Background: earlier only
    # "See also": a related story this briefing carries links to its anchor; others are named.
    assert [(s.label, s.anchor) for s in typhoon.see_also] == [
        ("Earthquake in Hokkaido", None),
        ("DPRK–Russia arms talks", "story-1"),
    ]
