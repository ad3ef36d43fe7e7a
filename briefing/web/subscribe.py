"""The subscription pages: subscribe (double opt-in), confirm, manage, one-click unsubscribe.

A GET never changes anything (mail scanners open links); each change is a POST to the
token's own address. The unsubscribe POST needs nothing else, so the URL in the
List-Unsubscribe header works as RFC 8058's one-click unsubscribe. Answers do not tell
whether an address is subscribed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from briefing.config import Config
from briefing.errors import MailError
from briefing.mail.transport import Transport
from briefing.stages import subscriptions
from briefing.web.pages import Site

log = logging.getLogger(__name__)
MAX_FORM_BYTES = 16_384
MAX_TOKEN = 600
_LANGUAGE = re.compile(r"[a-z]{2,3}")  # an ISO 639 code, as the manage page offers them


@dataclass
class Subscriptions:
    """What the subscription pages need: the store (via site), the config, a way to mail."""

    site: Site
    config: Config
    transport: Transport | None = None  # None: SMTP or the outbox, as configured

    @property
    def topics(self) -> list[str]:
        return [topic.name for topic in self.config.topics]

    def page(self, template: str, root: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render one of the subscription pages."""
        return HTMLResponse(self.site.render(template, root, **context), status)

    def notice(self, root: str, heading: str, message: str, status: int = 200) -> HTMLResponse:
        """Render a page that only says what happened."""
        return self.page("notice.html.j2", root, status, heading=heading, message=message)


async def _form(request: Request) -> FormData:
    """Read a small urlencoded or multipart form (RFC 8058 allows either), or answer 413.

    A body without a Content-Length (chunked) is not read at all: nothing here needs one
    that large, and an unsubscribe needs none.
    """
    length = request.headers.get("content-length")
    if length is None:
        return FormData()
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        raise HTTPException(413)
    return await request.form(max_files=0, max_fields=50, max_part_size=MAX_FORM_BYTES)


def _token(request: Request) -> str:
    token = str(request.path_params["token"])
    if len(token) > MAX_TOKEN:
        raise HTTPException(404)
    return token


def _languages(form: FormData) -> list[str] | None:
    """Return the ticked languages, or None when the form did not offer the choice."""
    if form.get("languages_shown") != "1":
        return None  # a page without the choice leaves the subscriber's languages as they were
    ticked = [str(value) for value in form.getlist("language")]
    return [code for code in ticked if _LANGUAGE.fullmatch(code)][:200]


def _choices(form: FormData, known: list[str]) -> tuple[list[str], bool]:
    chosen = [str(value) for value in form.getlist("topic") if str(value) in known]
    return chosen, form.get("pdf") == "yes"


def subscription_routes(subs: Subscriptions) -> list[Route]:
    """Return the routes of the subscription pages."""
    store, config = subs.site.store, subs.config
    enabled = bool(config.web.base_url)

    def subscribe_form(**extra: Any) -> HTMLResponse:
        context = {"enabled": enabled, "topics": subs.topics, "email": "", "chosen": []}
        context = {**context, "pdf": config.mail.attach_pdf, "error": None, **extra}
        return subs.page("subscribe.html.j2", "", 400 if context["error"] else 200, **context)

    async def subscribe(request: Request) -> Response:
        if request.method != "POST" or not enabled:
            return subscribe_form()
        form = await _form(request)
        email = str(form.get("email", ""))[:254]
        chosen, pdf = _choices(form, subs.topics)
        try:
            await run_in_threadpool(
                subscriptions.request_subscription,
                store, config, email, chosen, pdf, transport=subs.transport,
            )  # fmt: skip
        except MailError as exc:
            log.info("subscribe refused: %s", exc)
            return subscribe_form(error=str(exc), email=email, chosen=chosen, pdf=pdf)
        return subs.notice(
            "",
            "Check your inbox",
            f"If {email} can receive mail, a confirmation link is on its way. Nothing is "
            "sent until you open it and confirm.",
        )

    async def confirm(request: Request) -> Response:
        token, root = _token(request), "../../"
        if request.method != "POST":
            return subs.page("confirm.html.j2", root)
        outcome, email = await run_in_threadpool(
            subscriptions.confirm_subscription, store, config, token
        )
        if outcome == "invalid":
            return subs.notice(root, "This link does not work", _EXPIRED, 400)
        if outcome == "unchanged":
            return subs.notice(root, "Already confirmed", "This link was used already.")
        return subs.notice(root, "Subscribed", f"{email} will receive {config.briefing.title}.")

    async def manage(request: Request) -> Response:
        token, root = _token(request), "../"
        saved = None
        offered = await run_in_threadpool(subscriptions.offered_languages, store, config)
        if request.method == "POST":
            form = await _form(request)
            chosen, pdf = _choices(form, subs.topics)
            spoken = _languages(form)
            saved = await run_in_threadpool(
                subscriptions.change_subscription, store, config, token, chosen, pdf, spoken
            )
        view = await run_in_threadpool(subscriptions.view_subscription, store, config, token)
        if view is None:
            return subs.notice(root, "This link does not work", _STALE, 400)
        pdf_default = config.mail.attach_pdf if view.attach_pdf is None else view.attach_pdf
        return subs.page(
            "manage.html.j2",
            root,
            view=view,
            topics=subs.topics,
            saved=saved,
            pdf=pdf_default,
            languages=sorted({*offered, *view.languages}),
        )

    async def unsubscribe(request: Request) -> Response:
        token, root = _token(request), "../"
        if request.method != "POST":
            return subs.page("unsubscribe.html.j2", root)
        form = await _form(request)
        one_click = form.get("List-Unsubscribe") == "One-Click"
        outcome = await run_in_threadpool(
            subscriptions.unsubscribe, store, config, token, via="one-click" if one_click else "web"
        )
        if outcome == "invalid":
            return subs.notice(root, "This link does not work", _STALE, 400)
        return subs.notice(
            root, "Unsubscribed", "You will receive no more briefings at this address."
        )

    both = ["GET", "HEAD", "POST"]
    return [
        Route("/subscribe", subscribe, methods=both),
        Route("/subscribe/confirm/{token}", confirm, methods=both),
        Route("/manage/{token}", manage, methods=both),
        Route("/unsubscribe/{token}", unsubscribe, methods=both),
    ]


_EXPIRED = (
    "The confirmation link is incomplete or older than seven days. Subscribe again to get a "
    "new one."
)
_STALE = (
    "The link is incomplete, or it belongs to an earlier subscription. Use the link in your "
    "latest briefing."
)
