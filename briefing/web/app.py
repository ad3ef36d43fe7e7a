"""`briefing serve`: a small read-only web app over the archive and the store (Starlette).

Safe by default: it answers only GET and HEAD (POST only on the subscription pages, each
change signed by the subscriber's token), serves only the three files of an archived
day (resolved and checked to lie inside the archive), refuses paths with dot segments,
backslashes or NULs however they are encoded, escapes every value, and sends a strict
Content-Security-Policy that forbids scripts on every response.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from briefing.output.archive import paths_for
from briefing.web.desk import Desk
from briefing.web.pages import WEB_TEMPLATES, Site
from briefing.web.subscribe import Subscriptions, subscription_routes

log = logging.getLogger(__name__)

APP_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Archived briefings carry their stylesheet inline; scripts stay forbidden (default-src).
BRIEFING_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
ARCHIVE_FILES = {
    "briefing.html": "text/html; charset=utf-8",
    "briefing.pdf": "application/pdf",
    "briefing.json": "application/json",
}
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
MAX_QUERY = 200


class _Year(Convertor[str]):
    """Match four digits, so that other paths never look like a date."""

    regex = r"\d{4}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _TwoDigits(_Year):
    regex = r"\d{2}"


register_url_convertor("year4", _Year())
register_url_convertor("two2", _TwoDigits())


def is_hostile_path(path: str) -> bool:
    """Tell whether a request path tries to leave the site, in any encoding."""
    for _ in range(4):  # %252e%252e -> %2e%2e -> ..
        if "\\" in path or "\x00" in path or "//" in path:
            return True
        if any(segment in (".", "..") for segment in path.split("/")):
            return True
        decoded = unquote(path)
        if decoded == path:
            return False
        path = decoded
    return True  # still encoded after several rounds: nobody needs that


class SecurityHeaders:
    """Refuse hostile paths, and add the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or b""
        if is_hostile_path(scope["path"]) or is_hostile_path(raw.decode("latin-1")):
            log.warning("refused a hostile path: %r", raw or scope["path"])
            response = Response("Bad request: this path is not allowed.\n", 400)
            await self._send_secured(response, scope, receive, send)
            return
        await self._send_secured(self.app, scope, receive, send)

    async def _send_secured(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = APP_CSP
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await app(scope, receive, secured)


def _day(request: Request) -> date:
    """Read /YYYY/MM/DD from the path, or answer 404."""
    params = request.path_params
    try:
        return date(int(params["year"]), int(params["month"]), int(params.get("day", "01")))
    except ValueError:
        raise HTTPException(404) from None


def archive_file(archive_dir: Path, day: date, name: str) -> Path | None:
    """Return the archived file of day called name, only if it lies inside the archive."""
    if name not in ARCHIVE_FILES:
        return None
    paths = paths_for(archive_dir, day)
    wanted = {"briefing.html": paths.html, "briefing.pdf": paths.pdf, "briefing.json": paths.json}
    root = Path(archive_dir).resolve()
    try:
        resolved = wanted[name].resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return resolved


def _page(html: str | None) -> HTMLResponse:
    if html is None:
        raise HTTPException(404)
    return HTMLResponse(html)


def create_app(
    site: Site,
    *,
    allowed_hosts: list[str] | None = None,
    desk: Desk | None = None,
    subscriptions: Subscriptions | None = None,
) -> Starlette:
    """Build the web app over site; allowed_hosts (when given) guards against DNS rebinding.

    With desk, the editor's desk is mounted under /desk/ (signed-in editors only); with
    subscriptions, the subscribe, confirm, manage and unsubscribe pages are served too.
    """

    def index(request: Request) -> Response:
        return _page(site.index())

    def month(request: Request) -> Response:
        return _page(site.month(_day(request)))

    def day_page(request: Request) -> Response:
        return _page(site.day(_day(request)))

    def day_file(request: Request) -> Response:
        day, name = _day(request), request.path_params["name"]
        path = archive_file(site.archive_dir, day, name)
        if path is None:
            raise HTTPException(404)
        headers = {"content-security-policy": BRIEFING_CSP}
        if name == "briefing.pdf":
            how = "attachment" if "download" in request.query_params else "inline"
            headers["content-disposition"] = f'{how}; filename="briefing-{day.isoformat()}.pdf"'
        return FileResponse(path, media_type=ARCHIVE_FILES[name], headers=headers)

    def stories(request: Request) -> Response:
        return _page(site.stories())

    def sources(request: Request) -> Response:
        return _page(site.sources())

    def story(request: Request) -> Response:
        return _page(site.story(request.path_params["story_id"]))

    def search(request: Request) -> Response:
        return _page(site.search(request.query_params.get("q", "")[:MAX_QUERY]))

    def feed(request: Request) -> Response:
        atom = site.feed(str(request.base_url))
        return Response(atom, media_type="application/atom+xml; charset=utf-8")

    def stylesheet(request: Request) -> Response:
        return FileResponse(WEB_TEMPLATES / "web.css", media_type="text/css; charset=utf-8")

    async def not_found(request: Request, exc: Exception) -> Response:
        return HTMLResponse(site.not_found(request.url.path), 404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return Response("Method not allowed: this archive is read-only.\n", 405)

    routes = [
        Route("/", index),
        Route("/index.html", index),
        Route("/search", search),
        Route("/feed.xml", feed),
        Route("/static/web.css", stylesheet),
        Route("/stories/", stories),
        Route("/stories/index.html", stories),
        Route("/stories/{story_id}.html", story),
        Route("/sources/", sources),
        Route("/sources/index.html", sources),
        Route("/{year:year4}/{month:two2}/", month),
        Route("/{year:year4}/{month:two2}/index.html", month),
        Route("/{year:year4}/{month:two2}/{day:two2}/", day_page),
        Route("/{year:year4}/{month:two2}/{day:two2}/index.html", day_page),
        Route("/{year:year4}/{month:two2}/{day:two2}/{name}", day_file),
    ]
    if desk is not None:
        routes = desk.routes() + routes
    if subscriptions is not None:
        site.subscriptions = True
        routes += subscription_routes(subscriptions)
    middleware = [Middleware(SecurityHeaders)]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    handlers = {404: not_found, 405: not_allowed}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
