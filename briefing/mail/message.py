"""Build the briefing email: addresses checked, headers clean, text + HTML + PDF."""

from __future__ import annotations

import dataclasses
import functools
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
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
from briefing.mail.fit import Fit, fit_html
from briefing.output.links import safe_href
from briefing.output.templating import long_date, template_environment
from briefing.resources import templates_dir

if TYPE_CHECKING:  # compose pulls in scikit-learn; the subscriber commands need none of it
    from briefing.briefs.compose import Briefing, StoryBrief

TEMPLATES_DIR = templates_dir()
TEXT_TEMPLATE = "mail.txt.j2"
HTML_TEMPLATE = "mail.html.j2"
SUBJECT_LABEL_CHARS = 110
PREHEADER_CHARS = 140
# After the preheader: invisible characters that keep clients from pulling body text into
# the preview (zero-width non-joiner + no-break space, the usual pair).
PREHEADER_FILLER = "\u200c\u00a0" * 60
TEXT_WIDTH = 74
NAME_OPEN, NAME_CLOSE = "\u2060\u2063", "\u2063\u2060"  # invisible marks, never sent
_HELD = re.compile(f"{NAME_OPEN}(.*?){NAME_CLOSE}", re.S)
# Unicode's control characters (category Cc) but for tab and newline: what _printable drops.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HEADER_LINE = 78  # policy.SMTP's max_line_length: longer header lines are folded


@dataclass(frozen=True, slots=True)
class MailLinks:
    """Where one recipient's message may point: the web edition and their own links."""

    edition: str | None = None  # this briefing on the web
    unsubscribe: str | None = None  # one click (POST), or a page with one button (GET)
    manage: str | None = None  # change topics or the PDF

    def story(self, anchor: str) -> str | None:
        """Return the web address of one story of the edition, or None without one."""
        return f"{self.edition}#{anchor}" if self.edition else None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to, and what they asked for."""

    email: str
    name: str = ""
    topics: tuple[str, ...] = ()
    attach_pdf: bool | None = None
    origin: str = "store"  # config | store
    languages: tuple[str, ...] = ()  # ISO 639-1 codes of the stories they get; (): all


def mailbox(recipient: Recipient) -> Address:
    """Return the To mailbox, its display name cleaned of anything header-breaking."""
    return named_address(recipient.name, recipient.email)


def new_message_id(sender: Address) -> str:
    """Make a unique Message-ID in the sender's domain."""
    return make_msgid(idstring="briefing", domain=sender.domain)


def _printable(value: Any) -> Any:
    """Drop control characters (but not newlines) from every value a template prints."""
    if isinstance(value, str) and not isinstance(value, Markup):  # Markup: our own macros
        return _CONTROLS.sub("", value)
    return value


def wrap_text(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str = "") -> str:
    """Wrap plain text at width, never splitting a hyphenated name, a URL or a held phrase.

    Words are only broken at spaces; a URL or word longer than the line stays whole. Text
    between the NAME_OPEN and NAME_CLOSE marks (names) keeps its spaces on one line.
    """
    held = _HELD.sub(lambda match: match[1].replace(" ", "\u00a0"), " ".join(text.split()))
    wrapped = textwrap.fill(
        held,
        width,
        initial_indent=first or indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return wrapped.replace("\u00a0", " ")


def hold(value: Any) -> str:
    """Mark a name so that wrap_text keeps it on one line."""
    return f"{NAME_OPEN}{value}{NAME_CLOSE}"


def make_mail_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Build the mail templates' environment: autoescaped HTML, strict, controls dropped."""
    env = template_environment(templates_dir, finalize=_printable)
    env.filters["wrap"] = wrap_text
    env.filters["hold"] = hold
    env.filters["line"] = lambda value: " ".join(str(value).split())
    env.filters["headline"] = headline_of
    return env


@functools.cache
def shared_mail_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Return this process's mail environment: templates compiled once, again when edited."""
    return make_mail_environment(templates_dir)


def compile_mail_templates(templates_dir: Path = TEMPLATES_DIR) -> None:
    """Compile the mail's templates ahead of the send (the build does while the PDF is made)."""
    env = shared_mail_environment(templates_dir)
    env.get_template(TEXT_TEMPLATE)
    env.get_template(HTML_TEMPLATE)


def headline_of(story: StoryBrief) -> str:
    """Return the story's headline (its label until briefs carry a headline)."""
    return str(getattr(story, "headline", "") or story.label)


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


def for_languages(briefing: Briefing, languages: tuple[str, ...]) -> Briefing:
    """Keep only the stories in the given languages (all of them when languages is empty)."""
    if not languages:
        return briefing
    sections = []
    for section in briefing.sections:
        kept = tuple(story for story in section.stories if story.language in languages)
        if kept or section.kind == "topic":  # a topic says "nothing new" rather than vanish
            sections.append(dataclasses.replace(section, stories=kept))
    anchors = {story.anchor for section in sections for story in section.stories}
    return dataclasses.replace(
        briefing,
        sections=tuple(sections),
        at_a_glance=tuple(line for line in briefing.at_a_glance if line.anchor in anchors),
        also_noted=tuple(s for s in briefing.also_noted if s.language in languages),
    )


def _all_stories(briefing: Briefing) -> list[StoryBrief]:
    return [*briefing.stories, *briefing.also_noted]


def subject_for(briefing: Briefing, *, test: bool = False) -> str:
    """Write the subject: the top story's headline first, then the title and date."""
    stories = _all_stories(briefing)
    lead = headline_of(stories[0]) if stories else "Nothing new in this window"
    more = f" (+{len(stories) - 1} more)" if len(stories) > 1 else ""
    day = briefing.day
    title = header_text(briefing.title, 80)
    subject = f"{header_text(lead, SUBJECT_LABEL_CHARS)}{more} — {title}, {day.day} {day:%b}"
    return f"[test] {subject}" if test else subject


def preheader_for(briefing: Briefing) -> str:
    """Write the inbox preview: the next stories after the subject's, then title and date."""
    stories = _all_stories(briefing)
    tail = f"{header_text(briefing.title, 80)}, {long_date(briefing.day)}"
    if len(stories) < 2:
        return tail
    lines: list[str] = []
    size = 0
    for story in stories[1:]:
        headline = header_text(headline_of(story), 90)
        if lines and size + len(headline) > PREHEADER_CHARS:
            break
        lines.append(headline)
        size += len(headline) + 3
    return f"Also: {' · '.join(lines)} — {tail}"


def _mail_context(
    briefing: Briefing,
    view: Briefing,
    *,
    topics: tuple[str, ...],
    attached: bool,
    links: MailLinks,
    managed_by: str,
    contact: str,
    pdf_note: str | None,
) -> dict[str, Any]:
    return {
        "b": view,
        "topics": topics,
        "full": briefing,
        "attached": attached,
        "links": links,
        "managed_by": managed_by,
        "preheader": preheader_for(view),
        "contact": contact,
        # RFC 3676's delimiter is dash dash space: kept here, where no editor strips the space.
        "signature": "-- ",
        "filler": PREHEADER_FILLER,
        "pdf_note": pdf_note,  # why a PDF the reader asked for is missing, if it is
    }


def _html_renderer(env: Environment, context: dict[str, Any]) -> Callable[[Briefing, Fit], str]:
    template = env.get_template(HTML_TEMPLATE)
    return lambda shown, fit: template.render({**context, "b": shown, "fit": fit})


def render_bodies(
    briefing: Briefing,
    *,
    topics: tuple[str, ...],
    attached: bool,
    env: Environment,
    links: MailLinks | None = None,
    managed_by: str = "store",
    contact: str = "",
    pdf_note: str | None = None,
) -> tuple[str, str]:
    """Render the text and HTML bodies for one view of the briefing."""
    text, view, render = _prepare_bodies(
        briefing,
        topics=topics,
        attached=attached,
        env=env,
        links=links or MailLinks(),
        managed_by=managed_by,
        contact=contact,
        pdf_note=pdf_note,
    )
    return text, fit_html(view, render)


def _prepare_bodies(
    briefing: Briefing,
    *,
    topics: tuple[str, ...],
    attached: bool,
    env: Environment,
    links: MailLinks,
    managed_by: str,
    contact: str,
    pdf_note: str | None,
) -> tuple[str, Briefing, Callable[[Briefing, Fit], str]]:
    """Render the text body; return it, the view, and the HTML renderer fit_html calls.

    The one place a recipient's view is made: render_bodies and Mailing both come here.
    """
    view = for_topics(briefing, topics)
    context = _mail_context(
        briefing,
        view,
        topics=topics,
        attached=attached,
        links=links,
        managed_by=managed_by,
        contact=contact,
        pdf_note=pdf_note,
    )
    text = env.get_template(TEXT_TEMPLATE).render(context)
    return text, view, _html_renderer(env, context)


def _headers(
    message: EmailMessage,
    briefing: Briefing,
    recipient: Recipient,
    *,
    sender: Address,
    message_id: str,
    now: datetime,
    unsubscribe: str | None,
    test: bool,
) -> None:
    message["Subject"] = subject_for(for_topics(briefing, recipient.topics), test=test)
    message["From"] = sender
    message["To"] = mailbox(recipient)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    message["List-Id"] = list_id(briefing.title, sender)
    value, one_click = list_unsubscribe(sender, unsubscribe)
    if one_click:
        # RFC 8058: one-click unsubscribe is only defined for an HTTPS URI.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Unsubscribe"] = value


def _assemble(
    message: EmailMessage, text: str, html: str, pdf: bytes | None, briefing: Briefing
) -> None:
    # Quoted-printable keeps the .eml files (and the raw message) readable, unlike base64.
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if pdf is not None:
        filename = f"briefing-{briefing.day.isoformat()}.pdf"
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)


def build_message(
    briefing: Briefing,
    recipient: Recipient,
    *,
    sender: Address,
    message_id: str,
    now: datetime,
    pdf: bytes | None = None,
    env: Environment | None = None,
    links: MailLinks | None = None,
    test: bool = False,
    pdf_note: str | None = None,
) -> EmailMessage:
    """Build the email for one recipient; pdf is attached when given (else pdf_note says why)."""
    env = env or make_mail_environment()
    links = links or MailLinks()
    briefing = for_languages(briefing, recipient.languages)  # the PDF stays the whole edition
    text, html = render_bodies(
        briefing,
        topics=recipient.topics,
        attached=pdf is not None,
        env=env,
        links=links,
        managed_by=recipient.origin,
        contact=sender.addr_spec,
        pdf_note=pdf_note,
    )
    # MAIL_POLICY is policy.SMTP, which refuses CR/LF in any header value (a second line of
    # defence after header_text), with List-Unsubscribe folded as RFC 2369 wants.
    message = EmailMessage(policy=MAIL_POLICY)
    _headers(
        message,
        briefing,
        recipient,
        sender=sender,
        message_id=message_id,
        now=now,
        unsubscribe=links.unsubscribe,
        test=test,
    )
    _assemble(message, text, html, pdf, briefing)
    return message


def list_id(title: str, sender: Address) -> str:
    """Return the List-Id (RFC 2919): the title, and a label in the sender's domain."""
    label = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")[:60] or "briefing"
    name = header_text(title, 80).replace("\\", "").replace('"', "")
    return f'"{name}" <{label}.{sender.domain or "localhost"}>'


def list_unsubscribe(sender: Address, url: str | None) -> tuple[str, bool]:
    """Return the List-Unsubscribe value, and whether it offers one click (RFC 8058)."""
    links = [f"<mailto:{sender.addr_spec}?subject=unsubscribe>"]
    web = safe_href(url) if url else None
    if web:
        links.insert(0, f"<{web}>")
    return ", ".join(links), bool(web and web.lower().startswith("https://"))


_BRACKETED_URL = re.compile(r"<[\x21-\x3b=\x3f-\x7e]+>")  # printable ASCII but < and >


def list_unsubscribe_field(value: str, linesep: str = "\r\n") -> str | None:
    """Write a List-Unsubscribe field, folded after its commas; None when value is unusual.

    RFC 2369 allows folding only between the bracketed URLs. The generic folding turns a
    URL longer than a line into an RFC 2047 encoded-word instead, which no client reads as
    a URL: one-click unsubscribe then silently fails.
    """
    urls = [part.strip() for part in value.split(",")]
    if not all(_BRACKETED_URL.fullmatch(url) for url in urls):
        return None
    line = f"List-Unsubscribe: {', '.join(urls)}"
    if len(line) <= HEADER_LINE:
        return line + linesep
    return f"List-Unsubscribe: {(',' + linesep + ' ').join(urls)}{linesep}"


class ListUnsubscribeHeader(UnstructuredHeader, BaseHeader):
    """List-Unsubscribe, folded by list_unsubscribe_field (never as an encoded-word)."""

    def fold(self, *, policy: Policy) -> str:
        """Fold after the commas; fall back to the generic folding for anything unusual."""
        field = list_unsubscribe_field(str(self), policy.linesep)
        if field is None or self.name.casefold() != "list-unsubscribe":
            return str(super().fold(policy=policy))
        return field


_HEADER_TYPES = HeaderRegistry()
_HEADER_TYPES.map_to_type("list-unsubscribe", ListUnsubscribeHeader)
MAIL_POLICY = policy.SMTP.clone(header_factory=_HEADER_TYPES)


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
