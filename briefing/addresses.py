"""Email addresses and header text: checked, normalised, and safe to put in a header.

Below every other layer: the config checks `[mail] sender` with it, the mail builds headers.
"""

from __future__ import annotations

import re
import unicodedata
from email import policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser

from briefing.errors import MailError

NAME_CHARS = 120
# Dot-atom local part only: quoted local parts are legal but a typo far more often than not.
LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
DOMAIN_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# Characters that could end a header line or hide text: controls, bidi and line separators.
HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
# RFC 5322 specials: a display name holding them must stay quoted, which folding may undo.
SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


class AddressError(MailError, ValueError):
    """An email address that is not a plain, deliverable name@domain."""


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
