"""The edition under review: a draft before the send, approval, and the gate at send time.

With `[review] enabled`, the day's edition is built first as a draft into
`archive/drafts/YYYY/MM/DD/` (outside the public archive: not listed, not in the feed) and
the editors are told. Approving copies the draft, exactly as the editor last saw it, into
the archive. At the daily time: an approved edition goes out; an unreviewed one goes out
as built (`unreviewed = "send"`, the editors are told) or waits (`"hold"`) until a late
approval sends it at once. Each path sends through `send_briefing`, whose deliveries
record keeps it exactly once per subscriber; the run lock keeps approval and the daily job
from crossing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from briefing.addresses import parse_sender
from briefing.briefs.compose import Briefing
from briefing.config import Config
from briefing.errors import BriefingError, DeskError
from briefing.mail.alerts import build_alert
from briefing.mail.transport import Transport, make_transport
from briefing.output.archive import ArchivePaths, paths_for, read_briefing, write_briefing
from briefing.output.render import render_html, render_pdf_within
from briefing.stages.build import compose_day
from briefing.store.engine import Store
from briefing.store.models import BriefingRecord, Delivery, Edition, utcnow

log = logging.getLogger(__name__)
DRAFTS = "drafts"


def draft_paths(config: Config, day: date) -> ArchivePaths:
    """Return where day's draft lives (beside the archive's days, never listed with them)."""
    return paths_for(Path(config.archive.dir) / DRAFTS, day)


def desk_url(config: Config, day: date | None = None) -> str:
    """Return the desk's address for day (from `[web] base_url`, else the local default)."""
    base = config.web.base_url or "http://127.0.0.1:8080"
    return f"{base}/desk/" + (f"{day.isoformat()}/" if day else "")


def upcoming_day(config: Config, now: datetime | None = None) -> date:
    """Return the day of the next edition due after now (what a draft made now is for)."""
    local = (now or utcnow()).astimezone(config.tz)
    due = config.briefing_due(local.date())
    return local.date() if due > local else local.date() + timedelta(days=1)


def edition(store: Store, day: date) -> Edition | None:
    """Return day's edition under review, or None."""
    with store.session() as session:
        return session.get(Edition, day)


def save_edition(store: Store, day: date, **values: Any) -> None:
    def work(session: Any) -> None:
        row = session.get(Edition, day) or Edition(day=day, article_ids=[], story_ids=[])
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        session.add(row)

    store.run(work)


def closed_reason(store: Store, day: date, row: Edition | None) -> str | None:
    """Say why day's edition can no longer change (it went out), or None while it can."""
    with store.session() as session:
        sent = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.day == day, Delivery.status == "sent")
        )
    if row is not None and row.status == "unreviewed":
        return f"the edition of {day} went out unreviewed; corrections apply from the next one"
    if sent:
        return f"the edition of {day} has been sent; corrections apply from the next one"
    return None


def review_gate(store: Store, config: Config, day: date, now: datetime) -> str | None:
    """Say why day's briefing must not be sent now (review), or None when it may be."""
    if not config.review.enabled:
        return None
    row = edition(store, day)
    if row is not None and row.status in ("approved", "unreviewed"):
        return None
    where = f"approve it at {desk_url(config, day)} or with `briefing approve --date {day}`"
    if config.review.unreviewed == "hold":
        return f"the edition of {day} is held for review: {where}"
    due = config.briefing_due(day)
    if now < due:
        local = due.astimezone(config.tz)
        return f"the edition of {day} awaits review until {local:%H:%M %Z}: {where}"
    return None


@dataclass(frozen=True, slots=True)
class Draft:
    day: date
    paths: ArchivePaths
    briefing: Briefing


def build_draft(store: Store, config: Config, day: date, now: datetime | None = None) -> Draft:
    """Compose day's edition with every correction, render it, and file it as the draft."""
    current = edition(store, day)
    closed = closed_reason(store, day, current)
    if closed:
        raise DeskError(closed)
    briefing, article_ids = compose_day(store, config, day, now)
    drafts = Path(config.archive.dir) / DRAFTS
    pdf, why = render_pdf_within(briefing, config.briefing.pdf_time_limit_seconds)
    if pdf is None:
        log.warning("no PDF for the draft of %s: %s", day, why)
    paths = write_briefing(drafts, briefing, render_html(briefing), pdf)
    story_ids = [s.id for s in (*briefing.stories, *briefing.also_noted)]
    # A correction after approval withdraws it: what goes out is what was approved last.
    status = "held" if current is not None and current.status == "held" else "draft"
    save_edition(store, day, status=status, drafted_at=utcnow(), article_ids=article_ids,
                  story_ids=story_ids, approved_by=None, approved_at=None)  # fmt: skip
    log.info("drafted the edition of %s: %d stories", day, len(story_ids))
    return Draft(day, paths, briefing)


def load_draft(config: Config, day: date) -> Briefing:
    """Read day's draft back, or raise DeskError saying how to make one."""
    path = draft_paths(config, day).json
    if not path.is_file():
        raise DeskError(f"no draft for {day}: `briefing run --draft` or the daemon makes one")
    return read_briefing(path)


def tell_editors(
    store: Store, config: Config, day: date, subject: str, body: str,
    transport: Transport | None = None,
) -> int:  # fmt: skip
    """Mail every editor a short note; return how many were told (failures are logged)."""
    if not config.editors:
        return 0
    sender, told = parse_sender(config.mail.sender), 0
    courier = transport or make_transport(config.mail)
    try:
        for editor in config.editors:
            try:
                courier.send(build_alert(sender, editor.email, subject, body, day))
                told += 1
            except BriefingError as exc:
                log.error("could not tell %s about the edition of %s: %s", editor.email, day, exc)
    finally:
        if transport is None:
            courier.close()
    return told


def make_draft(
    config: Config, day: date | None = None, *, now: datetime | None = None,
    transport: Transport | None = None,
) -> Draft:  # fmt: skip
    """Group new articles, build the draft of the next edition, and tell the editors."""
    from briefing.stages.group import group_pending

    store = Store(config.store.url)
    day = day or upcoming_day(config, now)
    group_pending(store, config, now=now)
    draft = build_draft(store, config, day, now)
    due = config.briefing_due(day).astimezone(config.tz)
    what = "it goes out as it is" if config.review.unreviewed == "send" else "nothing is sent"
    body = (
        f"The draft of {config.briefing.title} for {day} is ready: "
        f"{len(draft.briefing.stories)} stories, {len(draft.briefing.also_noted)} also noted.\n\n"
        f"Review, correct and approve it at the desk:\n{desk_url(config, day)}\n\n"
        f"Send time: {due:%H:%M %Z}. Without approval by then, {what}.\n"
    )
    if tell_editors(store, config, day, f"Draft ready: {config.briefing.title}, {day}", body,
                    transport):  # fmt: skip
        save_edition(store, day, notified_at=utcnow())
    return draft


def publish_draft(store: Store, config: Config, day: date) -> None:
    """Copy the draft, exactly as last seen, into the public archive and record it."""
    paths = draft_paths(config, day)
    briefing = read_briefing(paths.json)
    html = paths.html.read_text(encoding="utf-8")
    published = write_briefing(Path(config.archive.dir), briefing, html, paths.pdf.read_bytes())
    row = edition(store, day)

    def work(session: Any) -> None:
        record_row = session.get(BriefingRecord, day) or BriefingRecord(day=day)
        record_row.title = briefing.title
        record_row.html_path, record_row.pdf_path = str(published.html), str(published.pdf)
        record_row.json_path, record_row.built_at = str(published.json), utcnow()
        record_row.story_ids = list(row.story_ids) if row else []
        record_row.article_ids = list(row.article_ids) if row else []
        session.add(record_row)

    store.run(work)


def open_day(store: Store, config: Config, now: datetime | None = None) -> date:
    """Return the edition an editor most likely means: the newest open draft, else the next."""
    with store.session() as session:
        newest = session.scalar(
            select(Edition.day)
            .where(Edition.status.in_(("draft", "held")))
            .order_by(Edition.day.desc())
            .limit(1)
        )
    return newest or upcoming_day(config, now)


def refresh_draft(store: Store, config: Config, day: date) -> Draft | None:
    """Rebuild day's draft after a correction, when it has one and is still open."""
    if not draft_paths(config, day).json.is_file():
        return None
    if closed_reason(store, day, edition(store, day)):
        return None
    return build_draft(store, config, day)
