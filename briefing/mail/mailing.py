"""One briefing mailed to many: each view rendered once, the PDF encoded once.

build_message (briefing.mail.message) makes one subscriber's message; Mailing makes the same
bytes for thousands of subscribers at a fraction of the cost, and falls back to
build_message for anything unusual.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email import policy, quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup, escape

from briefing.errors import MailError
from briefing.mail.fit import Fit, encoded_size, fit_html
from briefing.mail.message import (
    HEADER_LINE,
    MAIL_POLICY,
    MailLinks,
    Recipient,
    _assemble,
    _headers,
    _prepare_bodies,
    build_message,
    for_languages,
    list_unsubscribe,
    list_unsubscribe_field,
    mailbox,
    make_mail_environment,
    new_message_id,
)

if TYPE_CHECKING:
    from briefing.briefs.compose import Briefing


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
