"""Signed links for subscribers: the key, and tokens that cannot be forged or redirected.

A token names one subscriber (by id and epoch) and one purpose, signed with HMAC-SHA256
(itsdangerous). Changing any character breaks the signature; a token for one purpose or
one subscriber never acts for another; a confirmed (re)subscription bumps the epoch, so
links from before it no longer act. The key comes from the environment variable named by
`[web] secret_env` when it is set, else it is generated once and kept in the store, so that
`briefing send` and `briefing serve` sign and check with the same key.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from briefing.config import Config
from briefing.errors import ConfigError
from briefing.store.engine import Store
from briefing.store.models import AppKey

log = logging.getLogger(__name__)
KEY_NAME = "link-signing"
MIN_KEY_CHARS = 32
CONFIRM_MAX_AGE = 7 * 24 * 3600  # a confirmation link works for a week
PURPOSES = frozenset({"unsubscribe", "manage", "confirm"})


def signing_key(store: Store, config: Config) -> bytes:
    """Return the link-signing key: from the environment, else the store's (made once)."""
    variable = config.web.secret_env
    from_env = os.environ.get(variable, "") if variable else ""
    if from_env:
        if len(from_env) < MIN_KEY_CHARS:
            raise ConfigError(f"${variable} is too short for a signing key (use 32+ characters)")
        return from_env.encode()

    def read_or_make(session: Any) -> str:
        row = session.get(AppKey, KEY_NAME)
        if row is None:
            row = AppKey(name=KEY_NAME, value=secrets.token_urlsafe(32))
            session.add(row)
            session.flush()
            log.info("generated the link-signing key (kept in the store)")
        return str(row.value)

    try:
        return store.run(read_or_make).encode()
    except IntegrityError:  # another process made it at the same moment: use theirs
        return store.run(read_or_make).encode()


@dataclass(frozen=True, slots=True)
class LinkSigner:
    """Sign and check subscribers' tokens with one key."""

    key: bytes

    def _plain(self, purpose: str) -> URLSafeSerializer:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return URLSafeSerializer(self.key, salt=f"briefing/{purpose}")

    def subscriber_token(self, purpose: str, subscriber_id: int, epoch: int) -> str:
        """Return a token that lets its holder act on this one subscriber, for purpose."""
        return str(self._plain(purpose).dumps([subscriber_id, epoch]))

    def read_subscriber(self, purpose: str, token: str) -> tuple[int, int] | None:
        """Return (subscriber id, epoch) from a valid token, or None."""
        try:
            value = self._plain(purpose).loads(token)
        except BadData:
            return None
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, int) and not isinstance(part, bool) for part in value)
        ):
            return value[0], value[1]
        return None

    def confirm_token(self, request: dict[str, Any]) -> str:
        """Return a dated token carrying a subscription request (address, topics, PDF)."""
        serializer = URLSafeTimedSerializer(self.key, salt="briefing/confirm")
        return str(serializer.dumps(request))

    def read_confirm(self, token: str, max_age: int = CONFIRM_MAX_AGE) -> dict[str, Any] | None:
        """Return the request from a valid confirmation token younger than max_age, or None."""
        serializer = URLSafeTimedSerializer(self.key, salt="briefing/confirm")
        try:
            value = serializer.loads(token, max_age=max_age)
        except BadData:
            return None
        return value if isinstance(value, dict) else None


def link_signer(store: Store, config: Config) -> LinkSigner:
    """Return the signer with the configured key."""
    return LinkSigner(signing_key(store, config))
