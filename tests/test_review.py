"""Review before the send: the draft job, the send-time gate, approval; each path sends once.

Mail goes to a real SMTP server on loopback (aiosmtpd); the jobs are the daemon's own
targets (make_draft at the draft time, run_daily at the daily time), run at chosen clocks.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from desk_fixture import DAY1, EDITOR, newsroom, story_of
from support.smtp import LoopbackController, Recorder

from briefing.errors import DeskError, MailError
from briefing.output.archive import list_briefings, load_briefing
from briefing.schedule.jobs import plan_jobs
from briefing.stages import corrections
from briefing.stages.approval import approve
from briefing.stages.daily import run_daily
from briefing.stages.review import draft_paths, edition, make_draft, refresh_draft
from briefing.stages.send import list_deliveries, send_briefing

READER = "reader@example.org"
HEADLINE = "Kim and Putin meet at the cosmodrome"


@pytest.fixture
def smtp(smtp_server: tuple[Recorder, LoopbackController]) -> tuple[Recorder, int]:
    recorder, controller = smtp_server
    return recorder, controller.port


def setup(tmp_path: Path, port: int, unreviewed: str = "send"):  # type: ignore[no-untyped-def]
    smtp = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5}
    return newsroom(tmp_path, review={"unreviewed": unreviewed}, mail={"smtp": smtp})


def subjects(recorder: Recorder, address: str) -> list[str]:
    return [str(item.parsed()["Subject"]) for item in recorder.to(address)]


def draft_time(config):  # type: ignore[no-untyped-def]
    return config.draft_due(DAY1)


def test_the_draft_job_is_planned_half_an_hour_before_the_send(tmp_path: Path) -> None:
    config, _store = newsroom(tmp_path)
    plans = {plan.id: plan for plan in plan_jobs(config)}
    assert plans["draft"].schedule == "17:30 UTC" and plans["daily"].schedule == "18:00 UTC"
    config2, _ = newsroom(tmp_path / "b", review={"draft_at": "06:15"})
    assert {p.id: p for p in plan_jobs(config2)}["draft"].schedule == "06:15 UTC"
    off, _ = newsroom(tmp_path / "c", review={"enabled": False})
    assert "draft" not in {plan.id for plan in plan_jobs(off)}


def test_a_draft_is_filed_apart_and_the_editors_are_told(smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorder, port = smtp
    config, store = setup(tmp_path, port)
    draft = make_draft(config, now=draft_time(config))
    assert draft.day == DAY1
    assert draft_paths(config, DAY1).pdf.read_bytes().startswith(b"%PDF")
    assert list_briefings(config.archive.dir) == []  # not listed, not in the feed
    (note,) = recorder.to(EDITOR)
    body = note.parsed().get_content()
    assert "Draft ready" in str(note.parsed()["Subject"]) and "/desk/2023-09-13/" in body
    assert recorder.to(READER) == []
    row = edition(store, DAY1)
    assert row is not None and row.status == "draft" and row.notified_at is not None
    with pytest.raises(MailError, match="awaits review"):  # before the send time: waits
        send_briefing(store, config, DAY1, clock=lambda: config.briefing_due(DAY1) - timedelta(1))


def test_approved_in_time_goes_out_once_at_the_send_time(smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorder, port = smtp
    config, store = setup(tmp_path, port)
    make_draft(config, now=draft_time(config))
    nk = story_of(store, "yna-0913-kim-putin")
    corrections.rename(store, nk, HEADLINE, "", EDITOR)
    refresh_draft(store, config, DAY1)  # as the desk and `briefing story` do after each one
    result = approve(store, config, DAY1, EDITOR, now=draft_time(config) + timedelta(minutes=10))
    assert not result.sent_now and recorder.to(READER) == []  # in time: it waits for 18:00
    for _ in range(2):  # the daily job, and a second run (a restart): one message in all
        report = run_daily(config, DAY1, now=config.briefing_due(DAY1))
        assert report.review == "approved"
    (message,) = recorder.to(READER)
    assert HEADLINE in message.parsed().get_body(("plain",)).get_content()
    assert [row.status for row in list_deliveries(store, DAY1)] == ["sent"]
    assert HEADLINE in [s.headline for s in load_briefing(config.archive.dir, DAY1).stories]


def test_unreviewed_with_send_goes_out_once_and_the_editors_are_told(smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorder, port = smtp
    config, store = setup(tmp_path, port, "send")
    make_draft(config, now=draft_time(config))
    for _ in range(2):
        report = run_daily(config, DAY1, now=config.briefing_due(DAY1))
        assert report.review == "unreviewed"
    assert len(recorder.to(READER)) == 1
    assert any("Sent unreviewed" in s for s in subjects(recorder, EDITOR))
    assert sum("Sent unreviewed" in s for s in subjects(recorder, EDITOR)) == 1
    with pytest.raises(DeskError, match="went out unreviewed"):
        approve(store, config, DAY1, EDITOR)
    with pytest.raises(DeskError, match="went out unreviewed"):
        make_draft(config, DAY1)
    assert len(recorder.to(READER)) == 1


def test_unreviewed_with_hold_waits_then_a_late_approval_sends_once(smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorder, port = smtp
    config, store = setup(tmp_path, port, "hold")
    make_draft(config, now=draft_time(config))
    for _ in range(2):
        report = run_daily(config, DAY1, now=config.briefing_due(DAY1))
        assert report.review == "held" and report.delivery is None
    assert recorder.to(READER) == []
    assert sum("Held for review" in s for s in subjects(recorder, EDITOR)) == 1
    with pytest.raises(MailError, match="held for review"):
        send_briefing(store, config, DAY1)
    nk = story_of(store, "yna-0913-kim-putin")
    corrections.rename(store, nk, HEADLINE, "", EDITOR)
    refresh_draft(store, config, DAY1)
    late = config.briefing_due(DAY1) + timedelta(hours=2)
    result = approve(store, config, DAY1, EDITOR, now=late)
    assert result.sent_now and result.delivery.sent == [READER]
    run_daily(config, DAY1, now=late)  # the daemon again (say, restarted): nothing more
    send_briefing(store, config, DAY1)
    (message,) = recorder.to(READER)
    assert HEADLINE in message.parsed().get_body(("plain",)).get_content()


def test_a_correction_after_approval_withdraws_it(smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorder, port = smtp
    config, store = setup(tmp_path, port, "hold")
    make_draft(config, now=draft_time(config))
    approve(store, config, DAY1, EDITOR, now=draft_time(config))
    corrections.set_note(store, DAY1, "One more thing.", EDITOR)
    refresh_draft(store, config, DAY1)
    row = edition(store, DAY1)
    assert row is not None and row.status == "draft" and row.approved_by is None
    report = run_daily(config, DAY1, now=config.briefing_due(DAY1))
    assert report.review == "held" and recorder.to(READER) == []


def test_approve_and_send_now_before_the_send_time(smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    recorder, port = smtp
    config, store = setup(tmp_path, port)
    make_draft(config, now=draft_time(config))
    approve(store, config, DAY1, EDITOR, send_now=True, now=draft_time(config))
    run_daily(config, DAY1, now=config.briefing_due(DAY1))
    assert len(recorder.to(READER)) == 1


def test_briefing_run_draft_and_the_daemons_draft_job(tmp_path: Path) -> None:
    from briefing.schedule.jobs import JobTargets, run_job, run_once
    from briefing.stages.review import upcoming_day

    config, _store = newsroom(tmp_path)
    report = run_once(config, crawl=False, draft=True)
    assert report.daily.day == upcoming_day(config)
    assert draft_paths(config, report.daily.day).html.is_file()
    path = tmp_path / "daemon" / "briefing.toml"
    path.parent.mkdir()
    path.write_text('[review]\nenabled = true\n[[editors]]\nemail = "editor@example.org"\n')
    draft = run_job("draft", str(path), JobTargets().draft)
    assert draft.paths.html.is_file() and "drafts" in draft.paths.html.parts
    (note,) = (tmp_path / "daemon" / "outbox").glob("*.eml")
    assert "Draft ready" in note.read_text()
