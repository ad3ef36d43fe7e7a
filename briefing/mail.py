"""Build the briefing email: addresses checked, headers clean, text + HTML + PDF."""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup

from briefing.config import Config
from briefing.links import safe_href
from briefing.models import BriefingRecord
from briefing.store import Store
from briefing.templating import template_environment

if TYPE_CHECKING:  # compose pulls in scikit-learn; the subscriber commands need none of it
    from briefing.compose import Briefing, StoryBrief

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
TEXT_TEMPLATE = "mail.txt.j2"
HTML_TEMPLATE = "mail.html.j2"
SUBJECT_LABEL_CHARS = 110
NAME_CHARS = 120
# Dot-atom local part only: quoted local parts are legal but a typo far more often than not.
LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
DOMAIN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# Characters that could end a header line or hide text: controls, bidi and line separators.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
# RFC 5322 specials: a display name holding them must stay quoted, which folding may undo.
SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


class MailError(Exception):
    """Mail cannot be built or sent as asked; the message says why."""


class AddressError(MailError, ValueError):
    """An email address that is not a plain, deliverable name@domain."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to, and what they asked for."""

    email: str
    name: str = ""
    topics: tuple[str, ...] = ()
    attach_pdf: bool | None = None
    origin: str = "store"  # config | store


def parse_address(text: str) -> str:
    """Return text as a normalised address (domain lowercased), or raise AddressError."""
    value = text.strip() if isinstance(text, str) else ""
    if not value:
        raise AddressError("an email address is required")
    if any(unicodedata.category(char) in HIDDEN_CATEGORIES or char.isspace() for char in value):
        raise AddressError(
            f"{value!r} is not a valid email address: it contains spaces or controls"
        )
    if value.count("@") != 1:
        raise AddressError(f"{value!r} is not a valid email address: expected one '@'")
    local, domain = value.split("@")
    if not LOCAL_PART.match(local) or len(local) > 64:
        raise AddressError(f"{value!r} is not a valid email address: bad part before '@'")
    domain = _ascii_domain(value, domain.rstrip(".").lower())
    address = f"{local}@{domain}"
    if len(address) > 254:
        raise AddressError(f"{value!r} is not a valid email address: longer than 254 characters")
    return str(Address(addr_spec=address).addr_spec)


def _ascii_domain(value: str, domain: str) -> str:
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressError(f"{value!r} is not a valid email address: bad domain") from None
    labels = ascii_domain.split(".")
    if not all(DOMAIN_LABEL.match(label) for label in labels):
        raise AddressError(f"{value!r} is not a valid email address: bad domain {domain!r}")
    if len(labels) < 2 and ascii_domain != "localhost":
        raise AddressError(
            f"{value!r} is not a valid email address: the domain needs a dot (name@example.org)"
        )
    return ascii_domain


def parse_sender(text: str) -> Address:
    """Parse [mail] sender ('Name <addr>' or 'addr') into a checked Address."""
    problem = f"mail.sender: {text!r} is not 'Name <address>' or an address"
    if any(char in text for char in "\r\n"):
        raise MailError(problem)
    header = HeaderRegistry()("from", text)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if len(addresses) != 1 or header.defects:
        raise MailError(problem)
    parsed = addresses[0]
    try:
        checked = parse_address(parsed.addr_spec)
    except AddressError as exc:
        raise MailError(f"mail.sender: {exc}") from None
    return named_address(parsed.display_name, checked)


def header_text(value: object, limit: int = 200) -> str:
    """Make value safe for a header: no line breaks or controls, one line, at most limit."""
    text = "".join(
        " " if unicodedata.category(char) in HIDDEN_CATEGORIES else char for char in str(value)
    )
    # "=?utf-8?q?=0D=0A...?=" is an RFC 2047 encoded word: readers would decode it into
    # a line break, and Python re-emits a decoded display name raw (a header injection).
    text = " ".join(text.replace("=?", "= ?").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def named_address(name: object, addr_spec: str) -> Address:
    """Return the mailbox with a display name that survives folding, else a plainer one.

    CPython 3.11 drops the quotes around a long display name with specials when it folds
    the header, so readers would see another address; such a name loses its specials.
    """
    clean = header_text(name, NAME_CHARS)
    plain = " ".join(SPECIALS.sub(" ", clean).split())
    for display in dict.fromkeys((clean, plain, "")):
        address = Address(display_name=display, addr_spec=addr_spec)
        if _survives_folding(address):
            return address
    raise AddressError(f"{addr_spec!r} cannot be written in a header")


def _survives_folding(address: Address) -> bool:
    probe = EmailMessage(policy=policy.SMTP)
    probe["To"] = address
    try:
        found = BytesHeaderParser(policy=policy.default).parsebytes(probe.as_bytes())
        addresses = found["To"].addresses
    except (ValueError, AttributeError, IndexError):
        return False
    return len(found) == 1 and [a.addr_spec for a in addresses] == [address.addr_spec]


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
    lead = (top.headline or top.label) if top else "nothing new in this window"
    more = len(briefing.stories) + len(briefing.also_noted) - 1
    label = header_text(lead, SUBJECT_LABEL_CHARS) + (f" (+{more} more)" if more > 0 else "")
    day = briefing.day
    subject = f"{header_text(briefing.title, 80)}, {day.day} {day:%B %Y}: {label}"
    return f"[test] {subject}" if test else subject


def render_bodies(
    briefing: Briefing, *, topics: tuple[str, ...], attached: bool, env: Environment
) -> tuple[str, str]:
    """Render the text and HTML bodies for one view of the briefing."""
    view = for_topics(briefing, topics)
    context = {"b": view, "topics": topics, "full": briefing, "attached": attached}
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
) -> EmailMessage:
    """Build the email for one recipient; pdf is attached when given."""
    env = env or make_mail_environment()
    text, html = render_bodies(briefing, topics=recipient.topics, attached=pdf is not None, env=env)
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


def _archived(path: str, config: Config) -> Path:
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    for base in (config.base_dir, config.archive.dir):
        if (base / candidate).exists():
            return base / candidate
    return config.base_dir / candidate


def load_issue(store: Store, config: Config, day: date) -> Issue:
    """Load day's built briefing from the archive, or raise MailError saying how to build it."""
    from briefing.compose import Briefing  # late: compose pulls in scikit-learn

    with store.session() as session:
        record = session.get(BriefingRecord, day)
    folder = config.archive.dir / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    json_path, pdf_path = folder / "briefing.json", folder / "briefing.pdf"
    if record is not None:
        json_path, pdf_path = (
            _archived(record.json_path, config),
            _archived(record.pdf_path, config),
        )
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MailError(
            f"no briefing built for {day} ({json_path} is missing); "
            f"build it with `briefing build --date {day}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise MailError(f"cannot read the briefing for {day} from {json_path}: {exc}") from None
    try:
        return Issue(Briefing.from_dict(data), pdf_path)
    except (KeyError, TypeError, ValueError) as exc:
        raise MailError(f"{json_path} is not a briefing this version can read: {exc!r}") from None
