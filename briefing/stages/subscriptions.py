"""Subscriptions that run themselves: subscribe (double opt-in), manage, one-click unsubscribe.

Every action comes with a signed token (briefing.stages.tokens) and acts on the one
subscriber the token names; every change is written to the subscription_events log in the
same transaction. Subscribers from the config keep their topics in the config; the store
holds a row for each of them only so that their links have an id and their unsubscribe
is honoured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from briefing.addresses import parse_address, parse_sender
from briefing.config import Config, language_codes
from briefing.errors import MailError
from briefing.mail.message import MailLinks, Recipient, new_message_id
from briefing.mail.notices import build_confirmation
from briefing.mail.transport import Outgoing, Transport, make_transport
from briefing.nlp.language_codes import language_code
from briefing.stages.subscribers import config_entry, find_subscriber, known_topics, record_event
from briefing.stages.tokens import LinkSigner, link_signer
from briefing.store.engine import Store
from briefing.store.models import Article, Subscriber, SubscriptionEvent, utcnow

log = logging.getLogger(__name__)
Outcome = Literal["done", "unchanged", "invalid"]
Clock = Callable[[], datetime]
REQUEST_INTERVAL = timedelta(minutes=10)  # at most one confirmation mail per address so often
REQUESTS_PER_HOUR = 100  # and so many in all: the form cannot be used to flood inboxes


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """What the manage page shows for the holder of a valid token."""

    email: str
    topics: tuple[str, ...]
    attach_pdf: bool | None
    managed_by: str  # store | config
    active: bool
    unsubscribe_token: str
    languages: tuple[str, ...] = ()  # ISO 639-1 codes; (): every language


def edition_url(config: Config, day: date) -> str | None:
    """Return the web address of day's briefing, or None without [web] base_url."""
    base = config.web.base_url
    return f"{base}{day:%Y/%m/%d}/briefing.html" if base else None


def _links(config: Config, signer: LinkSigner, row: Subscriber, edition: str | None) -> MailLinks:
    base = config.web.base_url
    unsubscribe = signer.subscriber_token("unsubscribe", row.id, row.epoch)
    manage = signer.subscriber_token("manage", row.id, row.epoch)
    return MailLinks(edition, f"{base}unsubscribe/{unsubscribe}", f"{base}manage/{manage}")


def subscriber_links(
    store: Store, config: Config, recipients: Sequence[Recipient], day: date
) -> dict[str, MailLinks]:
    """Return each recipient's links (by address); empty without [web] base_url."""
    if not config.web.base_url:
        return {}
    signer = link_signer(store, config)
    edition = edition_url(config, day)

    def work(session: Session) -> dict[str, MailLinks]:
        rows = {row.email.casefold(): row for row in session.scalars(select(Subscriber))}
        for recipient in recipients:
            row = rows.get(recipient.email.casefold())
            if recipient.origin == "config" and row is None:
                row = Subscriber(email=recipient.email, managed_by="config", active=True, epoch=0)
                session.add(row)
                rows[recipient.email.casefold()] = row
            elif recipient.origin == "config" and row is not None:
                row.managed_by = "config"  # the config took this address over
        session.flush()  # new rows get their ids
        found = ((r.email, rows.get(r.email.casefold())) for r in recipients)
        return {email: _links(config, signer, row, edition) for email, row in found if row}

    return store.run(work)


def _subscriber(
    session: Session, signer: LinkSigner, purpose: str, token: str
) -> Subscriber | None:
    """Return the subscriber a valid token names, or None (forged, altered or stale)."""
    found = signer.read_subscriber(purpose, token)
    if found is None:
        return None
    row = session.get(Subscriber, found[0])
    return row if row is not None and row.epoch == found[1] else None


def unsubscribe(store: Store, config: Config, token: str, *, via: str = "web") -> Outcome:
    """Unsubscribe the one subscriber the token names; a second time changes nothing."""
    signer = link_signer(store, config)

    def work(session: Session) -> Outcome:
        row = _subscriber(session, signer, "unsubscribe", token)
        if row is None:
            return "invalid"
        if not row.active:
            return "unchanged"
        row.active, row.updated_at = False, utcnow()
        record_event(session, row.email, "unsubscribed", via, managed_by=row.managed_by)
        return "done"

    outcome = store.run(work)
    log.info("unsubscribe (%s): %s", via, outcome)
    return outcome


def _config_topics(config: Config, email: str) -> tuple[tuple[str, ...], bool | None]:
    for entry in config.subscribers:
        if entry.email.strip().casefold() == email.casefold():
            return tuple(entry.topics), entry.attach_pdf
    return (), None


def _config_languages(config: Config, email: str) -> tuple[str, ...]:
    for entry in config.subscribers:
        if entry.email.strip().casefold() == email.casefold():
            return tuple(entry.languages)
    return ()


def offered_languages(store: Store, config: Config) -> list[str]:
    """Return the languages a subscriber may choose: [briefing] languages, else those stored."""
    if config.briefing.languages:
        return list(config.briefing.languages)
    with store.session() as session:
        stored = session.scalars(select(Article.language).distinct())
        return sorted({language_code(code) for code in stored})


def view_subscription(store: Store, config: Config, token: str) -> SubscriptionView | None:
    """Return what the manage page shows for a valid manage token, or None."""
    signer = link_signer(store, config)

    def work(session: Session) -> SubscriptionView | None:
        row = _subscriber(session, signer, "manage", token)
        if row is None:
            return None
        topics, pdf = tuple(row.topics or ()), row.attach_pdf
        languages = tuple(row.languages or ())
        if row.managed_by == "config":
            topics, pdf = _config_topics(config, row.email)
            languages = _config_languages(config, row.email)
        leave = signer.subscriber_token("unsubscribe", row.id, row.epoch)
        return SubscriptionView(
            row.email, topics, pdf, row.managed_by, row.active, leave, languages
        )

    return store.run(work)


def change_subscription(
    store: Store,
    config: Config,
    token: str,
    topics: Sequence[str],
    attach_pdf: bool | None,
    languages: Sequence[str] | None = None,
) -> Outcome:
    """Set the topics, PDF choice and languages (None: as they were) of a manage token's holder."""
    signer = link_signer(store, config)
    chosen = known_topics(config, list(topics))
    spoken = None if languages is None else language_codes(list(languages))

    def work(session: Session) -> Outcome:
        row = _subscriber(session, signer, "manage", token)
        if row is None or row.managed_by != "store" or not row.active:
            return "invalid"
        before = {"topics": list(row.topics or []), "attach_pdf": row.attach_pdf}
        after = {"topics": chosen, "attach_pdf": attach_pdf}
        if spoken is not None:
            before["languages"], after["languages"] = list(row.languages or []), spoken
            row.languages = spoken
        if before == after:
            return "unchanged"
        row.topics, row.attach_pdf, row.updated_at = chosen, attach_pdf, utcnow()
        record_event(session, row.email, "changed", "web", before=before, after=after)
        return "done"

    return store.run(work)


def _recent_requests(session: Session, email: str, now: datetime) -> tuple[bool, int]:
    requested = select(SubscriptionEvent.email).where(
        SubscriptionEvent.action == "requested",
        SubscriptionEvent.at >= now - timedelta(hours=1),
    )
    emails = list(session.scalars(requested))
    same = select(func.max(SubscriptionEvent.at)).where(
        SubscriptionEvent.action == "requested",
        func.lower(SubscriptionEvent.email) == email.lower(),
    )
    last = session.scalar(same)
    return last is not None and now - last < REQUEST_INTERVAL, len(emails)


def request_subscription(
    store: Store,
    config: Config,
    email: str,
    topics: Sequence[str] = (),
    attach_pdf: bool | None = None,
    *,
    transport: Transport | None = None,
    clock: Clock = utcnow,
) -> bool:
    """Mail a confirmation link to email; return False when one was sent too recently."""
    if not config.web.base_url:
        raise MailError("subscribing needs [web] base_url (the public address of the app)")
    address = parse_address(email)
    chosen = known_topics(config, list(topics))
    now = clock()

    def check(session: Session) -> tuple[bool, int]:
        recent, in_hour = _recent_requests(session, address, now)
        row = find_subscriber(session, address)
        return recent or in_hour >= REQUESTS_PER_HOUR, row.epoch if row else 0

    too_soon, epoch = store.run(check)
    if too_soon:
        log.info("confirmation mail not sent again so soon")
        return False
    request = {"e": address, "t": chosen, "p": attach_pdf, "n": epoch}
    token = link_signer(store, config).confirm_token(request)
    url = f"{config.web.base_url}subscribe/confirm/{token}"
    _send_confirmation(config, address, url, chosen, transport, now)
    store.run(lambda session: record_event(session, address, "requested", "web", topics=chosen))
    return True


def _send_confirmation(
    config: Config,
    address: str,
    url: str,
    topics: list[str],
    transport: Transport | None,
    now: datetime,
) -> None:
    sender = parse_sender(config.mail.sender)
    message_id = new_message_id(sender)
    managed = config_entry(config, address)
    message = build_confirmation(
        config.briefing.title, address, url, topics, managed, sender=sender,
        message_id=message_id, now=now,
    )  # fmt: skip
    courier = transport or make_transport(config.mail)
    try:
        day = now.astimezone(config.tz).date()
        courier.send(Outgoing(day, sender.addr_spec, address, message_id, message))
    finally:
        if transport is None:
            courier.close()


def confirm_subscription(store: Store, config: Config, token: str) -> tuple[Outcome, str | None]:
    """Subscribe the address a confirmation token carries; each token works once."""
    request = link_signer(store, config).read_confirm(token)
    if request is None or not isinstance(request.get("e"), str):
        return "invalid", None
    address = request["e"]
    known = {topic.name.casefold(): topic.name for topic in config.topics}
    chosen = [known[t.casefold()] for t in request.get("t") or [] if t.casefold() in known]
    pdf = request.get("p") if isinstance(request.get("p"), bool) else None
    managed = "config" if config_entry(config, address) else "store"

    def work(session: Session) -> Outcome:
        row = find_subscriber(session, address)
        if (row.epoch if row else 0) != request.get("n"):
            return "unchanged"  # used already, or overtaken by a later confirmation
        if row is None:
            row = Subscriber(email=address, name="", topics=[], epoch=0)
            session.add(row)
        settings: dict[str, Any] = {"managed_by": managed}
        if managed == "store":
            row.topics, row.attach_pdf = chosen, pdf
            settings.update(topics=chosen, attach_pdf=pdf)
        row.managed_by, row.active, row.epoch = managed, True, row.epoch + 1
        row.updated_at = utcnow()
        record_event(session, address, "confirmed", "web", **settings)
        return "done"

    return store.run(work), address
