"""Build the briefing email: addresses checked, headers clean, text + HTML + PDF."""

from __future__ import annotations

import dataclasses
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup

from briefing.addresses import (
    header_text,
    named_address,
)
from briefing.errors import MailError
from briefing.output.links import safe_href
from briefing.output.templating import template_environment
from briefing.resources import templates_dir

if TYPE_CHECKING:  # compose pulls in scikit-learn; the subscriber commands need none of it
    from briefing.briefs.compose import Briefing, StoryBrief

TEMPLATES_DIR = templates_dir()
TEXT_TEMPLATE = "mail.txt.j2"
HTML_TEMPLATE = "mail.html.j2"
SUBJECT_LABEL_CHARS = 110


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to, and what they asked for."""

    email: str
    name: str = ""
    topics: tuple[str, ...] = ()
    attach_pdf: bool | None = None
    origin: str = "store"  # config | store


def mailbox(recipient: Recipient) -> Address:
    """Return the To mailbox, its display name cleaned of anything header-breaking."""
    return named_address(recipient.name, recipient.email)


def new_message_id(sender: Address) -> str:
    """Make a unique Message-ID in the sender's domain."""
    return make_msgid(idstring="briefing", domain=sender.domain)


def _printable(value: Any) -> Any:
    """Drop control characters (but not newlines) from every value a template prints."""
    if isinstance(value, str) and not isinstance(value, Markup):  # Markup: our own macros
        return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) != "Cc")
    return value


def _wrap(text: str, width: int = 76, indent: str = "") -> str:
    return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent)


def make_mail_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Build the mail templates' environment: autoescaped HTML, strict, controls dropped."""
    env = template_environment(templates_dir, finalize=_printable)
    env.filters["wrap"] = _wrap
    env.filters["line"] = lambda value: " ".join(str(value).split())
    return env


def _wanted(story: StoryBrief, topics: set[str]) -> bool:
    return any(topic.casefold() in topics for topic in story.topics)


def for_topics(briefing: Briefing, topics: tuple[str, ...]) -> Briefing:
    """Keep only the stories on the given topics (all of them when topics is empty)."""
    if not topics:
        return briefing
    wanted = {topic.casefold() for topic in topics}
    sections = []
    for section in briefing.sections:
        if section.kind == "topic" and section.title.casefold() in wanted:
            sections.append(section)
        elif section.kind != "topic":
            kept = tuple(story for story in section.stories if _wanted(story, wanted))
            if kept:
                sections.append(dataclasses.replace(section, stories=kept))
    anchors = {story.anchor for section in sections for story in section.stories}
    return dataclasses.replace(
        briefing,
        sections=tuple(sections),
        at_a_glance=tuple(line for line in briefing.at_a_glance if line.anchor in anchors),
        also_noted=tuple(story for story in briefing.also_noted if _wanted(story, wanted)),
    )


def subject_for(briefing: Briefing, *, test: bool = False) -> str:
    """Write the subject: title, date and the top story."""
    top = next(iter(briefing.stories), None) or next(iter(briefing.also_noted), None)
    lead = top.label if top else "nothing new in this window"
    more = len(briefing.stories) + len(briefing.also_noted) - 1
    label = header_text(lead, SUBJECT_LABEL_CHARS) + (f" (+{more} more)" if more > 0 else "")
    day = briefing.day
    subject = f"{header_text(briefing.title, 80)}, {day.day} {day:%B %Y}: {label}"
    return f"[test] {subject}" if test else subject


def render_bodies(
    briefing: Briefing,
    *,
    topics: tuple[str, ...],
    attached: bool,
    env: Environment,
    pdf_note: str | None = None,
) -> tuple[str, str]:
    """Render the text and HTML bodies for one view of the briefing."""
    view = for_topics(briefing, topics)
    context = {"b": view, "topics": topics, "full": briefing, "attached": attached}
    context["pdf_note"] = pdf_note  # why a PDF the reader asked for is missing, if it is
    text = env.get_template(TEXT_TEMPLATE).render(context)
    html = env.get_template(HTML_TEMPLATE).render(context)
    return text, html


def build_message(
    briefing: Briefing,
    recipient: Recipient,
    *,
    sender: Address,
    message_id: str,
    now: datetime,
    pdf: bytes | None = None,
    env: Environment | None = None,
    unsubscribe_url: str | None = None,
    test: bool = False,
    pdf_note: str | None = None,
) -> EmailMessage:
    """Build the email for one recipient; pdf is attached when given (else pdf_note says why)."""
    env = env or make_mail_environment()
    attached = pdf is not None
    text, html = render_bodies(
        briefing, topics=recipient.topics, attached=attached, env=env, pdf_note=pdf_note
    )
    # policy.SMTP refuses CR/LF in any header value: a second line of defence after header_text.
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject_for(for_topics(briefing, recipient.topics), test=test)
    message["From"] = sender
    message["To"] = mailbox(recipient)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    _unsubscribe_headers(message, sender, unsubscribe_url)
    # Quoted-printable keeps the .eml files (and the raw message) readable, unlike base64.
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if pdf is not None:
        filename = f"briefing-{briefing.day.isoformat()}.pdf"
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return message


def _unsubscribe_headers(message: EmailMessage, sender: Address, url: str | None) -> None:
    links = [f"<mailto:{sender.addr_spec}?subject=unsubscribe>"]
    https = safe_href(url) if url else None
    if https and https.lower().startswith("https://"):
        links.insert(0, f"<{https}>")
        # RFC 8058: one-click unsubscribe is only defined for an HTTPS URI.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Unsubscribe"] = ", ".join(links)


@dataclass
class Issue:
    """A built briefing as mail sends it: the archived JSON, and the PDF read on demand."""

    briefing: Briefing
    pdf_path: Path
    _pdf: bytes | None = dataclasses.field(default=None, repr=False)

    def pdf(self) -> bytes:
        """Return the PDF's bytes (read once), or raise MailError when it is missing."""
        if self._pdf is None:
            try:
                self._pdf = self.pdf_path.read_bytes()
            except OSError as exc:
                raise MailError(
                    f"the briefing's PDF cannot be read ({exc.strerror}: {self.pdf_path}); "
                    f"rebuild it with `briefing build --date {self.briefing.day}`"
                ) from None
        return self._pdf
