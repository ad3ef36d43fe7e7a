"""Who receives the briefing: subscribers from the config, and those added to the store."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from briefing.addresses import NAME_CHARS, AddressError, header_text, parse_address
from briefing.config import Config, language_codes
from briefing.errors import MailError
from briefing.mail.message import Recipient
from briefing.store.engine import Store
from briefing.store.models import Subscriber, SubscriptionEvent, utcnow

log = logging.getLogger(__name__)


def record_event(
    session: Session, email: str, action: str, via: str, **detail: object
) -> SubscriptionEvent:
    """Add one change to the subscriptions' log (in the caller's transaction)."""
    event = SubscriptionEvent(email=email, action=action, via=via, detail=detail, at=utcnow())
    session.add(event)
    return event


def opted_out(session: Session) -> set[str]:
    """Return the config subscribers (casefolded) who unsubscribed through their link."""
    query = select(Subscriber.email).filter_by(managed_by="config", active=False)
    return {email.casefold() for email in session.scalars(query)}


def active_recipients(store: Store, config: Config) -> tuple[list[Recipient], dict[str, str]]:
    """Return subscribers (config first, then the store) and the config's invalid addresses."""
    found: dict[str, Recipient] = {}
    invalid: dict[str, str] = {}
    with store.session() as session:
        left = opted_out(session)
        query = select(Subscriber).filter_by(active=True, managed_by="store")
        rows = list(session.scalars(query.order_by(Subscriber.id)))
    for entry in config.subscribers:
        try:
            email = parse_address(entry.email)
        except AddressError as exc:
            log.error("[[subscribers]] skipped: %s", exc)
            invalid[entry.email] = str(exc)
            continue
        if email.casefold() in left:
            continue  # unsubscribed with their one-click link: the config cannot override it
        recipient = Recipient(
            email,
            entry.name,
            tuple(entry.topics),
            entry.attach_pdf,
            "config",
            languages=tuple(entry.languages),
        )
        found.setdefault(email.casefold(), recipient)
    for row in rows:
        recipient = Recipient(
            row.email,
            row.name,
            tuple(row.topics),
            row.attach_pdf,
            languages=tuple(row.languages or ()),
        )
        found.setdefault(row.email.casefold(), recipient)
    return list(found.values()), invalid


def find_subscriber(session: Session, address: str) -> Subscriber | None:
    """Return the store's row for an address, whatever its case, or None."""
    query = select(Subscriber).where(func.lower(Subscriber.email) == address.lower())
    wanted = address.casefold()
    return next((row for row in session.scalars(query) if row.email.casefold() == wanted), None)


def config_entry(config: Config, email: str) -> bool:
    return any(entry.email.strip().casefold() == email.casefold() for entry in config.subscribers)


def known_topics(config: Config, topics: list[str] | tuple[str, ...]) -> list[str]:
    known = {topic.name.casefold(): topic.name for topic in config.topics}
    unknown = [topic for topic in topics if topic.casefold() not in known]
    if unknown:
        names = ", ".join(repr(name) for name in known.values()) or "none configured"
        raise MailError(f"unknown topic {unknown[0]!r} (topics in the config: {names})")
    return list(dict.fromkeys(known[topic.casefold()] for topic in topics))


def add_subscriber(
    store: Store,
    config: Config,
    email: str,
    *,
    name: str = "",
    topics: list[str] | tuple[str, ...] = (),
    attach_pdf: bool | None = None,
    languages: list[str] | tuple[str, ...] = (),
) -> tuple[Recipient, bool]:
    """Subscribe email (or update and reactivate it); return it and whether it is new.

    languages: ISO 639-1 codes of the stories they get (none: every language).
    """
    address = parse_address(email)
    chosen = known_topics(config, topics)
    try:
        spoken = language_codes(list(languages))
    except ValueError as exc:
        raise MailError(f"--language: {exc}") from None
    clean_name = header_text(name, NAME_CHARS)
    if config_entry(config, address):
        raise MailError(f"{address} is declared in the config's [[subscribers]]; change it there")

    def work(session: Session) -> bool:
        row = find_subscriber(session, address)
        settings = {"topics": chosen, "attach_pdf": attach_pdf, "languages": spoken}
        if row is None:
            session.add(
                Subscriber(
                    email=address,
                    name=clean_name,
                    topics=chosen,
                    languages=spoken,
                    attach_pdf=attach_pdf,
                    active=True,
                    updated_at=utcnow(),
                )
            )
            record_event(session, address, "added", "cli", **settings)
            return True
        if not row.active:
            row.epoch += 1  # back again: links from before the unsubscribe stay dead
        row.name, row.topics, row.attach_pdf, row.active = clean_name, chosen, attach_pdf, True
        row.languages = spoken
        row.managed_by, row.updated_at = "store", utcnow()
        record_event(session, address, "added", "cli", **settings)
        return False

    created = store.run(work)
    recipient = Recipient(address, clean_name, tuple(chosen), attach_pdf, languages=tuple(spoken))
    return recipient, created


def remove_subscriber(store: Store, config: Config, email: str) -> str:
    """Unsubscribe email (kept, inactive, so past deliveries still name it); return it."""
    address = parse_address(email)

    def work(session: Session) -> bool:
        row = find_subscriber(session, address)
        if row is None or not row.active or row.managed_by != "store":
            return False
        row.active, row.updated_at = False, utcnow()
        record_event(session, row.email, "removed", "cli")
        return True

    if not store.run(work):
        if config_entry(config, address):
            raise MailError(
                f"{address} is declared in the config's [[subscribers]]; remove it there"
            )
        raise MailError(f"{address} is not subscribed")
    return address


def subscription_log(store: Store, email: str | None = None) -> list[SubscriptionEvent]:
    """Return the subscriptions' changes (of one address, or all), oldest first."""
    query = select(SubscriptionEvent).order_by(SubscriptionEvent.at, SubscriptionEvent.id)
    if email is not None:
        query = query.where(func.lower(SubscriptionEvent.email) == email.strip().lower())
    with store.session() as session:
        return list(session.scalars(query))


def left_by_link(store: Store, config: Config) -> list[str]:
    """Return the config's subscribers who unsubscribed with their link (not sent to)."""
    with store.session() as session:
        left = opted_out(session)
    return [entry.email for entry in config.subscribers if entry.email.strip().casefold() in left]
