"""axe-core finds no violation, light or dark, on the briefing, the mail and every web page.

Runs in Debian's Chromium through Playwright; axe-core comes from the npm registry, pinned in
tests/axe/package-lock.json and installed by .ci/browser-deps (which `make test` runs).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from support.briefings import NOW, SENDER, make_briefing
from support.browser import CHROMIUM, CHROMIUM_ARGS
from support.web import make_archive

from briefing.config import parse_config
from briefing.mail.message import MailLinks, Recipient, build_message
from briefing.stages.subscribers import active_recipients, add_subscriber
from briefing.stages.subscriptions import subscriber_links
from briefing.web.app import LOOPBACK_HOSTS, create_app
from briefing.web.subscribe import Subscriptions

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCHEMES = ("light", "dark")
VIEWPORTS = ({"width": 1280, "height": 900}, {"width": 375, "height": 800})

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="bash .ci/browser-deps installs chromium"),
    pytest.mark.skipif(not AXE.exists(), reason="bash .ci/browser-deps installs axe-core"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


def mail_html() -> str:
    """The briefing mail's HTML part, with every link a subscriber gets."""
    base = "https://briefing.example.org/"
    links = MailLinks(f"{base}2024/05/14/briefing.html", f"{base}unsubscribe/t", f"{base}manage/t")
    message = build_message(
        make_briefing(),
        Recipient("desk@example.org", topics=()),
        sender=SENDER,
        message_id="<a11y@example.org>",
        now=NOW,
        links=links,
    )
    return str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """Serve the archive and the subscription pages; return the address and the pages."""
    import uvicorn

    tmp_path = tmp_path_factory.mktemp("a11y")
    archive = make_archive(tmp_path)
    config = parse_config(
        {
            "store": {"url": f"sqlite:///{tmp_path / 'briefing.db'}"},
            "topics": [{"name": "DPRK–Russia arms talks"}, {"name": "Weather"}],
            "web": {"base_url": "https://briefing.example.org/"},
        },
        base_dir=tmp_path,
    )
    add_subscriber(archive.store, config, "reader@example.org")
    recipients, _ = active_recipients(archive.store, config)
    links = subscriber_links(archive.store, config, recipients, archive.site.days()[0])
    mine = links["reader@example.org"]
    assert mine.manage and mine.unsubscribe
    app = create_app(
        archive.site,
        allowed_hosts=LOOPBACK_HOSTS,
        subscriptions=Subscriptions(archive.site, config),
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    pages = [
        "/",
        "/2024/05/",
        "/2024/05/14/",
        "/2024/05/14/briefing.html",
        "/stories/",
        "/stories/s-arms.html",
        "/search?q=arms",
        "/no/such/page",
        "/subscribe",
        "/subscribe/confirm/anything",
        "/" + mine.manage.split("/", 3)[3],
        "/" + mine.unsubscribe.split("/", 3)[3],
    ]
    try:
        yield f"http://127.0.0.1:{port}", pages
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def violations(page: Any) -> list[str]:
    """Run axe-core on the page; return each violation with the elements it found."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes']][:4]}"
        for item in result["violations"]
    ]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda size: f"{size['width']}px")
@pytest.mark.parametrize("scheme", SCHEMES)
def test_web_pages_and_the_briefing_have_no_axe_violations(
    browser: Any, site: tuple[str, list[str]], scheme: str, viewport: dict[str, int]
) -> None:
    address, pages = site
    # The app forbids scripts by CSP: the test context lets axe in, as a reader's tools would.
    context = browser.new_context(bypass_csp=True, color_scheme=scheme, viewport=viewport)
    found = {}
    try:
        page = context.new_page()
        for path in pages:
            page.goto(address + path)
            if seen := violations(page):
                found[path] = seen
    finally:
        context.close()
    assert found == {}, "\n".join(f"{path}: {seen}" for path, seen in found.items())


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda size: f"{size['width']}px")
@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_mail_has_no_axe_violations(
    browser: Any, scheme: str, viewport: dict[str, int]
) -> None:
    context = browser.new_context(color_scheme=scheme, viewport=viewport)
    try:
        page = context.new_page()
        page.set_content(mail_html())
        if scheme == "dark":  # the dark block applies: the page is not the light one
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(23, 24, 27)"
        assert violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_developing_story_with_new_badges_reads_in_both_schemes(
    browser: Any, scheme: str
) -> None:
    from support.stories import END, STORIES

    from briefing.briefs.compose import compose
    from briefing.output.render import render_html

    # One article of each story was in yesterday's briefing: the others are new today.
    earlier = frozenset(s.articles[0].id for s in STORIES if len(s.articles) > 1)
    briefing = compose(
        STORIES,
        day=END.date(),
        title="Morning Briefing",
        timezone="Asia/Seoul",
        window_start=END - timedelta(hours=24),
        window_end=END,
        previous_article_ids=earlier,
        generated_at=END,
    )
    html = render_html(briefing)
    assert 'class="new-badge"' in html
    context = browser.new_context(bypass_csp=True, color_scheme=scheme, viewport=VIEWPORTS[1])
    try:
        page = context.new_page()
        page.set_content(html)
        assert violations(page) == []
    finally:
        context.close()
