"""The desk end to end in a real headless Chromium (Debian's), driven by Playwright: sign in,
rename a story, merge two, drop a quote, approve; the mail that reaches a real SMTP server
(aiosmtpd) carries the new headline and not the dropped quote; the next day keeps both."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from desk_fixture import DAY1, DAY2, EDITOR, PASSWORD, newsroom, story_of
from support.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from support.smtp import LoopbackController, Recorder

from briefing.output.archive import load_briefing
from briefing.stages.build import build_day
from briefing.stages.group import group_pending
from briefing.stages.review import build_draft
from briefing.web.app import LOOPBACK_HOSTS, create_app
from briefing.web.desk import Desk
from briefing.web.pages import Site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")
READER = "reader@example.org"
HEADLINE = "Kim and Putin meet at the cosmodrome"
DROPPED = "This quote was misread from a caption"


@pytest.fixture
def smtp(smtp_server: tuple[Recorder, LoopbackController]) -> tuple[Recorder, int]:
    recorder, controller = smtp_server
    return recorder, controller.port


@pytest.fixture
def served(smtp, tmp_path: Path) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Serve the archive and the desk with uvicorn on a free loopback port."""
    import uvicorn

    recorder, port = smtp
    mail = {"smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5}}
    config, store = newsroom(tmp_path, mail=mail)
    build_draft(store, config, DAY1)
    site = Site(config.archive.dir, store, "Morning Briefing", config.tz)
    app = create_app(site, allowed_hosts=LOOPBACK_HOSTS, desk=Desk(site, config, store))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    uv_config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(uv_config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield {"url": f"http://127.0.0.1:{listener.getsockname()[1]}", "config": config,
               "store": store, "smtp": recorder}  # fmt: skip
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def test_sign_in_correct_approve_and_the_mail_and_next_day_follow(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, config, recorder = served["store"], served["config"], served["smtp"]
    nk = story_of(store, "yna-0913-kim-putin")
    noto, malatya = (
        story_of(store, "kyodo-0913-noto-quake"),
        story_of(store, "aa-0913-malatya-quake"),
    )
    clicks = 0
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(served["url"] + "/desk/")
            page.wait_for_url("**/desk/login")
            page.fill("#email", EDITOR)
            page.fill("#password", PASSWORD)
            page.click("button:has-text('Sign in')")
            page.wait_for_url("**/desk/2023-09-13/")
            assert page.locator(".desk-story").count() == 4
            if keep := os.environ.get("BRIEFING_KEEP_DESK_SCREENSHOT"):  # to look at it
                page.screenshot(path=keep, full_page=True)

            card = page.locator(f"#desk-{nk}")
            card.locator("input[name=headline]").fill(HEADLINE)
            card.locator("button:has-text('Save headline')").click()
            clicks += 1
            page.wait_for_url("**?done=rename")
            assert page.locator(f"#desk-{nk} input[name=headline]").input_value() == HEADLINE

            page.locator(f"#desk-{noto} select[name=into]").select_option(malatya)
            page.locator(f"#desk-{noto} button:has-text('Merge into')").click()
            clicks += 2
            page.wait_for_url("**?done=merge")
            assert page.locator(".desk-story").count() == 3

            quote = page.locator(f"#desk-{nk} li.desk-quote", has_text=DROPPED)
            quote.locator("button:has-text('Drop quote')").click()
            clicks += 1
            page.wait_for_url("**?done=quote_drop")
            assert page.locator(f"#desk-{nk} li.desk-quote", has_text=DROPPED).count() == 0

            page.goto(served["url"] + "/desk/2023-09-13/draft.html")  # as subscribers get it
            assert HEADLINE in page.content() and DROPPED not in page.content()
            page.go_back()
            page.locator(f"#desk-{nk} a:has-text('history')").click()
            history = page.locator(".desk-history li").all_inner_texts()
            assert any("headline “Kim and Putin" in line for line in history)
            assert any("dropped the quote" in line and EDITOR in line for line in history)
            page.go_back()

            page.locator("button:has-text('Approve')").first.click()  # late: goes out at once
            clicks += 1
            page.wait_for_url("**?done=approve")
            assert "Approved" in page.locator(".edition-status").inner_text()
        finally:
            browser.close()
    assert clicks == 5  # Save headline, Merge (choose + click), Drop quote, Approve
    (message,) = recorder.to(READER)
    text = message.parsed().get_body(("plain",)).get_content()
    html = message.parsed().get_body(("html",)).get_content()
    assert HEADLINE in text and HEADLINE in html
    assert DROPPED not in text and DROPPED not in html

    group_pending(store, config, now=config.briefing_due(DAY2))
    build_day(store, config, DAY2)
    next_day = load_briefing(config.archive.dir, DAY2)
    stories = {s.id: s for s in (*next_day.stories, *next_day.also_noted)}
    assert stories[nk].headline == HEADLINE
    urls = {source.url.rsplit("/", 1)[1] for source in stories[malatya].sources}
    assert {"kyodo-0913-noto-quake", "aa-0914-malatya-aftershock"} <= urls
    assert noto not in stories
