"""Approve an edition, and decide at the daily time what goes out (see stages/review.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from briefing.config import Config
from briefing.errors import DeskError
from briefing.mail.transport import Transport
from briefing.stages.decisions import record
from briefing.stages.review import (
    build_draft,
    closed_reason,
    desk_url,
    draft_paths,
    edition,
    publish_draft,
    save_edition,
    tell_editors,
)
from briefing.store.engine import Store
from briefing.store.locking import RUN_LOCK, store_lock
from briefing.store.models import utcnow

log = logging.getLogger(__name__)
APPROVE_WAIT = 5.0  # seconds an approval waits for a daily run in progress


@dataclass(slots=True)
class Approval:
    """What approving did: who approved, and the delivery report when it sent at once."""

    day: date
    editor: str
    sent_now: bool
    delivery: Any = None


def approve(
    store: Store, config: Config, day: date, editor: str, *, send_now: bool = False,
    now: datetime | None = None, transport: Transport | None = None,
    wait: float | None = APPROVE_WAIT,
) -> Approval:  # fmt: skip
    """Approve day's draft: publish it as the edition; send it now when asked or late."""
    from briefing.stages.send import send_briefing

    now = now or utcnow()
    # The daily job holds this lock while it decides and sends: approval never crosses it.
    with store_lock(config.store.url, RUN_LOCK).held(timeout=wait):
        row = edition(store, day)
        closed = closed_reason(store, day, row)
        if closed:
            raise DeskError(closed)
        if row is None or not draft_paths(config, day).json.is_file():
            raise DeskError(f"no draft for {day} to approve: `briefing run --draft` makes one")
        publish_draft(store, config, day)
        save_edition(store, day, status="approved", approved_by=editor, approved_at=now)
        store.run(lambda s: record(s, "approve", editor, day=day, value={"send_now": send_now},
                                   now=now))  # fmt: skip
        late = now >= config.briefing_due(day)
        result = Approval(day, editor, send_now or late)
        if result.sent_now:
            result.delivery = send_briefing(store, config, day, transport=transport)
    log.info("%s approved the edition of %s%s", editor, day, " and sent it" if late else "")
    return result


@dataclass(slots=True)
class SendTime:
    """What the daily time decided: which edition went out, and the delivery report."""

    day: date
    decision: str  # approved | unreviewed | held
    build: Any = None
    delivery: Any = None


def at_send_time(
    store: Store, config: Config, day: date, *, now: datetime | None = None, send: bool = True,
    transport: Transport | None = None,
) -> SendTime:  # fmt: skip
    """At the daily time: send the approved edition, or the unreviewed one, or hold it."""
    from briefing.stages.build import build_day
    from briefing.stages.send import send_briefing

    row = edition(store, day)
    status = row.status if row is not None else "draft"
    result = SendTime(day, status if status in ("approved", "unreviewed") else "")
    if not result.decision and config.review.unreviewed == "send":
        result.build = build_day(store, config, day, now=now)
        save_edition(store, day, status="unreviewed")
        result.decision = "unreviewed"
        tell_editors(store, config, day, f"Sent unreviewed: {config.briefing.title}, {day}",
                     f"Nobody approved the edition of {day} by the send time, so it went out "
                     "as built. Corrections made at the desk apply from the next edition.\n",
                     transport)  # fmt: skip
    elif not result.decision:
        result.decision = "held"
        if status != "held":
            if row is None:
                build_draft(store, config, day, now)
            save_edition(store, day, status="held")
            tell_editors(store, config, day, f"Held for review: {config.briefing.title}, {day}",
                         f"The edition of {day} is held: nothing is sent until an editor "
                         f"approves it, and then it goes out at once.\n{desk_url(config, day)}\n",
                         transport)  # fmt: skip
        return result
    if send:
        result.delivery = send_briefing(store, config, day, transport=transport)
    return result
