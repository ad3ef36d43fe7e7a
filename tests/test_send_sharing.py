"""One briefing mailed to many shares its work: each view is rendered once, the PDF encoded
once, one SMTP connection carries every message, and each message is still exactly the
one build_message makes for that subscriber (hostile titles escaped, headers unbroken)."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from jinja2 import Environment
from support.briefings import DAY, NOW, SENDER, WATCH, archive, blank_pdf, make_briefing
from support.config import reader_config
from support.smtp import LoopbackController, Recorder

from briefing.briefs.compose import Briefing
from briefing.config import SmtpConfig
from briefing.mail import fit
from briefing.mail.mailing import FlatMessage, Mailing
from briefing.mail.message import (
    MAIL_POLICY,
    MailLinks,
    Recipient,
    build_message,
    make_mail_environment,
)
from briefing.mail.transport import Outgoing, SmtpTransport
from briefing.stages.send import send_briefing
from briefing.stages.subscribers import add_subscriber
from briefing.store.engine import Store

BOUNDARY = re.compile(rb"={15}\d+==")
EDITION = "https://briefing.example.org/2024/05/14/briefing.html"
HOSTILE = 'Evil <script>alert(1)</script> "quoted" & {{ 7*7 }}\r\nBcc: victim@example.org\x00\x1b'


def links(number: int, base: str = "https://briefing.example.org/") -> MailLinks:
    # Tokens of different lengths, as ids 1, 10, 100 ... give.
    token = "Wz" + "E" * (number % 5) + f".sig{number}"
    return MailLinks(EDITION, f"{base}unsubscribe/{token}", f"{base}manage/{token}x")


def normalised(data: bytes) -> bytes:
    """Number the MIME boundaries in order of appearance (they are random)."""
    seen: dict[bytes, bytes] = {}
    return BOUNDARY.sub(lambda m: seen.setdefault(m[0], b"BOUNDARY%d" % len(seen)), data)


def flat(message: EmailMessage | FlatMessage) -> bytes:
    return message.as_bytes(policy=MAIL_POLICY)


def parsed(data: bytes) -> EmailMessage:
    return message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


RECIPIENTS = [
    Recipient("desk@example.org"),
    Recipient("topic@example.org", topics=(WATCH,)),
    Recipient("named@example.org", name="Kim, Ji-woo (night desk)"),
    Recipient("nopdf@example.org", attach_pdf=False),
    Recipient("config@example.org", origin="config"),
    Recipient("a.very.long.local.part.for.folding.tests@subdomain.of.a.long.example.org"),
    Recipient("Mixed+Tag_{x}~y@example.org", name="Émile Zoë"),
    Recipient("korean-desk@example.org", languages=("ko",)),  # none of the stories
]


@pytest.mark.parametrize("base", ["https://briefing.example.org/", "http://127.0.0.1:8080/"])
@pytest.mark.parametrize("with_pdf", [True, False])
def test_a_shared_rendering_equals_a_message_of_its_own(base: str, with_pdf: bool) -> None:
    briefing = make_briefing()
    pdf = blank_pdf() if with_pdf else None
    note = None if with_pdf else "The PDF could not be made in time."
    env = make_mail_environment()
    mailing = Mailing(briefing, sender=SENDER, env=env, pdf=pdf, pdf_note=note)
    for number, recipient in enumerate(RECIPIENTS * 2):
        own = links(number, base) if number % 4 else MailLinks(EDITION)
        attach = recipient.attach_pdf is not False
        message_id = f"<{number}.briefing@example.org>"
        shared = mailing.message(
            recipient, message_id=message_id, now=NOW, links=own, attach=attach
        )
        assert isinstance(shared, FlatMessage)
        alone = build_message(
            briefing, recipient, sender=SENDER, message_id=message_id, now=NOW, env=env,
            links=own, pdf=pdf if attach else None, pdf_note=note if attach else None,
        )  # fmt: skip
        assert normalised(flat(shared)) == normalised(flat(alone)), recipient
    # Rendered once per view, not per message: far fewer distinct views than messages.
    assert len(mailing._views) < len(RECIPIENTS) * 2


def alone(briefing: Briefing, env: Environment, own: MailLinks) -> EmailMessage:
    return build_message(
        briefing, RECIPIENTS[0], sender=SENDER, message_id="<1@x.org>", now=NOW, env=env, links=own
    )


def test_the_html_is_cut_as_a_message_of_its_own_would_be(monkeypatch: pytest.MonkeyPatch) -> None:
    """Near the size budget, the length of each subscriber's links decides what fits."""
    briefing = make_briefing()
    env = make_mail_environment()
    short, long = links(1), dataclasses.replace(links(1), manage=EDITION + "?" + "m" * 400)
    sizes = {}
    for name, own in (("short", short), ("long", long)):
        html = alone(briefing, env, own).get_body(("html",)).get_content()  # type: ignore[union-attr]
        sizes[name] = len(html.encode())
    # A budget between the two full renderings: the short links fit, the long ones do not.
    monkeypatch.setattr(fit, "HTML_BUDGET", (sizes["short"] + sizes["long"]) // 2)
    mailing = Mailing(briefing, sender=SENDER, env=env)
    bodies = []
    for own in (short, long, short):
        shared = mailing.message(RECIPIENTS[0], message_id="<1@x.org>", now=NOW, links=own)
        assert normalised(flat(shared)) == normalised(flat(alone(briefing, env, own)))
        bodies.append(parsed(flat(shared)).get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert bodies[0] != bodies[1].replace(long.manage or "", short.manage or "")  # cut differently
    assert len(mailing._views) == 1  # yet rendered once


def hostile_briefing() -> Briefing:
    briefing = make_briefing(label=HOSTILE)
    return dataclasses.replace(briefing, title=f"Morning {HOSTILE}")


def test_a_hostile_title_is_escaped_in_html_and_harmless_in_headers() -> None:
    briefing = hostile_briefing()
    mailing = Mailing(briefing, sender=SENDER, pdf=blank_pdf())
    data = flat(mailing.message(RECIPIENTS[0], message_id="<1@x.org>", now=NOW, links=links(3)))
    head = data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^bcc:", head, re.IGNORECASE | re.MULTILINE)
    assert b"\x00" not in data and b"\x1b" not in data
    message = parsed(data)
    assert message["Bcc"] is None
    assert "victim@example.org" in str(message["Subject"])  # kept as text, on one line
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "{{ 7*7 }}" in text and "49" not in text  # printed, never evaluated


def test_the_pdf_is_encoded_once_and_every_message_carries_the_same_bytes(
    tmp_path: Path, store: Store, smtp_server: tuple[Recorder, LoopbackController]
) -> None:
    recorder, controller = smtp_server
    emails = [f"reader{n}@example.org" for n in range(12)]
    config = reader_config(tmp_path, controller.port, *emails)
    add_subscriber(store, config, "topic@example.org", topics=[WATCH])
    add_subscriber(store, config, "paper@example.org", attach_pdf=False)
    archive(config)
    report = send_briefing(store, config, DAY)
    assert report.complete and len(report.sent) == 14
    pdf = (config.archive.dir / "2024" / "05" / "14" / "briefing.pdf").read_bytes()
    attachments = {}
    for item in recorder.received:
        message = item.parsed()
        parts = message.iter_attachments()
        attachments[item.rcpt_tos[0]] = [
            part.get_content() for part in parts if part.get_content_type() == "application/pdf"
        ]
    assert attachments.pop("paper@example.org") == []
    assert all(found == [pdf] for found in attachments.values())
    # Every message went over one connection, as the test server counts them.
    assert len({item.connection for item in recorder.received}) == 1


def test_each_subscriber_gets_their_own_links_over_one_connection(
    tmp_path: Path, store: Store, smtp_server: tuple[Recorder, LoopbackController]
) -> None:
    recorder, controller = smtp_server
    emails = [f"reader{n}@example.org" for n in range(15)]
    config = reader_config(tmp_path, controller.port, *emails)
    archive(config)
    assert send_briefing(store, config, DAY).complete
    seen = set()
    for item in recorder.received:
        message = item.parsed()
        header = str(message["List-Unsubscribe"])
        [url] = re.findall(r"<(https://[^>]+)>", header)
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert url in text and f'href="{url}"' in html
        seen.add(url)
        raw_head = item.data.split(b"\r\n\r\n", 1)[0]
        assert b"=?utf-8?" not in raw_head.split(b"List-Unsubscribe:")[1].split(b"\r\nMIME")[0]
    assert len(seen) == len(emails)
    assert len({item.connection for item in recorder.received}) == 1


def smtp_section_config(port: int) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=port, security="none", timeout=5)


def test_lines_starting_with_a_dot_arrive_intact(
    smtp_server: tuple[Recorder, LoopbackController],
) -> None:
    """SMTP doubles a leading dot on the wire (RFC 5321 4.5.2); the server strips it again."""
    recorder, controller = smtp_server
    data = (
        b".first line\r\nSubject: dots\r\nTo: desk@example.org\r\n\r\n"
        b".\r\n..two\r\nmiddle.\r\n.\r\n. end\r\nno final line break"
    )
    courier = SmtpTransport(smtp_section_config(controller.port))
    try:
        courier.send(
            Outgoing(DAY, SENDER.addr_spec, "desk@example.org", "<d@x>", FlatMessage(data))
        )
    finally:
        courier.close()
    [item] = recorder.received
    assert item.data == data + b"\r\n"  # DATA always ends with a line break


def tricky_bodies() -> list[str]:
    rng = random.Random(19)
    alphabet = "ab =\t.é—–\u00a0€😀<>&\"'"
    bodies = [
        "",
        "one line without an end",
        "trailing space \nand tab\t\n \n\t\n",
        "x" * 75 + "=\n" + "y" * 76 + " \n" + "z" * 77 + "\t\n" + "é" * 40 + "\n",
        "=" * 200 + "\n\n\n",
        "\r\nwindows\r\nline ends\rand a lone CR\n",
    ]
    for _ in range(200):
        size = rng.randint(0, 300)
        bodies.append("".join(rng.choice(alphabet) for _ in range(size)))
    return bodies


def test_bodies_encoded_line_by_line_equal_the_email_package() -> None:
    mailing = Mailing(make_briefing(), sender=SENDER)
    for body in tricky_bodies():
        reference = EmailMessage(policy=MAIL_POLICY)
        reference.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
        expected = reference.as_bytes(policy=MAIL_POLICY).split(b"\r\n\r\n", 1)[1]
        encoded = mailing._encode(body)
        assert b"".join(encoded.pieces) == expected, body


class ClosesAfterEachMessage(Recorder):
    """A server that hangs up after every message it accepts (as some limit them)."""

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        reply = await super().handle_DATA(server, session, envelope)
        asyncio.get_running_loop().call_soon(server.transport.close)  # after the reply
        return reply


def test_a_connection_the_server_closed_is_replaced_without_losing_a_message(
    tmp_path: Path, store: Store
) -> None:
    recorder = ClosesAfterEachMessage()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        emails = [f"reader{n}@example.org" for n in range(4)]
        config = reader_config(tmp_path, controller.port, *emails)
        archive(config)
        waits: list[float] = []
        report = send_briefing(store, config, DAY, sleep=waits.append)
    finally:
        controller.stop()
    assert report.complete and sorted(report.sent) == emails and waits == []
    assert sorted(item.rcpt_tos[0] for item in recorder.received) == emails
    assert len({item.connection for item in recorder.received}) == len(emails)
