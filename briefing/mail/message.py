"""Build the briefing email: addresses checked, headers clean, text + HTML + PDF."""

from __future__ import annotations

import base64
import dataclasses
import re
import secrets
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy, quoprimime
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup, escape

from briefing.addresses import (
    header_text,
    named_address,
)
from briefing.errors import MailError
from briefing.mail.fit import Fit, encoded_size, fit_html
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


# A placeholder for one subscriber's link while a view is rendered for all of them. It
# holds NUL, which the mail environment drops from every value it prints (_printable), so
# nothing from a briefing can look like it; Markup passes it through untouched.
PLACEHOLDER_CHARS = 16
UNSUBSCRIBE_MARK = Markup("\x00u" + "_" * (PLACEHOLDER_CHARS - 3) + "\x00")
MANAGE_MARK = Markup("\x00m" + "_" * (PLACEHOLDER_CHARS - 3) + "\x00")
_VARIABLE_FIELDS = (b"to", b"date", b"message-id", b"list-unsubscribe")
_FIELD_START = re.compile(rb"\r\n(?=[^ \t])")  # a header line that is not a continuation


@dataclass(frozen=True, slots=True)
class FlatMessage:
    """A message already flattened to the bytes SMTP sends (CRLF line ends); see Mailing."""

    data: bytes

    def as_bytes(self, policy: Policy | None = None) -> bytes:
        """Return the bytes (already in policy.SMTP's form, whatever policy is asked)."""
        return self.data

    def parsed(self) -> EmailMessage:
        """Parse the bytes back into a message, to read its headers and parts."""
        from email import message_from_bytes

        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def _encode_line(line: bytes) -> bytes:
    """Quoted-printable encode one body line as email.contentmanager does, CRLF ended.

    Its body_encode encodes every line on its own, so a body can be encoded line by line.
    """
    encoded = quoprimime.body_encode(line.decode("latin-1"), HEADER_LINE, eol="\r\n")
    return encoded.encode("ascii") + b"\r\n"


@dataclass(frozen=True, slots=True)
class _EncodedBody:
    """A body, quoted-printable: constant chunks, and the lines that hold links (raw)."""

    pieces: tuple[bytes, ...]
    linked: frozenset[int]  # indexes of pieces that are raw lines holding a placeholder


@dataclass(frozen=True, slots=True)
class _Layout:
    """One flattened message with its bodies cut out: header fields, then body pieces."""

    fields: tuple[tuple[bytes, bytes], ...]  # (lower-case name, field with its CRLF)
    before_text: bytes
    text: _EncodedBody
    between: bytes
    html: _EncodedBody
    after_html: bytes  # up to the PDF's base64, or to the end without a PDF
    after_pdf: bytes


def _plain_link(link: str | None, finalize: Callable[[Any], Any]) -> bool:
    """Tell whether a link prints unchanged in both bodies (so a placeholder can stand in)."""
    if link is None:
        return True
    return (
        len(link) >= 3
        and link.isascii()
        and "\x00" not in link
        and finalize(link) == link
        and str(escape(link)) == link
    )


class Mailing:
    """One briefing mailed to many: each view rendered once, the PDF encoded once.

    Subscribers' messages differ in a few headers and in their own links. A view (their
    topics, PDF or not, who manages the subscription, which links they have) is rendered
    once with placeholder links; fit_html measures it as if each group's real links were
    in place, so the HTML keeps exactly what a message of its own would keep. The bodies are
    encoded line by line (quoted-printable encodes every line on its own), and only the
    lines holding links are encoded per subscriber. The PDF's base64 is made once. Each
    message equals build_message's for that subscriber byte for byte, but for the MIME
    boundaries (tests/test_send_sharing.py); anything unusual goes through build_message.
    """

    def __init__(
        self,
        briefing: Briefing,
        *,
        sender: Address,
        env: Environment | None = None,
        pdf: bytes | None = None,
        pdf_note: str | None = None,
        test: bool = False,
    ) -> None:
        self.briefing, self.sender, self.pdf, self.pdf_note = briefing, sender, pdf, pdf_note
        self.env = env or make_mail_environment()
        self.test = test
        self._finalize = self.env.finalize or (lambda value: value)
        self._views: dict[tuple[Any, ...], tuple[str, Briefing, Callable[[Briefing, Fit], str]]]
        self._views = {}
        self._layouts: dict[tuple[Any, ...], _Layout] = {}
        self._lines: dict[bytes, bytes] = {}  # encoded lines, shared by every view
        self._pdf_base64: bytes | None = None
        self._dates: dict[str, bytes] = {}

    def message(
        self,
        recipient: Recipient,
        *,
        message_id: str,
        now: datetime,
        links: MailLinks | None = None,
        attach: bool = True,
    ) -> EmailMessage | FlatMessage:
        """Return the message for one recipient (attach: they want the PDF)."""
        links = links or MailLinks()
        pdf = self.pdf if attach else None
        note = self.pdf_note if attach and pdf is None else None
        if not (
            _plain_link(links.unsubscribe, self._finalize)
            and _plain_link(links.manage, self._finalize)
        ):
            return build_message(
                self.briefing, recipient, sender=self.sender, message_id=message_id, now=now,
                pdf=pdf, env=self.env, links=links, test=self.test, pdf_note=note,
            )  # fmt: skip
        # Everything about the recipient but who they are decides what they see.
        shown = replace(recipient, email="", name="", attach_pdf=None)  # attach: pdf, note
        view = (shown, pdf is not None, note, links.edition)
        shape = (links.unsubscribe is not None, links.manage is not None)
        sizes = (len(links.unsubscribe or ""), len(links.manage or ""))
        _value, one_click = list_unsubscribe(self.sender, links.unsubscribe)
        key = (*view, *shape, *sizes, one_click)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = self._layout(recipient, links, pdf, note, view, shape)
        return FlatMessage(self._flatten(layout, recipient, message_id, now, links))

    def _in_languages(self, recipient: Recipient) -> Briefing:
        """The edition as this recipient reads it: only the stories in their languages."""
        return for_languages(self.briefing, recipient.languages)

    def _render(
        self, recipient: Recipient, links: MailLinks, attached: bool, note: str | None
    ) -> tuple[str, Briefing, Callable[[Briefing, Fit], str]]:
        """Render a view's text once, and return its HTML renderer (memoised per fit)."""
        marked = MailLinks(
            links.edition,
            UNSUBSCRIBE_MARK if links.unsubscribe is not None else None,
            MANAGE_MARK if links.manage is not None else None,
        )
        text, view, render = _prepare_bodies(
            self._in_languages(recipient),
            topics=recipient.topics,
            attached=attached,
            env=self.env,
            links=marked,
            managed_by=recipient.origin,
            contact=self.sender.addr_spec,
            pdf_note=note,
        )
        rendered: dict[Fit, str] = {}

        def memoised(shown: Briefing, fit: Fit) -> str:
            # Within one view a Fit names one rendering: left_out says how many were cut.
            if fit not in rendered:
                rendered[fit] = render(shown, fit)
            return rendered[fit]

        return text, view, memoised

    def _layout(
        self,
        recipient: Recipient,
        links: MailLinks,
        pdf: bytes | None,
        note: str | None,
        view_key: tuple[Any, ...],
        shape: tuple[bool, bool],
    ) -> _Layout:
        """Render (once per view) and encode the bodies for links of this group's lengths."""
        key = (*view_key, *shape)
        if key not in self._views:
            self._views[key] = self._render(recipient, links, pdf is not None, note)
        text, view, render = self._views[key]
        extra_unsubscribe = len(links.unsubscribe or "") - PLACEHOLDER_CHARS
        extra_manage = len(links.manage or "") - PLACEHOLDER_CHARS

        def size(html: str) -> int:  # the size with the real links in place of the marks
            return (
                encoded_size(html)
                + html.count(UNSUBSCRIBE_MARK) * extra_unsubscribe
                + html.count(MANAGE_MARK) * extra_manage
            )

        html = fit_html(view, render, size)
        # The skeleton: this recipient's message with marks for bodies, flattened by the
        # email package itself, so that headers, MIME headers and boundaries are its own.
        mark = secrets.token_hex(12)
        text_mark, html_mark = f"briefingtext{mark}", f"briefinghtml{mark}"
        pdf_mark = f"briefingpdf{mark}".encode()
        skeleton = EmailMessage(policy=MAIL_POLICY)
        _headers(
            skeleton,
            self._in_languages(recipient),
            recipient,
            sender=self.sender,
            message_id=new_message_id(self.sender),
            now=datetime.now().astimezone(),
            unsubscribe=links.unsubscribe,
            test=self.test,
        )
        _assemble(
            skeleton, text_mark + "\n", html_mark + "\n", pdf_mark if pdf else None, self.briefing
        )
        head, body = skeleton.as_bytes(policy=MAIL_POLICY).split(b"\r\n\r\n", 1)
        fields = tuple(
            (field.split(b":", 1)[0].strip().lower(), field + b"\r\n")
            for field in _FIELD_START.split(head)
        )
        before_text, rest = body.split(text_mark.encode() + b"\r\n")
        between, rest = rest.split(html_mark.encode() + b"\r\n")
        after_html, after_pdf = rest, b""
        if pdf is not None:
            after_html, after_pdf = rest.split(base64.encodebytes(pdf_mark).replace(b"\n", b"\r\n"))
        return _Layout(
            fields,
            b"\r\n" + before_text,
            self._encode(text),
            between,
            self._encode(html),
            after_html,
            after_pdf,
        )

    def _encode(self, body: str) -> _EncodedBody:
        """Encode body line by line; lines holding a placeholder stay raw, to fill in later."""
        lines = body.encode("utf-8").splitlines()
        if not lines:  # an empty body is one empty line, as email.contentmanager writes it
            return _EncodedBody((b"\r\n",), frozenset())
        pieces: list[bytes] = []
        linked: set[int] = set()
        chunk: list[bytes] = []
        for line in lines:
            if b"\x00" in line:
                if chunk:
                    pieces.append(b"".join(chunk))
                    chunk = []
                linked.add(len(pieces))
                pieces.append(line)
                continue
            encoded = self._lines.get(line)
            if encoded is None:
                encoded = self._lines[line] = _encode_line(line)
            chunk.append(encoded)
        if chunk:
            pieces.append(b"".join(chunk))
        return _EncodedBody(tuple(pieces), frozenset(linked))

    def _filled(self, body: _EncodedBody, links: MailLinks) -> list[bytes]:
        if not body.linked:
            return list(body.pieces)
        unsubscribe, manage = (links.unsubscribe or "").encode(), (links.manage or "").encode()
        out = []
        for index, piece in enumerate(body.pieces):
            if index in body.linked:
                line = piece.replace(UNSUBSCRIBE_MARK.encode(), unsubscribe)
                line = line.replace(MANAGE_MARK.encode(), manage)
                if b"\x00" in line:  # a mark that was cut or changed: never send it
                    raise MailError("a subscriber link placeholder was left in a message")
                piece = _encode_line(line)
            out.append(piece)
        return out

    def _pdf_lines(self) -> bytes:
        if self._pdf_base64 is None:
            assert self.pdf is not None
            self._pdf_base64 = base64.encodebytes(self.pdf).replace(b"\n", b"\r\n")
        return self._pdf_base64

    def _flatten(
        self,
        layout: _Layout,
        recipient: Recipient,
        message_id: str,
        now: datetime,
        links: MailLinks,
    ) -> bytes:
        own = {
            b"to": _to_field(recipient),
            b"date": self._date_field(now),
            b"message-id": _field("Message-ID", message_id),
            b"list-unsubscribe": _unsubscribe_field(self.sender, links.unsubscribe),
        }
        parts = [own.get(name, field) for name, field in layout.fields]
        parts.append(layout.before_text)
        parts.extend(self._filled(layout.text, links))
        parts.append(layout.between)
        parts.extend(self._filled(layout.html, links))
        parts.append(layout.after_html)
        if layout.after_pdf:
            parts.append(self._pdf_lines())
            parts.append(layout.after_pdf)
        return b"".join(parts)

    def _date_field(self, now: datetime) -> bytes:
        value = format_datetime(now)  # to the second: a run writes few distinct ones
        if value not in self._dates:
            self._dates[value] = _field("Date", value)
        return self._dates[value]


def _field(name: str, value: Any) -> bytes:
    """Write one header field as MAIL_POLICY does; short plain ASCII needs no folding."""
    plain = isinstance(value, str) and value.isascii() and value.isprintable()
    if plain and len(name) + 2 + len(value) <= HEADER_LINE and " " not in value:
        return f"{name}: {value}\r\n".encode("ascii")
    return MAIL_POLICY.fold_binary(name, MAIL_POLICY.header_factory(name, value))


def _to_field(recipient: Recipient) -> bytes:
    address = mailbox(recipient)
    if not address.display_name:  # a bare address prints as itself
        return _field("To", address.addr_spec)
    return MAIL_POLICY.fold_binary("To", MAIL_POLICY.header_factory("To", address))


def _unsubscribe_field(sender: Address, url: str | None) -> bytes:
    value, _one_click = list_unsubscribe(sender, url)
    field = list_unsubscribe_field(value)
    if field is not None:
        return field.encode("ascii")
    return MAIL_POLICY.fold_binary(
        "List-Unsubscribe", MAIL_POLICY.header_factory("List-Unsubscribe", value)
    )
