"""Stories across days: sibling incidents, stable ids and labels, order independence."""

from __future__ import annotations

import random
from datetime import timedelta

from support.quakes import ACEH, EVERYTHING, EXPECTED, JAVA, START

from briefing.stories.tracking import ArticleFeatures, StoryState, group


def by_day(articles: list[ArticleFeatures]) -> list[list[ArticleFeatures]]:
    days: dict[int, list[ArticleFeatures]] = {}
    for article in articles:
        assert article.published_at is not None
        days.setdefault((article.published_at - START).days, []).append(article)
    return [days[d] for d in sorted(days)]


def run(batches: list[list[ArticleFeatures]]) -> list[StoryState]:
    """Group batch after batch, each run at the time of its latest article."""
    stories: list[StoryState] = []
    for batch in batches:
        now = max(a.published_at for a in batch if a.published_at) + timedelta(minutes=5)
        stories = group(batch, stories, now=now, members=EVERYTHING)
    return stories


def partition(stories: list[StoryState]) -> set[frozenset[str]]:
    return {frozenset(s.article_ids) for s in stories if s.article_ids}


def test_sibling_incident_on_the_next_day_is_a_new_story() -> None:
    first = run([by_day(EVERYTHING)[0]])
    second = group(
        by_day(EVERYTHING)[1], first, now=START + timedelta(days=1, hours=9), members=EVERYTHING
    )
    assert partition(second) == EXPECTED
    status = {frozenset(s.article_ids): s.status for s in second}
    assert status[frozenset(a.id for a in ACEH)] == "developing"
    assert status[frozenset(a.id for a in JAVA)] == "new"
    aceh = next(s for s in second if "ant-aceh" in s.article_ids)
    java = next(s for s in second if "ant-java" in s.article_ids)
    assert aceh.id == first[0].id  # the story the first day started keeps its id
    assert java.id in aceh.related and aceh.id in java.related  # "see also" each other


def test_grouping_does_not_depend_on_order_or_on_how_runs_are_split() -> None:
    one_batch = run([EVERYTHING])
    daily = run(by_day(EVERYTHING))
    shuffled = EVERYTHING[:]
    random.Random(4).shuffle(shuffled)
    ordered = sorted(shuffled, key=lambda a: a.published_at or START)
    one_at_a_time = run([[a] for a in ordered])
    reversed_input = run([batch[::-1] for batch in by_day(EVERYTHING)])
    assert partition(one_batch) == partition(daily) == EXPECTED
    assert partition(one_at_a_time) == partition(reversed_input) == EXPECTED
    assert {s.id for s in daily if s.article_ids} == {s.id for s in one_batch}


def test_label_and_id_stay_when_nothing_new_joins() -> None:
    first = run([ACEH[:3]])
    later = group(JAVA, first, now=START + timedelta(days=1, hours=9), members=EVERYTHING)
    before = first[0]
    after = next(s for s in later if s.id == before.id)
    assert (after.label, after.article_ids, after.status) == (
        before.label,
        before.article_ids,
        "quiet",
    )
    assert after.profile == before.profile


def test_a_rerun_moves_nothing_and_keeps_labels() -> None:
    stories = run(by_day(EVERYTHING))
    again = group(EVERYTHING, stories, now=START + timedelta(days=2), members=EVERYTHING)
    assert [(s.id, s.label, s.article_ids) for s in again] == [
        (s.id, s.label, s.article_ids) for s in stories
    ]
    assert {s.status for s in again} == {"quiet"}


def test_articles_not_passed_as_members_stay_in_their_story() -> None:
    first = run([ACEH[:3]])
    without = [a for a in EVERYTHING if a.id != "kyo-aceh"]  # say, its NLP results are missing
    later = group(ACEH[3:], first, now=START + timedelta(days=1, hours=9), members=without)
    aceh = next(s for s in later if s.id == first[0].id)
    assert set(aceh.article_ids) == {a.id for a in ACEH}
    assert aceh.status == "developing"


def test_an_early_split_is_repaired_and_the_emptied_story_points_to_the_whole() -> None:
    part_a = run([ACEH[:2]])[0]  # an earlier run split one incident in two
    part_b = run([ACEH[2:3]])[0]
    later = group(
        ACEH[3:], [part_a, part_b], now=START + timedelta(days=1, hours=9), members=EVERYTHING
    )
    whole, emptied = later
    assert (whole.id, whole.status, set(whole.article_ids)) == (
        part_a.id,
        "developing",
        {a.id for a in ACEH},
    )
    assert (emptied.id, emptied.status, emptied.article_ids, emptied.related) == (
        part_b.id,
        "merged",
        [],
        [part_a.id],
    )
    after = group(JAVA, later, now=START + timedelta(days=1, hours=10), members=EVERYTHING)
    assert [s.status for s in after if s.id == part_b.id] == ["merged"]
