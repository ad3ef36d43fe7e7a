"""Editorial decisions: each correction shows in the edition, and lasts as it should.

Grouping, composing and rendering run for real on the three-day fixture (tests/desk_fixture);
the pure parts (memberships, overrides) are checked on their own as well.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from desk_fixture import DAY1, DAY2, EDITOR, newsroom, story_of
from support.briefings import make_briefing
from typer.testing import CliRunner

from briefing.briefs.overrides import Overrides, apply_to_briefing, quote_key
from briefing.cli import app
from briefing.errors import DeskError
from briefing.mail.message import make_mail_environment, render_bodies
from briefing.output.render import render_html
from briefing.stages import corrections
from briefing.stages.build import build_day, compose_day
from briefing.stages.decisions import apply_to_grouping
from briefing.stages.group import group_pending
from briefing.stages.review import build_draft
from briefing.store.models import Decision, Story, StoryArticle
from briefing.stories.editorial import final_story, resolve_memberships

HEADLINE = "Kim and Putin meet at the cosmodrome"


# --- the pure parts ------------------------------------------------------------------------


def test_merges_follow_chains_and_survive_cycles() -> None:
    assert final_story("a", {"a": "b", "b": "c"}) == "c"
    assert final_story("a", {"a": "b", "b": "a"}) == "b"


def test_memberships_keep_merges_moves_and_a_regrouped_half() -> None:
    # Grouping split the merged story again (x2 with a new article n1 under a new id) and
    # put a new article in the merged-away story b: all of it goes back to a.
    members = {"a": ["x1"], "z": ["x2", "y1", "n1"], "b": ["n2"], "c": ["m1", "m2"]}
    pins = {"x1": "a", "x2": "a", "y1": "a", "m2": "new"}
    changes = resolve_memberships(members, pins, {"b": "a"})
    assert changes == {"x2": "a", "y1": "a", "n1": "a", "n2": "a", "m2": "new"}


def briefing_with(**overrides: object):  # type: ignore[no-untyped-def]
    return apply_to_briefing(make_briefing(), Overrides(**overrides))  # type: ignore[arg-type]


def test_overrides_retitle_reorder_and_note() -> None:
    briefing = briefing_with(
        headlines={"story-2": ("Typhoons: the first one", "Weather")},
        order=("story-2", "story-1"),
        sections={"noted-1": "Other stories"},
        note="Corrected at 06:50.",
    )
    assert briefing.editor_note == "Corrected at 06:50."
    other = next(s for s in briefing.sections if s.title == "Other stories")
    assert [s.id for s in other.stories] == ["story-2", "noted-1"]
    assert other.stories[0].headline == "Typhoons: the first one"
    assert other.stories[0].label == "Weather"
    assert briefing.also_noted == ()
    # Anchors follow the reading order again, and "At a glance" follows them.
    assert [s.anchor for s in briefing.stories] == ["story-1", "story-2", "story-3"]
    assert [line.label for line in briefing.at_a_glance][1] == "Typhoons: the first one"


def test_quote_fixes_match_whatever_the_marks() -> None:
    assert quote_key("“We stand  together”") == quote_key('"we stand together"')
    dropped = briefing_with(quotes={quote_key("We stand together"): None})
    assert all(not s.quotes for s in dropped.stories)
    fixed = briefing_with(quotes={quote_key("We stand together"): "Kim Yo Jong"})
    assert {q.speaker for s in fixed.stories for q in s.quotes} == {"Kim Yo Jong"}


# --- in the store --------------------------------------------------------------------------


@pytest.fixture
def newsroom_(tmp_path: Path):  # type: ignore[no-untyped-def]
    return newsroom(tmp_path)


def shown(briefing) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {s.id: s for s in (*briefing.stories, *briefing.also_noted)}


def test_every_correction_shows_in_the_edition(newsroom_) -> None:  # type: ignore[no-untyped-def]
    config, store = newsroom_
    nk = story_of(store, "yna-0913-kim-putin")
    noto, malatya = (
        story_of(store, "kyodo-0913-noto-quake"),
        story_of(store, "aa-0913-malatya-quake"),
    )
    g7 = story_of(store, "kyodo-0913-g7")
    corrections.rename(store, nk, HEADLINE, "North Korea", EDITOR)
    corrections.merge(store, noto, malatya, EDITOR)
    corrections.fix_quote(store, nk, "This quote was misread from a caption", None, EDITOR)
    corrections.fix_quote(store, nk, "“We will always be together with Russia”", "Kim Jong-un",
                          EDITOR)  # fmt: skip
    corrections.rename_outlet(store, "yonhap", "Yonhap News Agency", EDITOR)
    corrections.set_lead(store, nk, "ap-0913-kim-putin", EDITOR)
    corrections.drop(store, DAY1, g7, EDITOR)
    corrections.set_note(store, DAY1, "Two quake stories were one.", EDITOR)
    briefing, _ids = compose_day(store, config, DAY1)
    stories = shown(briefing)
    assert noto not in stories and g7 not in stories
    assert {s.url.rsplit("/", 1)[1] for s in stories[malatya].sources} >= {  # type: ignore[attr-defined]
        "kyodo-0913-noto-quake", "aa-0913-malatya-quake"}  # fmt: skip
    story = stories[nk]
    assert (story.headline, story.label) == (HEADLINE, "North Korea")
    assert [(q.text, q.speaker) for q in story.quotes] == [  # type: ignore[attr-defined]
        ("We will always be together with Russia", "Kim Jong-un")]  # fmt: skip
    assert story.sources[0].url.endswith("ap-0913-kim-putin")  # type: ignore[attr-defined]
    assert "Yonhap News Agency" in {s.outlet for s in story.sources}  # type: ignore[attr-defined]
    html = render_html(briefing)
    assert "Two quake stories were one." in html and "misread from a caption" not in html
    text, _html = render_bodies(briefing, topics=(), attached=False, env=make_mail_environment())
    assert f"[North Korea] {HEADLINE}" in text and "Two quake stories" in text


def test_the_next_days_build_keeps_the_merge_and_the_headline(newsroom_) -> None:  # type: ignore[no-untyped-def]
    config, store = newsroom_
    nk = story_of(store, "yna-0913-kim-putin")
    noto, malatya = (
        story_of(store, "kyodo-0913-noto-quake"),
        story_of(store, "aa-0913-malatya-quake"),
    )
    corrections.rename(store, nk, HEADLINE, "", EDITOR)
    corrections.merge(store, noto, malatya, EDITOR)
    build_day(store, config, DAY1)
    group_pending(store, config, now=config.briefing_due(DAY2))
    group_pending(store, config, now=config.briefing_due(DAY2))  # a re-run changes nothing
    assert story_of(store, "kyodo-0913-noto-quake") == malatya
    assert story_of(store, "aa-0914-malatya-aftershock") == malatya
    briefing = build_day(store, config, DAY2)
    from briefing.output.archive import load_briefing

    stories = shown(load_briefing(config.archive.dir, briefing.day))
    assert stories[nk].headline == HEADLINE  # type: ignore[attr-defined]
    assert story_of(store, "reuters-0914-kim-train") == nk


def test_a_new_article_grouped_into_a_merged_story_follows_the_merge(newsroom_) -> None:  # type: ignore[no-untyped-def]
    _config, store = newsroom_
    noto, malatya = (
        story_of(store, "kyodo-0913-noto-quake"),
        story_of(store, "aa-0913-malatya-quake"),
    )
    corrections.merge(store, malatya, noto, EDITOR)
    with store.session() as session:  # grouping (the old way) files a new article under malatya
        session.get(StoryArticle, "aa-0913-malatya-quake").story_id = malatya  # type: ignore[union-attr]
    assert apply_to_grouping(store) == 1
    assert story_of(store, "aa-0913-malatya-quake") == noto
    with store.session() as session:
        assert session.get(Story, malatya).status == "merged"  # type: ignore[union-attr]


def test_moving_an_article_to_a_new_story_lasts(newsroom_) -> None:  # type: ignore[no-untyped-def]
    config, store = newsroom_
    nk = story_of(store, "yna-0913-kim-putin")
    new = corrections.move_article(store, "ap-0913-kim-putin", None, EDITOR)
    assert new != nk and story_of(store, "ap-0913-kim-putin") == new
    group_pending(store, config, now=config.briefing_due(DAY2))
    assert story_of(store, "ap-0913-kim-putin") == new
    stories = shown(compose_day(store, config, DAY1)[0])
    assert stories[new].headline == "North Korea's Kim meets Putin in Russia's Far East"  # type: ignore[attr-defined]


def test_a_headline_lapses_when_the_story_reforms_around_other_articles(newsroom_) -> None:  # type: ignore[no-untyped-def]
    config, store = newsroom_
    nk = story_of(store, "yna-0913-kim-putin")
    corrections.rename(store, nk, HEADLINE, "", EDITOR)
    for article in ("yna-0913-kim-putin", "reuters-0913-kim-putin"):
        corrections.move_article(store, article, None, EDITOR)
    stories = shown(compose_day(store, config, DAY1)[0])
    assert stories[nk].headline != HEADLINE  # type: ignore[attr-defined]


def test_order_and_sections_hold_for_one_edition(newsroom_) -> None:  # type: ignore[no-untyped-def]
    config, store = newsroom_
    draft = build_draft(store, config, DAY1)
    order = [s.id for s in draft.briefing.stories]
    last = order[-1]
    corrections.reorder(store, DAY1, last, -10, order, EDITOR)
    assert next(s.id for s in compose_day(store, config, DAY1)[0].stories) == last
    titles = [s.title for s in draft.briefing.sections]
    corrections.set_section(store, DAY1, last, "Also noted", titles, EDITOR)
    first = compose_day(store, config, DAY1)[0]
    assert last in {s.id for s in first.also_noted}
    with pytest.raises(DeskError, match="no section"):
        corrections.set_section(store, DAY1, last, "Sports", titles, EDITOR)
    group_pending(store, config, now=config.briefing_due(DAY2))
    assert last not in {s.id for s in compose_day(store, config, DAY2)[0].also_noted}


def test_mistakes_are_refused_and_nothing_is_stored(newsroom_) -> None:  # type: ignore[no-untyped-def]
    _config, store = newsroom_
    nk = story_of(store, "yna-0913-kim-putin")
    cases = [
        lambda: corrections.rename(store, "nope", "x", "", EDITOR),
        lambda: corrections.rename(store, nk, "x" * 500, "", EDITOR),
        lambda: corrections.merge(store, nk, nk, EDITOR),
        lambda: corrections.merge(store, nk, "nope", EDITOR),
        lambda: corrections.move_article(store, "nope", None, EDITOR),
        lambda: corrections.set_lead(store, nk, "kyodo-0913-g7", EDITOR),
        lambda: corrections.fix_quote(store, nk, "words", "  ", EDITOR),
        lambda: corrections.rename_outlet(store, "nope", "Nope", EDITOR),
    ]
    for case in cases:
        with pytest.raises(DeskError):
            case()
    with store.session() as session:
        assert session.query(Decision).count() == 0


def test_the_command_line_desk(newsroom_, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config, store = newsroom_
    (tmp_path / "briefing.toml").write_text(
        'timezone = "UTC"\n[schedule]\ndaily = "18:00"\n[review]\nenabled = true\n'
        '[mail]\nattach_pdf = false\n[[subscribers]]\nemail = "reader@example.org"\n'
        '[[editors]]\nemail = "editor@example.org"\n'
    )
    monkeypatch.setenv("BRIEFING_CONFIG", str(tmp_path / "briefing.toml"))
    monkeypatch.setenv("BRIEFING_EDITOR", EDITOR)
    monkeypatch.setenv("COLUMNS", "300")
    build_draft(store, config, DAY1)
    runner = CliRunner()
    listed = runner.invoke(app, ["review", "--date", "2023-09-13", "-a"])
    assert listed.exit_code == 0, listed.output
    nk = story_of(store, "yna-0913-kim-putin")
    assert nk in listed.stdout and "misread from a caption" in listed.stdout
    renamed = runner.invoke(app, ["story", "rename", nk, HEADLINE, "--date", "2023-09-13"])
    assert renamed.exit_code == 0, renamed.output
    assert HEADLINE in runner.invoke(app, ["review", "--date", "2023-09-13"]).stdout
    bad = runner.invoke(app, ["story", "merge", nk, "nope", "--date", "2023-09-13"])
    assert bad.exit_code == 1 and bad.stderr.startswith("desk error: no story 'nope'")
    approved = runner.invoke(app, ["approve", "--date", "2023-09-13", "--send-now"])
    assert approved.exit_code == 0, approved.output
    assert "sent to 1 subscriber(s)" in approved.stdout
    with store.session() as session:
        kinds = [d.kind for d in session.query(Decision).order_by(Decision.id)]
        editors = {d.editor for d in session.query(Decision)}
    assert kinds == ["headline", "approve"] and editors == {EDITOR}
