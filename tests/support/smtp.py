"""A real SMTP server on loopback (aiosmtpd) that records what it accepts."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    connection: int = 0  # which connection carried it (counted from 1 by the server)

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it accepts and refuses chosen recipients."""

    refuse: set[str] = field(default_factory=set)  # answered 550 at RCPT
    defer: set[str] = field(default_factory=set)  # answered 451 at RCPT
    received: list[Received] = field(default_factory=list)
    connections: dict[int, int] = field(default_factory=dict)  # id(session) -> number

    async def handle_HELO(self, server, session, envelope, hostname):  # type: ignore[no-untyped-def]
        self._count(session)
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        self._count(session)
        session.host_name = hostname
        return responses

    def _count(self, session) -> int:  # type: ignore[no-untyped-def]
        # One session per connection: the first greeting numbers it.
        return self.connections.setdefault(id(session), len(self.connections) + 1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        if address in self.defer:
            return "451 4.3.0 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                self._count(session),
            )
        )
        return "250 2.0.0 accepted"

    def to(self, address: str) -> list[Received]:
        return [item for item in self.received if address in item.rcpt_tos]


class LoopbackController(Controller):
    """aiosmtpd's Controller, bound to a free port chosen by the kernel (port 0)."""

    def _trigger_server(self) -> None:
        # The stock controller connects to self.port to check the server; learn the real one.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()


@contextmanager
def smtp_server() -> Iterator[tuple[Recorder, LoopbackController]]:
    """Run a recording SMTP server on a free loopback port for the block."""
    recorder = Recorder()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield recorder, controller
    finally:
        controller.stop()
