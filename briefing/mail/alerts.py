"""Plain-text notes to the operator (`[mail] admin`): a source went quiet, a source recovered."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from briefing.addresses import header_text
from briefing.mail.transport import Outgoing


def build_alert(sender: Address, to: str, subject: str, body: str, day: date) -> Outgoing:
    """Return a plain-text alert from sender to the admin address, ready for a transport."""
    message = EmailMessage(policy=policy.SMTP)
    message_id = make_msgid(domain=sender.domain or "localhost")
    message["From"] = sender
    message["To"] = to
    message["Subject"] = header_text(subject, 200)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(body)
    return Outgoing(day=day, sender=sender.addr_spec, recipient=to, message_id=message_id,
                    message=message)  # fmt: skip
