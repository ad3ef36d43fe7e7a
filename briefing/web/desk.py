"""The editor's desk in the web app: the draft as subscribers get it, corrections, approval.

Every page needs a signed-in editor (GET without one leads to the sign-in form); every
form is a POST that carries the session's CSRF token and is refused (401 without a
session, 403 with a wrong token or another site's Origin) before anything is touched.
Each correction is one decision (stages/corrections.py); the draft is rebuilt after it.
No script runs anywhere: plain forms, one click per correction where it can be.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from briefing.config import Config
from briefing.errors import BriefingError, ConfigError
from briefing.stages.editors import SignIn, check_password, session_key
from briefing.stages.review import draft_paths, open_day
from briefing.store.engine import Store
from briefing.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Editor,
    Sessions,
    Throttle,
    csrf_ok,
    read_form,
    same_origin,
)
from briefing.web.desk_actions import DONE, act
from briefing.web.desk_views import day_context, mail_preview, story_context
from briefing.web.pages import Site

log = logging.getLogger(__name__)
Handler = Callable[[Request, Editor], Awaitable[Response]]
BRIEFING_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def check_exposure(config: Config, host: str, loopback: bool) -> None:
    """Refuse to serve the desk beyond loopback over plain http (passwords and sessions)."""
    if loopback or config.web.base_url.startswith("https://") or config.web.allow_http:
        return
    raise ConfigError(
        f"web.base_url: the editor's desk would listen on {host} over plain http; put it "
        'behind a TLS reverse proxy and set [web] base_url = "https://…" (or, on a network '
        "you trust, [web] allow_http = true)"
    )


def _day(request: Request) -> date:
    try:
        return date.fromisoformat(request.path_params["day"])
    except ValueError:
        raise HTTPException(404) from None


@dataclass
class Desk:
    """The desk's routes over a site, a config and a store."""

    site: Site
    config: Config
    store: Store
    sessions: Sessions | None = None
    throttle: Throttle = field(default_factory=Throttle)

    def __post_init__(self) -> None:
        if self.sessions is None:
            self.sessions = Sessions(session_key(self.store, self.config), self.config, self.store)

    @property
    def auth(self) -> Sessions:
        assert self.sessions is not None
        return self.sessions

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.site._render(f"desk/{template}", "/", **context)
        return HTMLResponse(html, status, headers={"cache-control": "no-store"})

    def guarded(self, handler: Handler, *, post: bool = False) -> Callable[..., Any]:
        """Wrap a handler: signed-in editors only; posts need the CSRF token and our Origin."""

        async def endpoint(request: Request) -> Response:
            editor = await run_in_threadpool(self.auth.editor, request)
            if editor is None:
                if post:
                    return Response("Sign in first.\n", 401)
                return RedirectResponse("/desk/login", 303)
            if post:
                form = await read_form(request)
                if not same_origin(request) or not csrf_ok(editor, form):
                    log.warning(
                        "refused a desk form from %s: bad CSRF token or origin", editor.email
                    )
                    return Response("This form has expired: reload the page.\n", 403)
                request.state.form = form
            return await handler(request, editor)

        return endpoint

    async def home(self, request: Request, editor: Editor) -> Response:
        day = await run_in_threadpool(open_day, self.store, self.config)
        return RedirectResponse(f"/desk/{day.isoformat()}/", 303)

    async def day_page(self, request: Request, editor: Editor) -> Response:
        day = _day(request)
        context = await run_in_threadpool(day_context, self.store, self.config, day)
        done = DONE.get(request.query_params.get("done", ""), "")
        return self.render("day.html.j2", editor=editor, done=done, **context)

    async def story_page(self, request: Request, editor: Editor) -> Response:
        day, story_id = _day(request), request.path_params["story_id"]
        context = await run_in_threadpool(story_context, self.store, self.config, day, story_id)
        if context is None:
            raise HTTPException(404)
        done = DONE.get(request.query_params.get("done", ""), "")
        return self.render("story.html.j2", editor=editor, done=done, **context)

    async def draft_file(self, request: Request, editor: Editor) -> Response:
        day, name = _day(request), request.path_params["name"]
        paths = draft_paths(self.config, day)
        files = {"draft.html": (paths.html, "text/html; charset=utf-8"),
                 "draft.pdf": (paths.pdf, "application/pdf")}  # fmt: skip
        if name == "mail.html":
            html = await run_in_threadpool(mail_preview, self.config, day)
            return HTMLResponse(html, headers={"content-security-policy": BRIEFING_CSP})
        if name not in files or not files[name][0].is_file():
            raise HTTPException(404)
        path, kind = files[name]
        headers = {"content-security-policy": BRIEFING_CSP, "cache-control": "no-store"}
        return FileResponse(path, media_type=kind, headers=headers)

    async def act(self, request: Request, editor: Editor) -> Response:
        day, form = _day(request), request.state.form
        try:
            where = await run_in_threadpool(act, self.store, self.config, day, editor.email, form)
        except BriefingError as exc:
            context = await run_in_threadpool(day_context, self.store, self.config, day)
            return self.render("day.html.j2", 409, editor=editor, error=str(exc), done="",
                               **context)  # fmt: skip
        return RedirectResponse(where, 303)

    async def login_page(self, request: Request) -> Response:
        return self._login_form(request)

    def _login_form(self, request: Request, status: int = 200, error: str = "") -> Response:
        token, cookie = self.auth.login_token()
        response = self.render("login.html.j2", status, token=token, error=error)
        self.auth.set_cookie(response, LOGIN_COOKIE, cookie, 3600)
        return response

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        if not same_origin(request) or not self.auth.login_token_ok(request, form.get("csrf", "")):
            return self._login_form(request, 403, "The sign-in form expired: try again.")
        client = request.client.host if request.client else "?"
        if not self.throttle.allow(client):
            return self._login_form(request, 429, "Too many attempts: wait a few minutes.")
        email, password = form.get("email", "").strip(), form.get("password", "")
        result = await run_in_threadpool(check_password, self.store, self.config, email, password)
        if result is SignIn.LOCKED:
            log.warning("sign-in refused for %r from %s: account locked", email[:80], client)
            return self._login_form(request, 429, "Too many wrong passwords: this account is "
                                    "locked for 15 minutes.")  # fmt: skip
        if result is SignIn.WRONG:
            log.warning("wrong sign-in for %r from %s", email[:80], client)
            return self._login_form(request, 401, "Wrong address or password.")
        editor = self.config.editor(email)
        assert editor is not None
        response = RedirectResponse("/desk/", 303)
        max_age = int(self.auth.max_age)
        cookie = await run_in_threadpool(self.auth.issue, editor.email)
        self.auth.set_cookie(response, SESSION_COOKIE, cookie, max_age)
        response.delete_cookie(LOGIN_COOKIE, path="/desk")
        log.info("editor %s signed in from %s", editor.email, client)
        return response

    async def logout(self, request: Request, editor: Editor) -> Response:
        response = RedirectResponse("/desk/login", 303)
        response.delete_cookie(SESSION_COOKIE, path="/desk")
        return response

    def routes(self) -> list[Route]:
        """Return the desk's routes, to mount beside the archive's."""
        return [
            Route("/desk/login", self.login_page, methods=["GET"]),
            Route("/desk/login", self.login, methods=["POST"]),
            Route("/desk/logout", self.guarded(self.logout, post=True), methods=["POST"]),
            Route("/desk/", self.guarded(self.home), methods=["GET"]),
            Route("/desk/{day}/", self.guarded(self.day_page), methods=["GET"]),
            Route("/desk/{day}/act", self.guarded(self.act, post=True), methods=["POST"]),
            Route("/desk/{day}/story/{story_id}", self.guarded(self.story_page), methods=["GET"]),
            Route("/desk/{day}/{name}", self.guarded(self.draft_file), methods=["GET"]),
        ]
