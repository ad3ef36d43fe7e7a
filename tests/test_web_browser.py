"""End to end in a real headless Chromium (Debian's), driven by Playwright: index, search,
story, a briefing's PDF, and a screenshot."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT

from briefing.web.app import LOOPBACK_HOSTS, create_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed (bash .ci/browser-deps installs it)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Serve a small archive with uvicorn on a free loopback port, as `briefing serve` does."""
    import uvicorn
    from support.web import make_archive

    archive = make_archive(tmp_path)
    app = create_app(archive.site, allowed_hosts=LOOPBACK_HOSTS)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="none", http="h11", server_header=False
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [listener]})
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uvicorn_server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def png_size(data: bytes) -> tuple[int, int]:
    """Read a PNG's width and height from its header."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_browse_search_read_a_story_and_fetch_a_pdf(server: str, tmp_path: Path) -> None:
    dialogs: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            page.goto(server + "/")
            assert page.locator("h1").inner_text() == "Briefings"
            assert page.locator("article.card").count() == 3
            # The stylesheet loaded under the CSP: the header is laid out as a flex row.
            assert page.locator("header.site").evaluate("e => getComputedStyle(e).display") == (
                "flex"
            )

            page.fill("#q", "arms")
            page.press("#q", "Enter")
            page.wait_for_url("**/search?q=arms")
            first = page.locator("#story-results ~ ol .result h3 a").first
            assert first.inner_text() == "DPRK–Russia arms talks"

            first.click()
            page.wait_for_url("**/stories/s-arms.html")
            # The story page leads with its headline (an article's title), the label as kicker.
            assert page.locator("h1").inner_text() in {
                "Shoigu meets Kim in Pyongyang",
                "Kim hosts Russia's defence chief",
                "Arms talks enter second day",
            }
            assert page.locator("p.kicker").inner_text().lower() == "dprk–russia arms talks"
            assert page.locator(".timeline > li").count() == 2
            assert page.locator(".timeline .articles li").count() == 3
            screenshot = page.screenshot(path=str(tmp_path / "story.png"), full_page=False)

            page.locator(".timeline a.badge").last.click()
            page.wait_for_url("**/2024/05/14/index.html")
            pdf_link = page.locator("a", has_text="View the PDF")
            with page.expect_download() as download_info:
                page.locator("a", has_text="Download the PDF").click()
            download = download_info.value
            assert download.suggested_filename == "briefing-2024-05-14.pdf"
            assert Path(download.path()).read_bytes().startswith(b"%PDF-")

            # Viewed inline: Chromium's PDF viewer wraps the document, so check the response.
            pdf_response = page.expect_response(lambda r: r.url.endswith("/briefing.pdf"))
            with pdf_response as caught, contextlib.suppress(sync_api.Error):
                pdf_link.click()  # a build without the viewer downloads instead: also fine
            response = caught.value
            assert response.status == 200
            assert response.headers["content-type"] == "application/pdf"
            assert response.headers["content-disposition"].startswith("inline;")

            page.goto(server + "/stories/s-hostile.html")
            # The hostile label (kicker) and hostile title (headline) show as text.
            assert "<script>alert(1)</script>" in page.locator("p.kicker").inner_text().lower()
            assert "<img src=x onerror=alert(1)>" in page.locator("h1").inner_text()
            assert page.locator("script").count() == 0
        finally:
            browser.close()
    assert dialogs == [], "a hostile label ran as a script"
    width, height = png_size(screenshot)
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])
    assert len(screenshot) > 10_000
    if keep := os.environ.get("BRIEFING_KEEP_SCREENSHOT"):  # to look at it afterwards
        shutil.copyfile(tmp_path / "story.png", keep)
