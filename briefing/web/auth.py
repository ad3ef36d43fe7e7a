"""Sign-in for the desk: signed session cookies, CSRF tokens, a login throttle, form reading.

A session is a cookie signed with the app's key (itsdangerous; the key is
$BRIEFING_SECRET_KEY or one generated once and kept in the store). It holds the editor's
address, when it was issued, a fingerprint of their password hash (a new password signs
every old session out) and the session's CSRF token, which every form must send back.
The cookie is HttpOnly, SameSite=Strict, limited to /desk, and Secure behind https.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from briefing.config import Config
from briefing.stages.editors import account_stamp
from briefing.store.engine import Store

log = logging.getLogger(__name__)
SESSION_COOKIE = "briefing_desk"
LOGIN_COOKIE = "briefing_login"
COOKIE_PATH = "/desk"
MAX_FORM_BYTES = 64 * 1024
THROTTLE_ATTEMPTS = 20  # sign-in attempts per client address per window, right or wrong
THROTTLE_WINDOW = 15 * 60.0
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Editor:
    """A signed-in editor, and the CSRF token their forms carry."""

    email: str
    csrf: str


class Sessions:
    """Issue and check the desk's signed session cookies."""

    def __init__(self, key: str, config: Config, store: Store, clock: Clock = time.time) -> None:
        self.signer = URLSafeSerializer(key, salt="briefing-desk-session")
        self.login_signer = URLSafeSerializer(key, salt="briefing-desk-login")
        self.config, self.store, self.clock = config, store, clock
        self.max_age = config.review.session_hours * 3600
        self.secure = config.web.base_url.startswith("https://")

    def issue(self, email: str) -> str:
        """Return a new session cookie value for a signed-in editor."""
        payload = {"e": email, "t": self.clock(), "s": account_stamp(self.store, email),
                   "c": secrets.token_urlsafe(24)}  # fmt: skip
        return str(self.signer.dumps(payload))

    def editor(self, request: Request) -> Editor | None:
        """Return the signed-in editor of a request, or None (no, bad or expired session)."""
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return None
        try:
            data: Any = self.signer.loads(value)
            email, issued, stamp, csrf = data["e"], float(data["t"]), data["s"], str(data["c"])
        except (BadSignature, KeyError, TypeError, ValueError):
            log.warning("refused a desk session cookie with a bad signature")
            return None
        if not 0 <= self.clock() - issued <= self.max_age:
            return None
        if self.config.editor(email) is None or account_stamp(self.store, email) != stamp:
            return None  # no longer an editor, or the password changed since
        return Editor(email, csrf)

    def set_cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True,
                            samesite="strict", secure=self.secure)  # fmt: skip

    def login_token(self) -> tuple[str, str]:
        """Return (token for the form, cookie value) guarding the sign-in form itself."""
        token = secrets.token_urlsafe(24)
        return token, str(self.login_signer.dumps(token))

    def login_token_ok(self, request: Request, token: str) -> bool:
        try:
            expected = str(self.login_signer.loads(request.cookies.get(LOGIN_COOKIE, "")))
        except BadSignature:
            return False
        return bool(token) and hmac.compare_digest(expected, token)


class Throttle:
    """Allow a client address a limited number of sign-in attempts per window."""

    def __init__(self, attempts: int = THROTTLE_ATTEMPTS, window: float = THROTTLE_WINDOW,
                 clock: Clock = time.monotonic) -> None:  # fmt: skip
        self.attempts, self.window, self.clock = attempts, window, clock
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        """Count an attempt from client; False once it has made too many lately."""
        now, times = self.clock(), self.seen[client]
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) >= self.attempts:
            return False
        times.append(now)
        return True


def same_origin(request: Request) -> bool:
    """Tell whether a form post comes from this site, as far as the browser says.

    Browsers send Sec-Fetch-Site; under our no-referrer policy their Origin is "null", so
    Origin is only compared when it names a site. The CSRF token is checked either way.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def read_form(request: Request) -> dict[str, str]:
    """Read a small url-encoded form (the desk's only kind), or answer 400/413."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(400, "expected a form")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "form too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "unreadable form") from None
    return dict(pairs)


def csrf_ok(editor: Editor, form: dict[str, str]) -> bool:
    """Tell whether a form carries the session's CSRF token."""
    return hmac.compare_digest(editor.csrf.encode(), form.get("csrf", "").encode())
