"""Editor accounts: argon2id password hashes in the store, sign-in with a lockout, the app key.

Who is an editor is the config's (`[[editors]] email`); the store keeps only each one's
password hash (set by `briefing editors add`) and failed sign-ins. After MAX_FAILURES
wrong passwords in a row an account is locked for LOCKOUT, even to the right password.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from briefing.config import Config
from briefing.errors import DeskError
from briefing.stages.tokens import signing_key
from briefing.store.engine import Store
from briefing.store.models import EditorAccount, utcnow

log = logging.getLogger(__name__)
# argon2id with the library's defaults: RFC 9106's second recommended profile (64 MiB, t=3).
HASHER = PasswordHasher()
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work one request asks for
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_DUMMY = HASHER.hash(secrets.token_urlsafe(16))  # verified for unknown accounts: same timing


class SignIn(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


def set_password(
    store: Store, config: Config, email: str, password: str, now: datetime | None = None
) -> str:
    """Store an editor's new password hash (and unlock the account); return the address."""
    editor = config.editor(email)
    if editor is None:
        raise DeskError(
            f'{email} is not an editor: add `[[editors]] email = "{email}"` to the config first'
        )
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise DeskError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    hashed = HASHER.hash(password)

    def work(session: Session) -> None:
        row = session.get(EditorAccount, editor.email) or EditorAccount(email=editor.email)
        row.password_hash, row.failures, row.locked_until = hashed, 0, None
        row.updated_at = now or utcnow()
        session.add(row)

    store.run(work)
    log.info("password set for editor %s", editor.email)
    return editor.email


def check_password(
    store: Store, config: Config, email: str, password: str, now: datetime | None = None
) -> SignIn:
    """Check an editor's password, counting failures; a locked account is refused unchecked."""
    now = now or utcnow()
    editor = config.editor(email) if len(password) <= MAX_PASSWORD else None
    with store.session() as session:
        row = session.get(EditorAccount, editor.email) if editor else None
        if row is None:
            _verify(_DUMMY, password[:MAX_PASSWORD])  # unknown account: take as long anyway
            return SignIn.WRONG
        if row.locked_until is not None and now < row.locked_until:
            return SignIn.LOCKED
        if _verify(row.password_hash, password):
            row.failures, row.locked_until = 0, None
            if HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = HASHER.hash(password)
            return SignIn.OK
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.failures, row.locked_until = 0, now + LOCKOUT
            log.warning(
                "editor %s locked for %s after repeated wrong passwords", row.email, LOCKOUT
            )
            return SignIn.LOCKED
        return SignIn.WRONG


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def account_stamp(store: Store, email: str) -> str | None:
    """Return a short fingerprint of an editor's password hash (None: no account).

    Sessions carry it, so setting a new password signs every earlier session out.
    """
    with store.session() as session:
        row = session.get(EditorAccount, email)
        if row is None:
            return None
        return hashlib.sha256(row.password_hash.encode()).hexdigest()[:16]


def session_key(store: Store, config: Config) -> str:
    """Return the key that signs desk sessions: the app's one signing key (its own salt)."""
    return signing_key(store, config).decode()
