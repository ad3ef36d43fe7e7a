"""Exactly-once delivery, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from support.briefings import DAY, WATCH, archive
from support.clock import Clock
from support.config import SENDER, smtp_section
from support.config import make_config as support_config
from support.http import unused_port
from support.smtp import LoopbackController, Recorder
from typer.testing import CliRunner

from briefing.addresses import AddressError
from briefing.cli import app
from briefing.config import Config, parse_config
from briefing.errors import MailError
from briefing.mail.transport import OutboxTransport, Outgoing, SmtpTransport
from briefing.stages.send import RetryPolicy, list_deliveries, send_briefing, send_test
from briefing.stages.subscribers import active_recipients, add_subscriber, remove_subscriber
from briefing.store.engine import Store
from briefing.store.models import Base, Delivery
from briefing.store.search import is_search_object

START = datetime(2024, 5, 13, 22, 0, tzinfo=UTC)


class Crash(BaseException):
    """Stands for the process dying (kill -9, power cut) at a chosen moment."""


class CrashAfterSend:
    """Hand the message over for real, then die before delivery can record it."""

    def __init__(self, inner: SmtpTransport | OutboxTransport) -> None:
        self.inner = inner

    def send(self, outgoing: Outgoing) -> None:
        self.inner.send(outgoing)
        raise Crash

    def accepted(self, outgoing: Outgoing) -> bool | None:
        return self.inner.accepted(outgoing)

    def close(self) -> None:
        self.inner.close()


class CrashBeforeSend(CrashAfterSend):
    def send(self, outgoing: Outgoing) -> None:
        raise Crash


def make_config(tmp_path: Path, port: int | None, *emails: str, **mail: object) -> Config:
    return support_config(
        tmp_path,
        topics=[{"name": WATCH, "entities": ["North Korea"]}],
        mail={"sender": SENDER, **({"smtp": smtp_section(port)} if port else {}), **mail},
        subscribers=[{"email": address} for address in emails],
    )


def rows(store: Store) -> dict[str, Delivery]:
    return {row.recipient: row for row in list_deliveries(store, DAY)}


@pytest.fixture
def server(smtp_server: tuple[Recorder, LoopbackController]) -> tuple[Recorder, LoopbackController]:
    return smtp_server


def test_migration_matches_the_models(store: Store) -> None:
    # The search index (FTS5 tables, a GIN index) is not an ORM model: leave it out.
    options = {"include_name": lambda name, type_, parents: not is_search_object(name)}
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, Base.metadata) == []


def test_server_down_retries_then_pending_then_delivers_exactly_once(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    port = unused_port()
    config = make_config(tmp_path, port, "a@example.org", "b@example.org")
    archive(config)
    sleeps: list[float] = []
    report = send_briefing(store, config, DAY, sleep=sleeps.append, clock=Clock(START))
    assert sleeps == [2.0, 8.0]  # three rounds, backing off, and no real waiting
    assert report.sent == [] and set(report.pending) == {"a@example.org", "b@example.org"}
    first = rows(store)
    assert {row.status for row in first.values()} == {"pending"}
    assert first["a@example.org"].attempts == 3
    assert "Connection refused" in str(first["a@example.org"].last_error)
    assert first["b@example.org"].attempts == 0  # the server was down: no point trying b
    assert str(first["b@example.org"].last_error).startswith("not attempted")
    message_id = first["a@example.org"].message_id

    recorder = Recorder()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = send_briefing(store, config, DAY, sleep=sleeps.append)
        again = send_briefing(store, config, DAY, sleep=sleeps.append)
    finally:
        controller.stop()
    assert sorted(report.sent) == ["a@example.org", "b@example.org"] and report.complete
    assert again.sent == [] and sorted(again.already_sent) == ["a@example.org", "b@example.org"]
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == ["a@example.org", "b@example.org"]
    after = rows(store)
    assert {row.status for row in after.values()} == {"sent"}
    assert after["a@example.org"].message_id == message_id  # chosen once, kept for every try
    got = recorder.to("a@example.org")[0].parsed()
    assert got["Message-ID"] == message_id
    assert sleeps == [2.0, 8.0]


def test_a_refused_recipient_does_not_block_the_others(tmp_path, store, server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    recorder.refuse.add("gone@example.org")
    config = make_config(
        tmp_path, controller.port, "a@example.org", "gone@example.org", "b@example.org"
    )
    archive(config)
    sleeps: list[float] = []
    report = send_briefing(store, config, DAY, sleep=sleeps.append)
    assert report.sent == ["a@example.org", "b@example.org"]
    assert "550" in report.failed["gone@example.org"] and not report.complete
    assert sleeps == []  # a permanent refusal is not retried
    assert rows(store)["gone@example.org"].status == "failed"

    later = send_briefing(store, config, DAY, sleep=sleeps.append)
    assert rows(store)["gone@example.org"].attempts == 1  # not retried by later runs
    assert "550" in later.failed["gone@example.org"] and not later.complete  # but still told
    recorder.refuse.clear()
    report = send_briefing(store, config, DAY, sleep=sleeps.append, retry_failed=True)
    assert report.sent == ["gone@example.org"]
    assert [
        len(recorder.to(a)) for a in ("a@example.org", "b@example.org", "gone@example.org")
    ] == [1, 1, 1]


def test_a_deferred_recipient_is_retried_after_the_others(tmp_path, store, server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    recorder.defer.add("busy@example.org")
    config = make_config(tmp_path, controller.port, "busy@example.org", "a@example.org")
    archive(config)
    sleeps: list[float] = []
    report = send_briefing(store, config, DAY, sleep=sleeps.append, retry=RetryPolicy(attempts=2))
    assert report.sent == ["a@example.org"] and "451" in report.pending["busy@example.org"]
    assert sleeps == [2.0]
    row = rows(store)["busy@example.org"]
    assert (row.status, row.attempts) == ("pending", 2)
    recorder.defer.clear()
    assert send_briefing(store, config, DAY, sleep=sleeps.append).sent == ["busy@example.org"]
    assert len(recorder.received) == 2


def test_a_crash_before_handing_over_resumes_with_one_copy(tmp_path, store, server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    config = make_config(tmp_path, controller.port, "a@example.org")
    archive(config)
    clock = Clock(START)
    smtp = SmtpTransport(config.mail.smtp)  # type: ignore[arg-type]
    with pytest.raises(Crash):
        send_briefing(store, config, DAY, transport=CrashBeforeSend(smtp), clock=clock)
    stuck = rows(store)["a@example.org"]
    assert stuck.status == "sending" and stuck.message_id  # recorded before the hand-over

    report = send_briefing(store, config, DAY, clock=clock)  # too soon: maybe still running
    assert report.in_progress == ["a@example.org"] and recorder.received == []
    clock.now += timedelta(minutes=11)
    report = send_briefing(store, config, DAY, clock=clock)
    assert report.sent == ["a@example.org"]
    [got] = recorder.received
    assert got.parsed()["Message-ID"] == stuck.message_id


def test_a_crash_after_smtp_accepted_resends_with_the_same_message_id(
    tmp_path, store, server
) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    config = make_config(tmp_path, controller.port, "a@example.org")
    archive(config)
    clock = Clock(START)
    smtp = SmtpTransport(config.mail.smtp)  # type: ignore[arg-type]
    with pytest.raises(Crash):
        send_briefing(store, config, DAY, transport=CrashAfterSend(smtp), clock=clock)
    smtp.close()  # what the dead process's operating system would do
    clock.now += timedelta(minutes=11)
    report = send_briefing(store, config, DAY, clock=clock)
    # The documented window: SMTP cannot tell us the first copy arrived, so a second copy
    # goes out, with the same Message-ID so that the receiving side can drop it.
    assert report.sent == ["a@example.org"]
    ids = {item.parsed()["Message-ID"] for item in recorder.received}
    assert len(recorder.received) == 2 and ids == {rows(store)["a@example.org"].message_id}
    assert "interrupted" in str(rows(store)["a@example.org"].last_error)


def test_a_cautious_resume_never_sends_twice(tmp_path, store, server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    config = make_config(tmp_path, controller.port, "a@example.org")
    archive(config)
    clock = Clock(START)
    smtp = SmtpTransport(config.mail.smtp)  # type: ignore[arg-type]
    with pytest.raises(Crash):
        send_briefing(store, config, DAY, transport=CrashAfterSend(smtp), clock=clock)
    smtp.close()  # what the dead process's operating system would do
    clock.now += timedelta(minutes=11)
    report = send_briefing(store, config, DAY, clock=clock, resend_interrupted=False)
    assert "may or may not" in report.failed["a@example.org"]
    assert len(recorder.received) == 1 and rows(store)["a@example.org"].status == "failed"


def test_outbox_knows_what_it_wrote_so_a_crash_never_writes_twice(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, None, "a@example.org", "b@example.org")
    archive(config)
    clock = Clock(START)
    outbox = OutboxTransport(config.mail.outbox)
    with pytest.raises(Crash):
        send_briefing(store, config, DAY, transport=CrashAfterSend(outbox), clock=clock)
    clock.now += timedelta(minutes=11)
    report = send_briefing(store, config, DAY, clock=clock)
    assert sorted(report.sent) == ["a@example.org", "b@example.org"]
    files = sorted(path.name for path in config.mail.outbox.iterdir())
    assert len(files) == 2 and files[0].startswith("2024-05-14_a-at-example.org_")
    assert send_briefing(store, config, DAY, clock=clock).sent == []
    assert len(list(config.mail.outbox.iterdir())) == 2


def test_pdf_follows_the_config_and_each_subscriber(tmp_path, store, server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    config = make_config(tmp_path, controller.port, "a@example.org", attach_pdf=False)
    archive(config)
    add_subscriber(store, config, "pdf@example.org", attach_pdf=True)
    send_briefing(store, config, DAY)
    kinds = {
        r.rcpt_tos[0]: [p.get_content_type() for p in r.parsed().iter_attachments()]
        for r in recorder.received
    }
    assert kinds == {"a@example.org": [], "pdf@example.org": ["application/pdf"]}


def test_send_to_one_address_leaves_deliveries_alone(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, None, "a@example.org")
    archive(config)
    message_id = send_test(store, config, "me@example.org", DAY)
    [written] = config.mail.outbox.iterdir()
    assert "me-at-example.org" in written.name and message_id.encode() in written.read_bytes()
    parsed = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert parsed["Subject"].startswith("[test] DPRK–Russia arms talks")
    assert list_deliveries(store) == []
    with pytest.raises(AddressError):
        send_test(store, config, "not an address", DAY)


def test_a_missing_briefing_says_how_to_build_it(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, None, "a@example.org")
    with pytest.raises(MailError, match="briefing build --date 2024-05-14"):
        send_briefing(store, config, DAY)
    assert list_deliveries(store) == []


def test_subscribers_from_config_and_store(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, None, "desk@example.org", "broken@nowhere")
    recipient, created = add_subscriber(
        store, config, " New@Example.ORG ", name="New\r\nBcc: x@y.org", topics=[WATCH.lower()]
    )
    assert created and recipient.email == "New@example.org"
    assert recipient.name == "New Bcc: x@y.org" and recipient.topics == (WATCH,)
    assert add_subscriber(store, config, "new@example.org", name="Renamed")[1] is False
    with pytest.raises(AddressError, match="needs a dot"):
        add_subscriber(store, config, "someone@intranet")
    with pytest.raises(MailError, match="unknown topic 'Weather'"):
        add_subscriber(store, config, "w@example.org", topics=["Weather"])
    with pytest.raises(MailError, match="declared in the config"):
        remove_subscriber(store, config, "DESK@example.org")
    recipients, invalid = active_recipients(store, config)
    assert [(r.email, r.name, r.origin) for r in recipients] == [
        ("desk@example.org", "", "config"),
        ("New@example.org", "Renamed", "store"),
    ]
    assert "broken@nowhere" in invalid
    assert remove_subscriber(store, config, "new@example.org") == "new@example.org"
    assert [r.email for r in active_recipients(store, config)[0]] == ["desk@example.org"]
    with pytest.raises(MailError, match="not subscribed"):
        remove_subscriber(store, config, "new@example.org")


def test_pending_rows_of_people_who_left_are_closed(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path, unused_port(), "a@example.org")
    archive(config)
    add_subscriber(store, config, "gone@example.org")
    send_briefing(store, config, DAY, sleep=lambda _: None, retry=RetryPolicy(attempts=1))
    remove_subscriber(store, config, "gone@example.org")
    send_briefing(store, config, DAY, sleep=lambda _: None, retry=RetryPolicy(attempts=1))
    row = rows(store)["gone@example.org"]
    assert (row.status, row.last_error) == ("failed", "unsubscribed before it was sent")
    add_subscriber(store, config, "gone@example.org")  # back the same day: owed the briefing
    send_briefing(store, config, DAY, sleep=lambda _: None, retry=RetryPolicy(attempts=1))
    assert rows(store)["gone@example.org"].status == "pending"


def test_claims_are_compare_and_set(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    """A row another run is sending (recently) is left alone, not sent a second time."""
    config = make_config(tmp_path, None, "a@example.org")
    archive(config)
    with store.session() as session:
        session.add(
            Delivery(
                day=DAY,
                recipient="a@example.org",
                status="sending",
                message_id="<held@example.org>",
                updated_at=START,
            )
        )
    report = send_briefing(store, config, DAY, clock=Clock(START))
    assert report.in_progress == ["a@example.org"] and not config.mail.outbox.exists()
    with store.session() as session:
        held = session.scalars(select(Delivery)).one()
    assert (held.status, held.attempts) == ("sending", 0)


def test_cli_commands(tmp_path: Path, server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    config_file = tmp_path / "briefing.toml"
    config_file.write_text(
        f'[mail]\nsender = "Briefing <briefing@example.org>"\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {controller.port}\nsecurity = "none"\n'
        '[[subscribers]]\nemail = "desk@example.org"\n'
    )
    archive(parse_config({}, base_dir=tmp_path))
    runner, where = CliRunner(), ["--config", str(config_file)]

    bad = runner.invoke(app, ["subscribers", "add", "bad@@example.org", *where])
    assert bad.exit_code == 1 and "not a valid email address" in bad.output
    added = runner.invoke(app, ["subscribers", "add", "night@example.org", "--no-pdf", *where])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["subscribers", "list", *where])
    assert "night@example.org" in listed.output and "desk@example.org" in listed.output
    logged = runner.invoke(
        app, ["subscribers", "log", "NIGHT@example.org", *where], terminal_width=200
    )
    assert logged.exit_code == 0 and "night@example.org" in logged.output, logged.output
    assert "added" in logged.output and "cli" in logged.output
    old = runner.invoke(app, ["send", "--date", "2024-05-14", *where])
    assert old.exit_code == 2 and "add --force" in old.output and not recorder.received
    sent = runner.invoke(app, ["send", "--date", "2024-05-14", "--force", *where])
    assert sent.exit_code == 0 and "sent 2" in sent.output, sent.output
    test = runner.invoke(app, ["send", "--date", "2024-05-14", "--to", "me@example.org", *where])
    assert test.exit_code == 0 and "test sent to me@example.org" in test.output
    shown = runner.invoke(app, ["deliveries", "--date", "2024-05-14", *where], terminal_width=200)
    assert shown.exit_code == 0 and shown.output.count("sent") >= 2, shown.output
    assert "me@example.org" not in shown.output
    again = runner.invoke(app, ["send", "--date", "2024-05-14", "--force", *where])
    assert "sent 0, already sent 2" in again.output
    assert len(recorder.received) == 3
    missing = runner.invoke(app, ["send", "--date", "2024-05-15", *where])
    assert missing.exit_code == 1 and "briefing build --date 2024-05-15" in missing.output


@pytest.mark.postgres
def test_exactly_once_on_postgresql(tmp_path, postgres_store, server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = server
    recorder.refuse.add("gone@example.org")
    config = make_config(tmp_path, controller.port, "a@example.org", "gone@example.org")
    archive(config)
    add_subscriber(postgres_store, config, "b@example.org")
    report = send_briefing(postgres_store, config, DAY)
    again = send_briefing(postgres_store, config, DAY)
    assert (
        report.sent == ["a@example.org", "b@example.org"]
        and "550" in report.failed["gone@example.org"]
    )
    assert again.sent == [] and len(recorder.received) == 2
    assert {r.status for r in list_deliveries(postgres_store, DAY)} == {"sent", "failed"}


def test_a_row_left_sending_by_a_dead_process_is_taken_over_at_once(tmp_path, store) -> None:  # type: ignore[no-untyped-def]
    import socket
    import subprocess
    import sys

    config = make_config(tmp_path, None, "dead@example.org", "alive@example.org")
    archive(config)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    host = socket.gethostname()
    owners = {"dead@example.org": f"{host}:{dead.stdout.strip()}",
              "alive@example.org": f"{host}:{os.getppid()}"}  # fmt: skip
    with store.session() as session:
        for email, owner in owners.items():
            session.add(
                Delivery(day=DAY, recipient=email, status="sending", updated_at=START,
                         message_id=f"<{email}>", attempts=1, claimed_by=owner)
            )  # fmt: skip
    report = send_briefing(store, config, DAY, clock=Clock(START))  # well within the lease
    assert report.sent == ["dead@example.org"] and report.in_progress == ["alive@example.org"]
    [written] = config.mail.outbox.iterdir()
    assert b"Message-ID: <dead@example.org>" in written.read_bytes()


def test_the_heap_is_left_alone_during_a_build_or_send_and_given_back_after() -> None:
    import gc

    from briefing.processes import heap_left_alone

    assert gc.get_freeze_count() == 0
    with heap_left_alone():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with heap_left_alone():  # nested: nothing more frozen, nothing given back early
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
        made_inside = [[]]
        made_inside[0].append(made_inside)  # a cycle made inside is collected as usual
        del made_inside
        assert gc.collect() >= 1
    assert gc.get_freeze_count() == 0
