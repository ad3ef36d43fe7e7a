"""Who receives the briefing: subscribers from the config, and those added to the store."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from briefing.addresses import NAME_CHARS, AddressError, header_text, parse_address
from briefing.config import Config
from briefing.errors import MailError
from briefing.mail.message import Recipient
from briefing.store.engine import Store
from briefing.store.models import Subscriber

log = logging.getLogger(__name__)


def active_recipients(store: Store, config: Config) -> tuple[list[Recipient], dict[str, str]]:
    """Return subscribers (config first, then the store) and the config's invalid addresses."""
    found: dict[str, Recipient] = {}
    invalid: dict[str, str] = {}
    for entry in config.subscribers:
        try:
            email = parse_address(entry.email)
        except AddressError as exc:
            log.error("[[subscribers]] skipped: %s", exc)
            invalid[entry.email] = str(exc)
            continue
        recipient = Recipient(email, entry.name, tuple(entry.topics), entry.attach_pdf, "config")
        found.setdefault(email.casefold(), recipient)
    with store.session() as session:
        rows = session.scalars(select(Subscriber).filter_by(active=True).order_by(Subscriber.id))
        for row in rows:
            recipient = Recipient(row.email, row.name, tuple(row.topics), row.attach_pdf)
            found.setdefault(row.email.casefold(), recipient)
    return list(found.values()), invalid


def _config_entry(config: Config, email: str) -> bool:
    return any(entry.email.strip().casefold() == email.casefold() for entry in config.subscribers)


def _known_topics(config: Config, topics: list[str] | tuple[str, ...]) -> list[str]:
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
) -> tuple[Recipient, bool]:
    """Subscribe email (or update and reactivate it); return it and whether it is new."""
    address = parse_address(email)
    chosen = _known_topics(config, topics)
    clean_name = header_text(name, NAME_CHARS)
    if _config_entry(config, address):
        raise MailError(f"{address} is declared in the config's [[subscribers]]; change it there")

    def work(session: Session) -> bool:
        rows = session.scalars(select(Subscriber)).all()
        row = next((r for r in rows if r.email.casefold() == address.casefold()), None)
        if row is None:
            session.add(
                Subscriber(
                    email=address,
                    name=clean_name,
                    topics=chosen,
                    attach_pdf=attach_pdf,
                    active=True,
                )
            )
            return True
        row.name, row.topics, row.attach_pdf, row.active = clean_name, chosen, attach_pdf, True
        return False

    created = store.run(work)
    return Recipient(address, clean_name, tuple(chosen), attach_pdf), created


def remove_subscriber(store: Store, config: Config, email: str) -> str:
    """Unsubscribe email (kept, inactive, so past deliveries still name it); return it."""
    address = parse_address(email)

    def work(session: Session) -> bool:
        rows = session.scalars(select(Subscriber).filter_by(active=True)).all()
        matches = [row for row in rows if row.email.casefold() == address.casefold()]
        for row in matches:
            row.active = False
        return bool(matches)

    if not store.run(work):
        if _config_entry(config, address):
            raise MailError(
                f"{address} is declared in the config's [[subscribers]]; remove it there"
            )
        raise MailError(f"{address} is not subscribed")
    return address
