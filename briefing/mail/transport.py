"""Hand messages over: to an SMTP server (STARTTLS or TLS), or as .eml files to an outbox."""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from briefing.config import MailConfig, SmtpConfig
from briefing.errors import MailError
from briefing.files import atomic_write
from briefing.mail.mailing import FlatMessage
from briefing.network import is_loopback

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to one recipient, with its envelope."""

    day: date
    sender: str  # envelope sender (bounces go there)
    recipient: str
    message_id: str
    message: EmailMessage | FlatMessage  # FlatMessage: already the bytes to send


class TransientFailure(MailError):
    """Worth trying again later; scope says whether the server or one recipient failed."""

    def __init__(self, message: str, *, scope: str = "connection") -> None:
        super().__init__(message)
        self.scope = scope  # connection | recipient


class PermanentRefusal(MailError):
    """The server refused this message or recipient for good (an SMTP 5xx)."""


class TransportSetupError(MailError):
    """Sending cannot work as configured (login refused, TLS failed); fix the config."""


class Transport(Protocol):
    """What delivery needs from a way of sending mail."""

    def send(self, outgoing: Outgoing) -> None:
        """Hand the message over, or raise TransientFailure, PermanentRefusal or setup errors."""

    def accepted(self, outgoing: Outgoing) -> bool | None:
        """Tell whether this message was already handed over; None when it cannot know."""

    def close(self) -> None:
        """Release connections."""


def recipient_slug(address: str) -> str:
    """Turn an address into a safe file-name part: desk@example.org -> desk-at-example.org."""
    slug = re.sub(r"[^a-z0-9.-]+", "-", address.lower().replace("@", "-at-"))
    return slug.strip(".-")[:80] or "recipient"


class OutboxTransport:
    """Write each message as an .eml file: the default when no SMTP server is configured."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, outgoing: Outgoing) -> Path:
        """Name the file by day, recipient and Message-ID, so a resend finds its own file."""
        digest = hashlib.sha256(outgoing.message_id.encode()).hexdigest()[:10]
        name = f"{outgoing.day.isoformat()}_{recipient_slug(outgoing.recipient)}_{digest}.eml"
        return self.folder / name

    def send(self, outgoing: Outgoing) -> None:
        """Write the message atomically: a reader never sees half a file."""
        target = self.path_for(outgoing)
        data = outgoing.message.as_bytes(policy=policy.SMTP)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
        except OSError as exc:
            raise TransportSetupError(f"cannot write to the outbox {self.folder}: {exc}") from exc
        log.info("wrote %s", target)

    def accepted(self, outgoing: Outgoing) -> bool:
        """Tell exactly: the file exists only once it was completely written."""
        return self.path_for(outgoing).is_file()

    def close(self) -> None:
        """Nothing to release."""


class _Smtp(smtplib.SMTP):
    """smtplib's SMTP with its dot-stuffing done by bytes.replace instead of a regex.

    smtplib stuffs with re.sub(rb"(?m)^\\.", ...), which tests every position: 8 ms for a
    briefing with its PDF (800 KB), as long as the rest of a message's sending. A line
    starts after each b"\\n", so replacing b"\\n." and a leading b"." is the same edit.
    """

    data_started = False  # set once DATA is sent: from then on the message may arrive

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        """Send the message after DATA (bytes as they are; str goes to smtplib's own)."""
        self.data_started = True
        if not isinstance(msg, bytes):
            return super().data(msg)
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        stuffed = msg.replace(b"\n.", b"\n..")
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
        self.send(stuffed)
        self.send(b".\r\n" if stuffed.endswith(b"\r\n") else b"\r\n.\r\n")
        return self.getreply()


class _SmtpTls(_Smtp, smtplib.SMTP_SSL):
    """The same over implicit TLS."""


class SmtpTransport:
    """Send through an SMTP server, reusing one connection for a run."""

    def __init__(
        self,
        settings: SmtpConfig,
        *,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.password = settings.password() if password is None else password
        self.ssl_context = ssl_context
        self._connection: _Smtp | None = None
        if settings.username and not self.password:
            raise TransportSetupError(
                f"mail.smtp.username is set but ${settings.password_env} is empty or unset"
            )
        if settings.username and settings.security == "none" and not is_loopback(settings.host):
            raise TransportSetupError(
                "mail.smtp: refusing to send the password unencrypted; "
                'use security = "starttls" or "tls"'
            )

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _connect(self) -> _Smtp:
        settings = self.settings
        connection: _Smtp
        if settings.security == "tls":
            connection = _SmtpTls(
                settings.host, settings.port, timeout=settings.timeout, context=self._context()
            )
        else:
            connection = _Smtp(settings.host, settings.port, timeout=settings.timeout)
        try:
            connection.ehlo()
            if settings.security == "starttls":
                connection.starttls(context=self._context())
                connection.ehlo()
            if settings.username:
                connection.login(settings.username, self.password)
        except BaseException:
            connection.close()
            raise
        return connection

    def _hand_over(self, outgoing: Outgoing) -> None:
        """Send on the kept connection, or on a new one when the kept one was closed.

        No NOOP before each message (a round trip each): a connection the server closed
        meanwhile (idle, or at its limit of messages per connection) fails before DATA,
        when nothing of the message has gone out, and the message goes on a new one.
        """
        kept = self._connection
        try:
            self._send_on(kept or self._new_connection(), outgoing)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if kept is None or kept.data_started:
                raise
            log.info("%s closed the connection; opening a new one", self._where())
            self._drop()
            self._send_on(self._new_connection(), outgoing)

    def _new_connection(self) -> _Smtp:
        self._connection = self._connect()
        return self._connection

    def _send_on(self, connection: _Smtp, outgoing: Outgoing) -> None:
        connection.data_started = False
        if isinstance(outgoing.message, FlatMessage):  # ASCII addresses: no SMTPUTF8
            connection.sendmail(outgoing.sender, [outgoing.recipient], outgoing.message.data)
        else:
            connection.send_message(
                outgoing.message, from_addr=outgoing.sender, to_addrs=[outgoing.recipient]
            )

    def send(self, outgoing: Outgoing) -> None:
        """Send one message to its one recipient, translating failures by what they mean."""
        try:
            self._hand_over(outgoing)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, text, f"recipient {outgoing.recipient} refused") from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error, "message refused") from exc
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            why = _reply(exc.smtp_code, exc.smtp_error)
            user = self.settings.username
            raise TransportSetupError(f"SMTP login refused for {user!r}: {why}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            self._drop()
            raise TransportSetupError(f"{self._where()}: {exc}") from exc
        except ssl.SSLError as exc:
            self._drop()
            if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError | ssl.SSLSyscallError):
                raise TransientFailure(f"{self._where()}: TLS connection cut: {exc}") from exc
            # A rejected certificate or a TLS/plain mismatch will not fix itself by retrying.
            raise TransportSetupError(f"{self._where()}: TLS failed: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            if exc.smtp_code >= 500:
                raise TransportSetupError(
                    f"{self._where()}: {_reply(exc.smtp_code, exc.smtp_error)}"
                ) from exc
            raise TransientFailure(
                f"{self._where()}: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except OSError as exc:  # refused, timed out, disconnected (SMTPException is an OSError)
            self._drop()
            raise TransientFailure(f"{self._where()}: {exc or type(exc).__name__}") from exc

    def accepted(self, outgoing: Outgoing) -> None:
        """SMTP cannot say whether an interrupted message was accepted."""
        return None

    def _where(self) -> str:
        return f"SMTP {self.settings.host}:{self.settings.port}"

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def close(self) -> None:
        """Say goodbye to the server."""
        self._drop()


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}"


def _by_code(code: int, text: bytes | str, what: str) -> MailError:
    detail = f"{what}: {_reply(code, text)}"
    if code >= 500:
        return PermanentRefusal(detail)
    return TransientFailure(detail, scope="recipient")


def make_transport(mail: MailConfig, *, ssl_context: ssl.SSLContext | None = None) -> Transport:
    """Return the SMTP transport when [mail.smtp] is set, else the outbox."""
    if mail.smtp is None:
        return OutboxTransport(mail.outbox)
    return SmtpTransport(mail.smtp, ssl_context=ssl_context)
