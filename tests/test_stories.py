"""Story grouping on a hand-written three-day fixture (entities given, so no spaCy needed)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from briefing.stories.clustering import GroupingParams, time_decay
from briefing.stories.topics import matched, topic_hits
from briefing.stories.tracking import (
    ArticleFeatures,
    StoryState,
    Topic,
    group,
    story_label,
)


def match_topics(
    story: StoryState, articles: list[ArticleFeatures], topics: list[Topic]
) -> list[str]:
    """Judge a story's topics on its own articles, as grouping does."""
    own = [a for a in articles if a.id in set(story.article_ids)]
    return matched(topic_hits(own, topics), len(own), topics)


FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "stories" / "three_days.json").read_text("utf-8")
)
START = datetime(2023, 9, 12, tzinfo=UTC)
DISPLAY = {"North Korea": "DPRK"}


def show(canonical: str) -> str:
    """Map a canonical name to its display form, as the alias table would."""
    return DISPLAY.get(canonical, canonical)


ARMS_TALKS = Topic("DPRK–Russia arms talks", ["North Korea", "Russia"], ["arms"])
QUAKES = Topic("Earthquakes", [], ["earthquake", "quake"])
TOPICS = [ARMS_TALKS, QUAKES]


def article(raw: dict) -> ArticleFeatures:
    """Build grouping input from one fixture record."""
    return ArticleFeatures(
        id=raw["id"],
        source=raw["source"],
        title=raw["title"],
        text=raw["text"],
        published_at=START + timedelta(days=raw["day"], hours=raw["hour"]),
        entities=tuple((name, label, count) for name, label, count in raw["entities"]),
        key_phrases=tuple(raw["key_phrases"]),
    )


ARTICLES = [article(raw) for raw in FIXTURE["articles"]]
GOLD = FIXTURE["stories"]


def day(n: int) -> list[ArticleFeatures]:
    """Return the fixture articles of day n."""
    return [a for raw, a in zip(FIXTURE["articles"], ARTICLES, strict=True) if raw["day"] == n]


def evening(n: int) -> datetime:
    """Return the time the grouping runs on day n."""
    return START + timedelta(days=n, hours=20)


def run_days(last: int, **kwargs) -> list[StoryState]:
    """Group day 1 .. last, one run a day, feeding each run the stories of the last."""
    stories: list[StoryState] = []
    for n in range(1, last + 1):
        stories = group(day(n), stories, now=evening(n), members=ARTICLES, display=show, **kwargs)
    return stories


def story_of(stories: list[StoryState], article_id: str) -> StoryState:
    """Return the one story holding an article."""
    holding = [s for s in stories if article_id in s.article_ids]
    assert len(holding) == 1, f"{article_id} is in {len(holding)} stories"
    return holding[0]


def partition(stories: list[StoryState]) -> set[frozenset[str]]:
    """Return the stories as sets of article ids."""
    return {frozenset(s.article_ids) for s in stories}


@pytest.fixture(scope="module")
def after_three_days() -> list[StoryState]:
    return run_days(3, topics=TOPICS)


def test_same_event_from_different_outlets_joins() -> None:
    stories = group(day(1), [], now=evening(1))
    nk = story_of(stories, "yna-0913-kim-putin")
    assert set(nk.article_ids) == {
        "yna-0913-kim-putin",
        "reuters-0913-kim-putin",
        "ap-0913-kim-putin",
    }


def test_confusable_siblings_stay_apart() -> None:
    stories = group(day(1), [], now=evening(1))
    quakes = {story_of(stories, a).id for a in ("aa-0913-malatya-quake", "kyodo-0913-noto-quake")}
    assert len(quakes) == 2
    summits = {story_of(stories, a).id for a in ("kyodo-0913-g7", "kyodo-0913-noto-quake")}
    assert len(summits) == 2
    expected = {frozenset(ids) for ids in GOLD.values()}
    day_one = {a.id for a in day(1)}
    assert partition(stories) == {ids & day_one for ids in expected if ids & day_one}


def test_summits_days_apart_stay_apart(after_three_days: list[StoryState]) -> None:
    assert story_of(after_three_days, "kyodo-0913-g7") is not story_of(
        after_three_days, "jakpost-0914-asean"
    )


def test_later_days_join_their_story(after_three_days: list[StoryState]) -> None:
    assert partition(after_three_days) == {frozenset(ids) for ids in GOLD.values()}


def test_every_article_in_exactly_one_story(after_three_days: list[StoryState]) -> None:
    placed = [a for s in after_three_days for a in s.article_ids]
    assert sorted(placed) == sorted(a.id for a in ARTICLES)


def test_statuses_follow_the_days() -> None:
    second = run_days(2)
    status = {s.id: s.status for s in second}
    assert status[story_of(second, "yna-0913-kim-putin").id] == "developing"
    assert status[story_of(second, "kyodo-0913-noto-quake").id] == "quiet"
    assert status[story_of(second, "jakpost-0914-asean").id] == "new"
    later = group([], second, now=evening(2) + timedelta(days=8))
    assert {s.status for s in later} == {"closed"}


def test_closed_stories_take_no_articles() -> None:
    first = group(day(1), [], now=evening(1))
    follow_up = [a for a in day(2) if a.id == "yna-0914-sullivan"]
    late = [s for s in group(follow_up, first, now=evening(1) + timedelta(days=9))]
    assert story_of(late, "yna-0914-sullivan").status == "new"
    assert all(s.status == "closed" for s in late if s.id != story_of(late, "yna-0914-sullivan").id)


def test_ids_are_stable_and_come_from_the_first_article(after_three_days: list[StoryState]) -> None:
    first = group(day(1), [], now=evening(1))
    nk_day_one = story_of(first, "yna-0913-kim-putin")
    assert story_of(after_three_days, "kcna-0915-kim-returns").id == nk_day_one.id
    ids = [s.id for s in after_three_days]
    assert len(set(ids)) == len(ids)
    # The earliest article (07:00 Yonhap) names the story, whatever the input order.
    alone = group([a for a in day(1) if "kim-putin" in a.id][::-1], [], now=evening(1))
    assert alone[0].id == nk_day_one.id


def test_first_and_last_seen(after_three_days: list[StoryState]) -> None:
    nk = story_of(after_three_days, "yna-0913-kim-putin")
    assert nk.first_seen == START + timedelta(days=1, hours=7)
    assert nk.last_seen == START + timedelta(days=3, hours=6)
    undated = group(
        [ArticleFeatures("x", "s", "Title", "Body text here.", None)], [], now=evening(1)
    )
    assert undated[0].first_seen == undated[0].last_seen == evening(1)


def test_labels_read_like_a_headline(after_three_days: list[StoryState]) -> None:
    labels = {s.id: s.label for s in after_three_days}
    assert labels[story_of(after_three_days, "yna-0913-kim-putin").id] == "DPRK–Russia: arms talks"
    assert labels[story_of(after_three_days, "aa-0913-malatya-quake").id] == (
        "Malatya–Turkey: earthquake"
    )
    for label in labels.values():
        names, _, phrase = label.partition(": ")
        assert names and phrase and len(label) < 60


def test_label_kept_while_the_leading_entities_hold() -> None:
    first = group(day(1), [], now=evening(1), display=show)
    later = group(day(2), first, now=evening(2), members=ARTICLES, display=show)
    before = story_of(first, "yna-0913-kim-putin")
    after = story_of(later, "yna-0913-kim-putin")
    assert after.label == before.label
    shifted = StoryState(
        before.id,
        "Old label",
        before.article_ids,
        before.first_seen,
        before.last_seen,
        profile={**before.profile, "label_entities": ["Ukraine"]},
    )
    relabelled = group(day(2), [shifted], now=evening(2), members=ARTICLES, display=show)
    names, phrase = split_label(story_of(relabelled, "yna-0913-kim-putin").label)
    assert (set(names), phrase) == ({"DPRK", "Russia"}, "arms talks")


def split_label(label: str) -> tuple[list[str], str]:
    """Split "A–B: phrase" into its names and phrase."""
    names, _, phrase = label.partition(": ")
    return names.split("–"), phrase


def test_story_label_from_articles() -> None:
    nk = [a for a in ARTICLES if a.id in GOLD["nk-russia"]]
    names, phrase = split_label(story_label(nk))
    assert (set(names), phrase) == ({"North Korea", "Russia"}, "arms talks")
    # Russia is named 12 times in these articles, North Korea 10: the more prominent leads.
    assert names == ["Russia", "North Korea"]
    assert story_label(nk, display=show) == "Russia–DPRK: arms talks"
    bare = ArticleFeatures(
        "b", "s", "Parliament passes the budget bill after a long night", "", None
    )
    assert story_label([bare]) == "Parliament passes the budget bill after a long…"


def test_topics_tag_matching_stories(after_three_days: list[StoryState]) -> None:
    tagged = {s.id: s.topics for s in after_three_days}
    assert tagged[story_of(after_three_days, "yna-0913-kim-putin").id] == [ARMS_TALKS.name]
    assert tagged[story_of(after_three_days, "aa-0913-malatya-quake").id] == [QUAKES.name]
    assert tagged[story_of(after_three_days, "kyodo-0913-noto-quake").id] == [QUAKES.name]
    assert tagged[story_of(after_three_days, "kyodo-0913-g7").id] == []


def test_match_topics_needs_half_the_articles(after_three_days: list[StoryState]) -> None:
    g7 = story_of(after_three_days, "kyodo-0913-g7")
    russia_sanctions = Topic("Russia sanctions", ["Russia"], ["sanction"])
    assert match_topics(g7, ARTICLES, [russia_sanctions, ARMS_TALKS]) == ["Russia sanctions"]
    nk = story_of(after_three_days, "yna-0913-kim-putin")
    satellites = Topic("Satellites", [], ["satellite"])  # in 2 of the 6 articles
    assert match_topics(nk, ARTICLES, [satellites]) == []
    assert match_topics(nk, ARTICLES, [Topic("Empty")]) == []


def test_grouping_is_deterministic() -> None:
    first = run_days(3, topics=TOPICS)
    shuffled: list[StoryState] = []
    for n in (1, 2, 3):
        batch = day(n)
        random.Random(n).shuffle(batch)
        shuffled = group(
            batch, shuffled, now=evening(n), members=ARTICLES, display=show, topics=TOPICS
        )
    assert [(s.id, s.label, s.article_ids, s.status, s.topics, s.profile) for s in first] == [
        (s.id, s.label, s.article_ids, s.status, s.topics, s.profile) for s in shuffled
    ]


def test_rerun_with_the_same_articles_changes_nothing() -> None:
    first = group(day(1), [], now=evening(1))
    again = group(day(1), first, now=evening(1), members=ARTICLES)
    assert partition(again) == partition(first)
    assert {s.status for s in again} == {"quiet"}


def test_profiles_are_small_and_serialisable(after_three_days: list[StoryState]) -> None:
    params = GroupingParams()
    for story in after_three_days:
        encoded = json.dumps(story.profile)
        assert len(encoded) < 20_000
        assert all(len(v) <= params.profile_terms for v in story.profile["vectors"].values())


def test_no_articles_and_no_stories() -> None:
    assert group([], [], now=evening(1)) == []


def test_time_decay_spares_a_day_then_falls_to_a_floor() -> None:
    params = GroupingParams()
    factors = time_decay(np.array([0.0, 0.9, 3.0, 30.0, np.nan]), params)
    assert factors[0] == factors[1] == factors[4] == 1.0
    assert params.decay_floor < factors[3] < factors[2] < 1.0


def test_many_unrelated_open_stories_change_nothing() -> None:
    # Thousands of open stories that nothing today resembles must not sway today's grouping.
    unrelated = [
        StoryState(
            f"s-old-{i}",
            f"Old story {i}",
            [f"old-{i}"],
            START,
            START,
            status="quiet",
            profile={
                "version": 1,
                "vectors": {"words": {f"oldword{i}": 0.9}, "bigrams": {}, "entities": {}},
            },
        )
        for i in range(3000)
    ]
    stories: list[StoryState] = unrelated
    for n in (1, 2, 3):
        stories = group(day(n), stories, now=evening(n), members=ARTICLES)
    grouped = [s for s in stories if not s.id.startswith("s-old-")]
    assert partition(grouped) == {frozenset(ids) for ids in GOLD.values()}


def test_empty_articles_and_naive_times_are_handled() -> None:
    naive = datetime(2023, 9, 13, 8)
    blank = ArticleFeatures("blank-1", "s", "", "", naive)
    dated = [replace(a, published_at=a.published_at.replace(tzinfo=None)) for a in day(1)]
    stories = group([blank, *dated], [], now=evening(1))
    assert story_of(stories, "blank-1").label == "blank-1"
    assert story_of(stories, "blank-1").first_seen == naive.replace(tzinfo=UTC)
    later = group(day(2), stories, now=evening(2).replace(tzinfo=None), members=dated)
    assert len(story_of(later, "yna-0914-sullivan").article_ids) == 5
