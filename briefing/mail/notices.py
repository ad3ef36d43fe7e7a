"""The mails a subscription sends besides the briefing: the double-opt-in confirmation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from jinja2 import Environment

from briefing.addresses import header_text
from briefing.mail.message import make_mail_environment

CONFIRM_TEXT = "confirm.txt.j2"
CONFIRM_HTML = "confirm.html.j2"


def build_confirmation(
    title: str,
    address: str,
    url: str,
    topics: Sequence[str],
    managed_by_config: bool,
    *,
    sender: Address,
    message_id: str,
    now: datetime,
    env: Environment | None = None,
) -> EmailMessage:
    """Build the mail that asks an address to confirm its subscription (one link)."""
    env = env or make_mail_environment()
    context = {
        "title": title,
        "url": url,
        "topics": list(topics),
        "managed": managed_by_config,
        "signature": "-- ",
    }
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = f"Confirm your subscription to {header_text(title, 80)}"
    message["From"] = sender
    message["To"] = address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    text = env.get_template(CONFIRM_TEXT).render(context)
    html = env.get_template(CONFIRM_HTML).render(context)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message
