"""The briefing email, checked as it arrives at a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import io
import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pypdf import PdfReader
from support.briefings import DAY, NOW, SENDER, WATCH, blank_pdf, make_briefing
from support.http import unused_port
from support.smtp import LoopbackController, Recorder

from briefing.addresses import AddressError, parse_address, parse_sender
from briefing.briefs.compose import (
    Briefing,
)
from briefing.config import SmtpConfig
from briefing.errors import MailError
from briefing.mail.message import Recipient, build_message, for_topics
from briefing.mail.transport import (
    OutboxTransport,
    Outgoing,
    SmtpTransport,
    TransientFailure,
    TransportSetupError,
)


def plain_smtp(port: int, **extra: object) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=port, security="none", timeout=5, **extra)  # type: ignore[arg-type]


def outgoing(message: EmailMessage, recipient: str = "desk@example.org") -> Outgoing:
    return Outgoing(DAY, SENDER.addr_spec, recipient, str(message["Message-ID"]), message)


def message_for(recipient: Recipient, briefing: Briefing | None = None, pdf: bytes | None = None):  # type: ignore[no-untyped-def]
    return build_message(
        briefing or make_briefing(),
        recipient,
        sender=SENDER,
        message_id="<test.1@example.org>",
        now=NOW,
        pdf=pdf,
    )


# --- addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("desk@example.org", "desk@example.org"),
        ("  Desk.Night+kr@Example.ORG ", "Desk.Night+kr@example.org"),
        ("ops@localhost", "ops@localhost"),
        ("news@bücher.example", "news@xn--bcher-kva.example"),
    ],
)
def test_valid_addresses_are_normalised(given: str, expected: str) -> None:
    assert parse_address(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "desk",
        "desk@",
        "@example.org",
        "desk@@example.org",
        "a@b@example.org",
        "desk@example",
        "desk example@example.org",
        "desk@example.org\r\nBcc: victim@example.org",
        "desk@exa_mple.org",
        "desk@-example.org",
        ".desk@example.org",
        "de..sk@example.org",
        '"quoted"@example.org',
        "Desk <desk@example.org>",
        "x" * 65 + "@example.org",
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(given: str) -> None:
    with pytest.raises(AddressError, match="email address"):
        parse_address(given)


def test_sender_must_be_one_valid_mailbox() -> None:
    assert SENDER.display_name == "Morning Briefing"
    assert parse_sender("briefing@example.org").addr_spec == "briefing@example.org"
    for bad in ("a@example.org, b@example.org", "nobody", "Briefing <x@y>", "A\r\nBcc: b@c.org"):
        with pytest.raises(MailError, match=r"mail\.sender"):
            parse_sender(bad)


# --- the message, as received by a real SMTP server ---------------------------------------


def test_message_structure_and_headers_arrive_intact(smtp_server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = smtp_server
    pdf = blank_pdf()
    message = message_for(Recipient("desk@example.org", "News desk"), pdf=pdf)
    transport = SmtpTransport(plain_smtp(controller.port))
    transport.send(outgoing(message))
    transport.close()

    [got] = recorder.received
    assert got.mail_from == "briefing@example.org" and got.rcpt_tos == ["desk@example.org"]
    parsed = got.parsed()
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in alternative.iter_parts()]
    assert kinds == ["text/plain", "text/html"]  # plain first: clients show the last they can
    assert attachment.get_filename() == "briefing-2024-05-14.pdf"
    assert len(PdfReader(io.BytesIO(attachment.get_content())).pages) == 1

    assert parsed["Subject"] == "DPRK–Russia arms talks (+2 more) — Morning Briefing, 14 May"
    assert parsed["From"] == "Morning Briefing <briefing@example.org>"
    assert parsed["To"] == "News desk <desk@example.org>"
    assert parsed["Message-ID"] == "<test.1@example.org>"
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed["List-Unsubscribe"] == "<mailto:briefing@example.org?subject=unsubscribe>"
    assert parsed["List-Unsubscribe-Post"] is None  # RFC 8058 needs an HTTPS URI for it
    assert parsed["Auto-Submitted"] == "auto-generated"


def test_both_parts_carry_the_briefing_and_the_html_is_inert() -> None:
    message = message_for(
        Recipient("desk@example.org"), make_briefing("Talks <script>alert(1)</script>")
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, html):
        for needle in (
            "At a glance",
            "Typhoon season opens",
            "Port strike ends",
            "Kim Jong Un",
            "We stand together",
            "Talks resumed on Monday",
            "https://r.example/1",
        ):
            assert needle.lower() in part.lower(), needle
    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    assert "Seoul protested &lt;loudly&gt;." in html
    assert "javascript:" not in html and "javascript:" not in text  # shown as text, not a link
    # Inline styles; the one style block only adds the dark scheme; nothing is fetched.
    assert html.lower().count("<style") == 1 and " src=" not in html.lower()
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "prefers-color-scheme: dark" in style and "url(" not in style and "@import" not in style
    assert 'style="' in html
    assert "<script>" in text  # text/plain is shown as text: nothing to escape


def test_a_label_with_crlf_cannot_add_a_header(smtp_server) -> None:  # type: ignore[no-untyped-def]
    recorder, controller = smtp_server
    label = "Arms talks\r\nBcc: victim@example.net\r\nX-Injected: yes"
    recipient = Recipient("desk@example.org", "Desk\r\nCc: other@example.net")
    message = message_for(recipient, make_briefing(label))
    transport = SmtpTransport(plain_smtp(controller.port))
    transport.send(outgoing(message))
    transport.close()

    [got] = recorder.received
    assert got.rcpt_tos == ["desk@example.org"]
    parsed = got.parsed()
    assert parsed["Bcc"] is None and parsed["Cc"] is None and parsed["X-Injected"] is None
    assert "Arms talks Bcc: victim@example.net X-Injected: yes" in parsed["Subject"]
    assert parsed["To"].addresses[0].addr_spec == "desk@example.org"
    header_block = got.data.split(b"\r\n\r\n", 1)[0]
    assert not any(
        line.startswith((b"Bcc", b"Cc", b"X-Injected")) for line in header_block.split(b"\r\n")
    )


def test_pdf_is_left_out_when_not_given() -> None:
    message = message_for(Recipient("desk@example.org"))
    assert message.get_content_type() == "multipart/alternative"
    assert "attached" not in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_topic_subscribers_get_only_their_stories() -> None:
    briefing = make_briefing()
    view = for_topics(briefing, (WATCH.upper(),))
    assert [s.label for s in view.stories] == ["DPRK–Russia arms talks"]
    assert [line.anchor for line in view.at_a_glance] == ["story-1"]
    assert view.also_noted == ()
    message = message_for(Recipient("desk@example.org", topics=("Elections",)))
    assert message["Subject"].startswith("Nothing new in this window — ")
    assert "Nothing new on your topics" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


# --- transports ---------------------------------------------------------------------------


def self_signed(tmp_path: Path) -> tuple[Path, Path, bytes]:
    """Make a certificate for 127.0.0.1 and localhost; return cert, key and the PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Return (server context, client context trusting only the self-signed certificate)."""
    cert_path, key_path, pem = self_signed(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


def test_auth_over_starttls_with_a_self_signed_certificate(tls_files, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    server_context, client_context = tls_files
    logins: list[tuple[str, bool]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        logins.append((auth_data.login.decode(), session.ssl is not None))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    recorder = Recorder()
    controller = LoopbackController(
        recorder,
        hostname="127.0.0.1",
        port=0,
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        settings = SmtpConfig(
            host="127.0.0.1",
            port=controller.port,
            username="briefing",
            password_env="TEST_SMTP_PW",
            timeout=5,
        )
        monkeypatch.setenv("TEST_SMTP_PW", "s3cret")
        transport = SmtpTransport(settings, ssl_context=client_context)
        transport.send(outgoing(message_for(Recipient("desk@example.org"))))
        transport.close()
        assert logins == [("briefing", True)]  # logged in, and only after STARTTLS
        assert len(recorder.received) == 1

        monkeypatch.setenv("TEST_SMTP_PW", "wrong")
        with pytest.raises(TransportSetupError, match="login refused"):
            SmtpTransport(settings, ssl_context=client_context).send(
                outgoing(message_for(Recipient("desk@example.org")))
            )
        monkeypatch.setenv("TEST_SMTP_PW", "s3cret")
        with pytest.raises(TransportSetupError, match="certificate"):  # not trusted by default
            SmtpTransport(settings).send(outgoing(message_for(Recipient("desk@example.org"))))
        assert len(recorder.received) == 1
    finally:
        controller.stop()


def test_implicit_tls(tls_files) -> None:  # type: ignore[no-untyped-def]
    server_context, client_context = tls_files
    recorder = Recorder()
    controller = LoopbackController(
        recorder, hostname="127.0.0.1", port=0, ssl_context=server_context
    )
    controller.start()
    try:
        settings = SmtpConfig(host="127.0.0.1", port=controller.port, security="tls", timeout=5)
        transport = SmtpTransport(settings, ssl_context=client_context)
        transport.send(outgoing(message_for(Recipient("desk@example.org"))))
        transport.close()
    finally:
        controller.stop()
    assert [r.rcpt_tos for r in recorder.received] == [["desk@example.org"]]


def test_password_setup_is_checked_before_connecting(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("BRIEFING_SMTP_PASSWORD", raising=False)
    with pytest.raises(TransportSetupError, match="BRIEFING_SMTP_PASSWORD"):
        SmtpTransport(SmtpConfig(host="mail.example.org", username="u"))
    with pytest.raises(TransportSetupError, match="unencrypted"):
        SmtpTransport(
            SmtpConfig(host="mail.example.org", username="u", security="none"), password="p"
        )


def test_connection_refused_is_transient() -> None:
    transport = SmtpTransport(plain_smtp(unused_port()))
    with pytest.raises(TransientFailure) as caught:
        transport.send(outgoing(message_for(Recipient("desk@example.org"))))
    assert caught.value.scope == "connection"


def test_outbox_writes_each_message_once_and_atomically(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    item = outgoing(message_for(Recipient("Desk.Night@example.org")), "Desk.Night@example.org")
    assert outbox.accepted(item) is False
    outbox.send(item)
    [written] = list((tmp_path / "outbox").iterdir())  # no temporary file left behind
    assert written.name.startswith("2024-05-14_desk.night-at-example.org_")
    assert written.suffix == ".eml" and outbox.accepted(item) is True
    assert written.stat().st_mode & 0o777 == 0o644
    parsed = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<test.1@example.org>"
    outbox.send(item)  # the same message again replaces its own file
    assert len(list((tmp_path / "outbox").iterdir())) == 1
