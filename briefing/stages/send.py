"""Send each day's briefing to every subscriber exactly once, recording every attempt.

A deliveries row per (day, recipient) goes pending -> sending -> sent | failed. The row is
marked `sending`, with a Message-ID chosen before the first attempt, and committed before
the message is handed over; it is marked `sent` once the transport returns, in the same
transaction that claims the next row (one commit per message), so before the next message
is handed over, and at the latest when the run pauses or ends.
A row left in `sending` therefore means the run stopped while the message was in flight.
On resume (once the row's lease has run out, so a run still working is not disturbed):
- the outbox can tell exactly whether its file was written, so nothing is written twice;
- SMTP cannot tell: the message is sent again with the same Message-ID, so that a
  receiver can recognise the copy (some, Gmail among them, show one message per
  Message-ID), unless resend_interrupted is False, in which case the row is marked
  failed for a person to decide. A second copy can only happen when the process dies
  between the server's final "250" and our commit, or that reply is lost on the network
  (then the retry goes out with the same Message-ID too). SMTP has no way to close that
  window entirely (RFC 1047); it is a few milliseconds per message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Update, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from briefing.addresses import parse_address, parse_sender
from briefing.config import Config
from briefing.errors import ArchiveError, MailError
from briefing.mail.mailing import Mailing
from briefing.mail.message import (
    Issue,
    MailLinks,
    Recipient,
    build_message,
    new_message_id,
    shared_mail_environment,
)
from briefing.mail.transport import (
    Outgoing,
    PermanentRefusal,
    TransientFailure,
    Transport,
    TransportSetupError,
    make_transport,
)
from briefing.output.archive import paths_for, read_briefing
from briefing.processes import (
    STOPPING,
    gone,
    heap_left_alone,
    pause,
    process_tag,
    stopping_at_safe_points,
)
from briefing.stages.review import review_gate
from briefing.stages.subscribers import active_recipients
from briefing.stages.subscriptions import edition_url, subscriber_links
from briefing.store.engine import Store
from briefing.store.models import BriefingRecord, Delivery, utcnow

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
UNSUBSCRIBED = "unsubscribed before it was sent"
NO_PDF = "The PDF edition could not be made in time for this briefing; this email holds all of it."


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many rounds to try in one run, and how long to wait between them."""

    attempts: int = 3
    first_delay: float = 2.0
    factor: float = 4.0

    def delay(self, round_number: int) -> float:
        """Return the wait after the given round (1-based): 2 s, then 8 s, ..."""
        return self.first_delay * self.factor ** (round_number - 1)


@dataclass
class DeliveryReport:
    """What one `send` did: addresses by outcome, with the reason where one is known."""

    day: date
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    in_progress: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # invalid addresses in the config
    aborted: str | None = None

    @property
    def complete(self) -> bool:
        """Tell whether every subscriber now has the briefing."""
        return not (self.failed or self.pending or self.in_progress or self.aborted)


# What a claim decides from: a row's state (read for all rows at once, or for one).
_RowState = Row[*tuple[Any, ...]]
_ROW_COLUMNS = (
    Delivery.id,
    Delivery.status,
    Delivery.attempts,
    Delivery.message_id,
    Delivery.updated_at,
    Delivery.last_error,
    Delivery.claimed_by,
)


@dataclass(frozen=True, slots=True)
class _Claim:
    row_id: int
    message_id: str
    attempts: int
    interrupted: bool


def today(config: Config, clock: Clock = utcnow) -> date:
    """Return today's date where the briefing is read (the configured time zone)."""
    return clock().astimezone(config.tz).date()


def _archived(path: str, config: Config) -> Path:
    """Resolve a path recorded for a briefing (relative to the config's folder or archive)."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    for base in (config.base_dir, config.archive.dir):
        if (base / candidate).exists():
            return base / candidate
    return config.base_dir / candidate


def load_issue(store: Store, config: Config, day: date) -> Issue:
    """Load day's built briefing from the archive, or raise MailError saying how to build it."""
    with store.session() as session:
        record = session.get(BriefingRecord, day)
    paths = paths_for(config.archive.dir, day)
    json_path, pdf_path = paths.json, paths.pdf
    if record is not None:
        json_path = _archived(record.json_path, config)
        pdf_path = _archived(record.pdf_path, config)
    if not json_path.is_file():
        raise MailError(
            f"no briefing built for {day} ({json_path} is missing); "
            f"build it with `briefing build --date {day}`"
        )
    try:
        return Issue(read_briefing(json_path), pdf_path)
    except ArchiveError as exc:
        raise MailError(f"cannot send the briefing for {day}: {exc}") from None


def pdf_given_up(store: Store, day: date) -> bool:
    """Tell whether day's build gave up its PDF (too slow): mail then goes without it."""
    with store.session() as session:
        record = session.get(BriefingRecord, day)
    return record is not None and record.pdf_path == ""


@heap_left_alone()
def send_briefing(
    store: Store,
    config: Config,
    day: date | None = None,
    *,
    transport: Transport | None = None,
    sleep: Callable[[float], None] = pause,
    clock: Clock = utcnow,
    retry: RetryPolicy = RetryPolicy(),
    retry_failed: bool = False,
    resend_interrupted: bool = True,
    lease: timedelta = timedelta(minutes=10),
) -> DeliveryReport:
    """Send day's briefing (default today) to every subscriber who does not have it yet."""
    day = day or today(config, clock)
    held = review_gate(store, config, day, clock())  # [review]: unapproved editions wait
    if held:
        raise MailError(held)
    issue = load_issue(store, config, day)
    recipients, invalid = active_recipients(store, config)
    no_pdf = pdf_given_up(store, day)
    wanted = (config.mail.attach_pdf if r.attach_pdf is None else r.attach_pdf for r in recipients)
    pdf = None
    if any(wanted) and not no_pdf:
        pdf = issue.pdf()  # a missing PDF stops the run here, before any row is claimed
    run = _Run(store, config, issue, transport or make_transport(config.mail), sleep, clock)
    run.resend_interrupted, run.lease = resend_interrupted, lease
    # Every message is made from one Mailing: views rendered once, the PDF encoded once.
    run.mailing = Mailing(
        issue.briefing,
        sender=run.sender,
        env=run.env,
        pdf=pdf,
        pdf_note=NO_PDF if no_pdf else None,
    )
    run.links = subscriber_links(store, config, recipients, day)  # signed, per subscriber
    run.report.skipped.update(invalid)
    _plan(store, day, recipients, clock(), retry_failed=retry_failed)
    try:
        with stopping_at_safe_points():
            run.rounds(recipients, retry)
    finally:
        if transport is None:
            run.transport.close()
    return run.report


def plan_deliveries(store: Store, config: Config, day: date, clock: Clock = utcnow) -> int:
    """Record a pending delivery per subscriber before the day's run builds anything.

    A run killed while grouping or building then leaves pending rows, so a restart knows
    the day's briefing is owed; return how many subscribers there are.
    """
    recipients, _invalid = active_recipients(store, config)
    _plan(store, day, recipients, clock(), retry_failed=False)
    return len(recipients)


def send_test(
    store: Store,
    config: Config,
    address: str,
    day: date | None = None,
    *,
    transport: Transport | None = None,
    clock: Clock = utcnow,
) -> str:
    """Send day's briefing to one address as a test, leaving deliveries untouched."""
    recipient = Recipient(email=parse_address(address))
    day = day or today(config, clock)
    issue = load_issue(store, config, day)
    sender = parse_sender(config.mail.sender)
    message_id = new_message_id(sender)
    no_pdf = config.mail.attach_pdf and pdf_given_up(store, day)
    pdf = issue.pdf() if config.mail.attach_pdf and not no_pdf else None
    message = build_message(
        issue.briefing,
        recipient,
        sender=sender,
        message_id=message_id,
        now=clock(),
        pdf=pdf,
        links=MailLinks(edition=edition_url(config, day)),
        test=True,
        pdf_note=NO_PDF if no_pdf else None,
    )
    courier = transport or make_transport(config.mail)
    try:
        courier.send(Outgoing(day, sender.addr_spec, recipient.email, message_id, message))
    finally:
        if transport is None:
            courier.close()
    return message_id


def list_deliveries(store: Store, day: date | None = None) -> list[Delivery]:
    """Return deliveries (of one day, or all), newest day first."""
    query = select(Delivery).order_by(Delivery.day.desc(), Delivery.recipient)
    if day is not None:
        query = query.where(Delivery.day == day)
    with store.session() as session:
        return list(session.scalars(query))


def _plan(
    store: Store, day: date, recipients: list[Recipient], now: datetime, *, retry_failed: bool
) -> None:
    """Make sure each recipient has a row for the day; close rows of former subscribers."""
    wanted = {recipient.email for recipient in recipients}

    def work(session: Session) -> None:
        rows = {row.recipient: row for row in session.scalars(select(Delivery).filter_by(day=day))}
        for email in wanted - rows.keys():
            session.add(Delivery(day=day, recipient=email, status="pending", updated_at=now))
        for email, row in rows.items():
            reopen = retry_failed or row.last_error == UNSUBSCRIBED  # back again the same day
            if email in wanted and row.status == "failed" and reopen:
                row.status, row.updated_at = "pending", now
            elif email not in wanted and row.status == "pending":
                row.status, row.updated_at, row.last_error = "failed", now, UNSUBSCRIBED

    try:
        store.run(work)
    except IntegrityError:  # a concurrent run inserted the same rows first; take theirs
        store.run(work)


class _Run:
    """One `send`: claims rows, hands messages over, records what happened."""

    def __init__(
        self,
        store: Store,
        config: Config,
        issue: Issue,
        transport: Transport,
        sleep: Callable[[float], None],
        clock: Clock,
    ) -> None:
        self.store, self.config, self.issue, self.transport = store, config, issue, transport
        self.sleep, self.clock = sleep, clock
        self.resend_interrupted, self.lease = True, timedelta(minutes=10)
        self.sender: Address = parse_sender(config.mail.sender)
        self.env = shared_mail_environment()  # compiled once a process (see build)
        self.mailing = Mailing(issue.briefing, sender=self.sender, env=self.env)
        self.report = DeliveryReport(issue.briefing.day)
        self.attempted: set[str] = set()
        self.links: dict[str, MailLinks] = {}
        # The outcome of the message just handed over, not yet written: the next claim
        # writes it in its own transaction (one commit per message instead of two). Either
        # way it is committed before the next message is handed over, and at the latest
        # when the run ends or pauses, so the crash windows are those of two commits.
        self._outcome: tuple[_Claim, str, str | None, datetime] | None = None
        self._known: dict[str, _RowState] = {}  # rows as a round began (see _claim)

    def rounds(self, recipients: list[Recipient], retry: RetryPolicy) -> None:
        """Try everyone, then retry only the transient failures, waiting longer each round."""
        try:
            self._rounds(recipients, retry)
        finally:
            self._write_outcome()

    def _rounds(self, recipients: list[Recipient], retry: RetryPolicy) -> None:
        queue, down = recipients, ""
        for round_number in range(1, max(retry.attempts, 1) + 1):
            self._read_rows()
            later: list[Recipient] = []
            down = ""
            for index, recipient in enumerate(queue):
                if STOPPING.is_set():  # between two messages: nothing is left half-sent
                    self.report.aborted = "the process was asked to stop"
                    self._leave_pending(queue[index:], "the process was asked to stop")
                    return
                try:
                    outcome = self.attempt(recipient)
                except TransportSetupError as exc:
                    self.report.aborted = str(exc)
                    self._leave_pending(queue[index:], str(exc))
                    return
                if outcome.startswith("down:"):  # the server is unreachable: stop the round
                    down = outcome.removeprefix("down:")
                    later.extend(queue[index:])
                    break
                if outcome == "retry":
                    later.append(recipient)
            queue = later
            if not queue or round_number >= retry.attempts:
                break
            log.info("%d deliveries to retry in %.0f s", len(queue), retry.delay(round_number))
            self._write_outcome()  # nothing waits unrecorded through the pause
            self.sleep(retry.delay(round_number))
        self._leave_pending(queue, down)

    def attempt(self, recipient: Recipient) -> str:
        """Try one delivery once; return sent, done, retry or down:<reason>."""
        claim = self._claim(recipient.email)
        if claim is None:
            return "done"
        self.attempted.add(recipient.email)
        try:
            outgoing = self._outgoing(recipient, claim)
        except Exception as exc:  # nothing was handed over: the row must not stay `sending`
            self._finish(claim, "pending", f"cannot build the message: {exc}")
            raise
        note = None
        if claim.interrupted:
            settled, note = self._settle_interrupted(claim, outgoing)
            if settled:
                return "done"
        try:
            self.transport.send(outgoing)
        except PermanentRefusal as exc:
            return self._record(claim, recipient, "failed", str(exc))
        except TransientFailure as exc:
            self._record(claim, recipient, "pending", str(exc))
            return f"down:{exc}" if exc.scope == "connection" else "retry"
        except TransportSetupError as exc:
            self._finish(claim, "pending", str(exc))
            raise
        return self._record(claim, recipient, "sent", note)

    def _record(self, claim: _Claim, recipient: Recipient, status: str, note: str | None) -> str:
        self._outcome = (claim, status, note, self.clock())  # written with the next claim
        email, report = recipient.email, self.report
        report.pending.pop(email, None)
        if status == "sent":
            report.sent.append(email)
        elif status == "failed":
            report.failed[email] = note or "refused"
        else:
            report.pending[email] = note or "not sent"
        return status

    def _settle_interrupted(self, claim: _Claim, outgoing: Outgoing) -> tuple[bool, str | None]:
        """Decide what to do with a message an earlier run left in flight."""
        accepted = self.transport.accepted(outgoing)
        recipient = Recipient(outgoing.recipient)
        if accepted:
            self._record(claim, recipient, "sent", "found handed over after an interrupted run")
            return True, None
        if accepted is None and not self.resend_interrupted:
            reason = "interrupted while sending; it may or may not have arrived"
            self._record(claim, recipient, "failed", reason)
            return True, None
        log.warning("resending to %s after an interrupted run, same Message-ID", recipient.email)
        return False, "resent after an interrupted run, with the same Message-ID"

    def _outgoing(self, recipient: Recipient, claim: _Claim) -> Outgoing:
        attach = recipient.attach_pdf
        attach = self.config.mail.attach_pdf if attach is None else attach
        message = self.mailing.message(
            recipient,
            message_id=claim.message_id,
            now=self.clock(),
            links=self.links.get(recipient.email),
            attach=attach,
        )
        day, sender = self.issue.briefing.day, self.sender.addr_spec
        return Outgoing(day, sender, recipient.email, claim.message_id, message)

    def _read_rows(self) -> None:
        """Read the state of every row of the day at once (a round's first claims use it)."""
        query = select(*_ROW_COLUMNS, Delivery.recipient).filter_by(day=self.issue.briefing.day)
        with self.store.session() as session:
            self._known = {row.recipient: row for row in session.execute(query)}

    def _decide(self, row: _RowState, now: datetime) -> tuple[str, Update | None, _Claim | None]:
        """Decide from a row's state: (state, None, None), or a claim and its statement."""
        if row.status in ("sent", "failed"):
            return f"{row.status}:{row.last_error or 'refused'}", None, None
        interrupted = row.status == "sending"
        if interrupted and now - row.updated_at < self.lease and not gone(row.claimed_by):
            return "busy", None, None
        message_id = row.message_id or new_message_id(self.sender)
        guard = (Delivery.status == row.status, Delivery.attempts == row.attempts)
        statement = (
            update(Delivery)
            .where(Delivery.id == row.id, *guard)
            .values(status="sending", message_id=message_id, attempts=row.attempts + 1)
            .values(updated_at=now, claimed_by=process_tag())
        )
        return "claimed", statement, _Claim(row.id, message_id, row.attempts + 1, interrupted)

    def _claim(self, email: str) -> _Claim | None:
        """Mark the row `sending` (compare-and-set), or return None when it is not ours.

        The first try decides from the round's reading of every row (_read_rows), saving a
        query per message; unless its compare-and-set succeeds, which means the row is still
        as read, the row is read again and the decision made afresh, as it always was.
        """
        day = self.issue.briefing.day
        known = self._known.pop(email, None)

        def work(session: Session) -> tuple[str, _Claim | None]:
            # Core statements on the session's connection: the ORM adds nothing here but time.
            connection = session.connection()
            if self._outcome is not None:  # the previous message's, in the same transaction
                connection.execute(self._finish_statement(*self._outcome))
            now = self.clock()
            if known is not None:
                state, statement, claim = self._decide(known, now)
                if statement is not None and connection.execute(statement).rowcount == 1:
                    return state, claim
            query = select(*_ROW_COLUMNS).filter_by(day=day, recipient=email)
            state, statement, claim = self._decide(connection.execute(query).one(), now)
            if statement is None:
                return state, None
            if connection.execute(statement).rowcount != 1:
                return "busy", None  # another run took it between our read and our write
            return state, claim

        try:
            state, claim = self.store.run(work)
        except Exception:
            self._write_outcome()  # on its own, as it was before it shared a transaction
            raise
        self._outcome = None
        if state.startswith("sent:"):
            self.report.already_sent.append(email)
        elif state.startswith("failed:"):  # refused in an earlier run: still worth saying
            self.report.failed[email] = f"{state.removeprefix('failed:')} (earlier run)"
        elif state == "busy":
            self.report.in_progress.append(email)
        return claim

    def _finish(self, claim: _Claim, status: str, error: str | None) -> None:
        """Record an outcome at once (after errors; _record leaves it to the next claim)."""
        self._write_outcome()
        statement = self._finish_statement(claim, status, error, self.clock())
        self.store.run(lambda session: session.connection().execute(statement))

    def _write_outcome(self) -> None:
        """Record the last message's outcome if no claim has carried it yet."""
        if self._outcome is not None:
            statement = self._finish_statement(*self._outcome)
            self.store.run(lambda session: session.connection().execute(statement))
            self._outcome = None

    @staticmethod
    def _finish_statement(claim: _Claim, status: str, error: str | None, now: datetime) -> Update:
        values = {"status": status, "last_error": error, "updated_at": now}
        if status == "sent":
            values["sent_at"] = now
        return (
            update(Delivery)
            .where(Delivery.id == claim.row_id, Delivery.status == "sending")
            .where(Delivery.attempts == claim.attempts)  # guarded: still our claim
            .values(**values)
        )

    def _leave_pending(self, recipients: list[Recipient], reason: str) -> None:
        """Note why the rest were not sent in this run; their rows stay pending."""
        for recipient in recipients:
            self.report.pending.setdefault(recipient.email, reason or "not attempted")
        untried = [r.email for r in recipients if r.email not in self.attempted]
        if not untried or not reason:
            return
        statement = (
            update(Delivery)
            .where(Delivery.day == self.issue.briefing.day, Delivery.recipient.in_(untried))
            .where(Delivery.status == "pending")
            .values(last_error=f"not attempted: {reason}", updated_at=self.clock())
        )
        self.store.run(lambda session: session.execute(statement))
