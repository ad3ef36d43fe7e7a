"""Subscriptions that run themselves: signed links, one-click unsubscribe, and subscribe →
confirm → receive → manage topics → unsubscribe end to end over a real SMTP server."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from support.briefings import DAY, NOW, WATCH, archive
from support.clock import Clock
from support.config import BASE_URL as BASE
from support.config import reader_config as make_config
from support.smtp import LoopbackController, Recorder

from briefing.config import Config, parse_config
from briefing.stages.send import send_briefing
from briefing.stages.subscribers import active_recipients, add_subscriber, left_by_link
from briefing.stages.subscriptions import subscriber_links, unsubscribe
from briefing.stages.tokens import LinkSigner, link_signer
from briefing.store.engine import Store
from briefing.store.models import Subscriber, SubscriptionEvent
from briefing.web.app import create_app
from briefing.web.pages import Site
from briefing.web.subscribe import Subscriptions

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def smtp(smtp_server: tuple[Recorder, LoopbackController]) -> tuple[Recorder, LoopbackController]:
    return smtp_server


class Browser:
    """An in-process client over the web app (no socket): GET and POST as a person would."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())


def web(store: Store, config: Config, transport: Any = None) -> Browser:
    site = Site(config.archive.dir, store, config.briefing.title, config.tz)
    subs = Subscriptions(site, config, transport=transport)
    return Browser(create_app(site, subscriptions=subs))


class Links(HTMLParser):
    """Collect every href of an HTML part."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def hrefs(message: EmailMessage) -> list[str]:
    parser = Links()
    parser.feed(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    return parser.hrefs


def path_of(url: str) -> str:
    assert url.startswith(BASE), url
    return "/" + url.removeprefix(BASE)


def one_link(message: EmailMessage, kind: str) -> str:
    found = {url for url in hrefs(message) if url.startswith(f"{BASE}{kind}/")}
    assert len(found) == 1, (kind, found)
    return found.pop()


def header_link(message: EmailMessage) -> str:
    https = re.findall(r"<(https://[^>]+)>", str(message["List-Unsubscribe"]))
    assert len(https) == 1
    return https[0]


def events(store: Store, email: str | None = None) -> list[SubscriptionEvent]:
    with store.session() as session:
        query = select(SubscriptionEvent).order_by(SubscriptionEvent.id)
        if email is not None:
            query = query.where(SubscriptionEvent.email == email)
        return list(session.scalars(query))


# --- tokens ------------------------------------------------------------------------------


def test_tokens_are_bound_to_one_purpose_one_subscriber_and_one_key() -> None:
    signer, other = LinkSigner(b"k" * 32), LinkSigner(b"j" * 32)
    token = signer.subscriber_token("unsubscribe", 7, 2)
    assert signer.read_subscriber("unsubscribe", token) == (7, 2)
    assert signer.read_subscriber("manage", token) is None  # another purpose
    assert other.read_subscriber("unsubscribe", token) is None  # another key
    _payload, signature = token.split(".")
    forged = signer.subscriber_token("unsubscribe", 8, 2).split(".")[0] + "." + signature
    assert signer.read_subscriber("unsubscribe", forged) is None  # another subscriber
    for index in (0, len(token) // 2, len(token) - 1):
        flipped = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
        assert signer.read_subscriber("unsubscribe", flipped) is None


def test_the_key_is_made_once_in_the_store_or_read_from_the_environment(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, None)
    monkeypatch.delenv("BRIEFING_SECRET_KEY", raising=False)
    first, second = link_signer(store, config), link_signer(store, config)
    assert first.key == second.key and len(first.key) >= 32
    monkeypatch.setenv("BRIEFING_SECRET_KEY", "s" * 40)
    assert link_signer(store, config).key == b"s" * 40


def test_one_click_unsubscribes_exactly_that_subscriber_once(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, None, "config@example.org")
    for address in ("a@example.org", "b@example.org"):
        add_subscriber(store, config, address)
    recipients, _ = active_recipients(store, config)
    links = subscriber_links(store, config, recipients, DAY)
    browser = web(store, config)
    url = links["a@example.org"].unsubscribe
    assert url is not None

    assert browser.request("GET", path_of(url)).status_code == 200  # a page, nothing changed
    assert len(active_recipients(store, config)[0]) == 3

    answer = browser.request("POST", path_of(url), data=ONE_CLICK)
    assert answer.status_code == 200
    left = sorted(r.email for r in active_recipients(store, config)[0])
    assert left == ["b@example.org", "config@example.org"]
    logged = events(store, "a@example.org")
    assert [(e.action, e.via) for e in logged][-1] == ("unsubscribed", "one-click")

    before = len(events(store))
    assert browser.request("POST", path_of(url), data=ONE_CLICK).status_code == 200  # replayed
    altered = url[:-3] + ("xyz" if not url.endswith("xyz") else "abc")
    assert browser.request("POST", path_of(altered), data=ONE_CLICK).status_code == 400
    manage = links["b@example.org"].manage
    assert manage is not None  # a manage token cannot unsubscribe
    stolen = f"{BASE}unsubscribe/{manage.rsplit('/', 1)[1]}"
    assert browser.request("POST", path_of(stolen), data=ONE_CLICK).status_code == 400
    assert len(events(store)) == before
    assert sorted(r.email for r in active_recipients(store, config)[0]) == left

    huge = browser.request(
        "POST", path_of(links["b@example.org"].unsubscribe or ""), content=b"x" * 20_000
    )
    assert huge.status_code == 413 and len(active_recipients(store, config)[0]) == 2

    # A config subscriber's one click is honoured too; the config cannot override it.
    config_link = links["config@example.org"].unsubscribe
    assert config_link is not None
    assert browser.request("POST", path_of(config_link), data=ONE_CLICK).status_code == 200
    assert [r.email for r in active_recipients(store, config)[0]] == ["b@example.org"]
    assert left_by_link(store, config) == ["config@example.org"]


def test_an_old_link_does_nothing_after_a_new_subscription(tmp_path: Path, store: Store) -> None:
    config = make_config(tmp_path, None)
    add_subscriber(store, config, "a@example.org")
    recipients, _ = active_recipients(store, config)
    old = subscriber_links(store, config, recipients, DAY)["a@example.org"].unsubscribe
    assert old is not None
    token = old.rsplit("/", 1)[1]
    assert unsubscribe(store, config, token) == "done"
    add_subscriber(store, config, "a@example.org")  # back again
    assert unsubscribe(store, config, token) == "invalid"
    assert [r.email for r in active_recipients(store, config)[0]] == ["a@example.org"]


# --- end to end --------------------------------------------------------------------------


def test_subscribe_confirm_receive_manage_and_unsubscribe_over_smtp(
    tmp_path: Path, store: Store, smtp: tuple[Recorder, LoopbackController]
) -> None:
    recorder, controller = smtp
    config = make_config(tmp_path, controller.port)
    browser = web(store, config)
    reader = "reader@example.org"

    page = browser.request("GET", "/subscribe")
    assert page.status_code == 200 and 'name="topic"' in page.text
    answer = browser.request("POST", "/subscribe", data={"email": reader, "pdf": "yes"})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert active_recipients(store, config)[0] == []  # nothing before confirmation
    again = browser.request("POST", "/subscribe", data={"email": reader})
    assert again.status_code == 200 and len(recorder.to(reader)) == 1  # no second mail so soon

    confirmation = recorder.to(reader)[0].parsed()
    assert confirmation["Subject"] == "Confirm your subscription to Morning Briefing"
    confirm = one_link(confirmation, "subscribe/confirm")
    assert confirm in confirmation.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert browser.request("GET", path_of(confirm)).status_code == 200  # a scanner's GET: no-op
    assert active_recipients(store, config)[0] == []
    assert "Subscribed" in browser.request("POST", path_of(confirm)).text
    assert "Already confirmed" in browser.request("POST", path_of(confirm)).text
    assert [r.email for r in active_recipients(store, config)[0]] == [reader]

    archive(config)
    clock = Clock(NOW)
    report = send_briefing(store, config, DAY, clock=clock)
    assert report.sent == [reader]
    first = recorder.to(reader)[-1].parsed()
    assert "Typhoon season opens" in first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    manage = one_link(first, "manage")
    assert WATCH in browser.request("GET", path_of(manage)).text
    saved = browser.request("POST", path_of(manage), data={"topic": [WATCH]})
    assert saved.status_code == 200 and "Saved" in saved.text
    with store.session() as session:
        row = session.scalars(select(Subscriber).filter_by(email=reader)).one()
        assert row.topics == [WATCH] and row.attach_pdf is False

    next_day = DAY + timedelta(days=1)
    archive(config, next_day)
    clock.now += timedelta(days=1)
    assert send_briefing(store, config, next_day, clock=clock).sent == [reader]
    second = recorder.to(reader)[-1].parsed()
    text = second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "DPRK–Russia arms talks" in text and "Typhoon season opens" not in text
    assert not any(part.get_filename() for part in second.iter_attachments())

    answer = browser.request("POST", path_of(header_link(second)), data=ONE_CLICK)
    assert answer.status_code == 200 and "Unsubscribed" in answer.text
    third_day = next_day + timedelta(days=1)
    archive(config, third_day)
    clock.now += timedelta(days=1)
    assert send_briefing(store, config, third_day, clock=clock).sent == []
    assert len(recorder.to(reader)) == 3  # confirmation, two briefings

    actions = [(event.action, event.via) for event in events(store, reader)]
    assert actions == [
        ("requested", "web"),
        ("confirmed", "web"),
        ("changed", "web"),
        ("unsubscribed", "one-click"),
    ]


def test_subscribing_needs_a_base_url_and_a_valid_address(tmp_path: Path, store: Store) -> None:
    off = web(store, make_config(tmp_path, None, base_url=""))
    assert "base_url" in off.request("GET", "/subscribe").text
    on = web(store, make_config(tmp_path, None))
    bad = on.request("POST", "/subscribe", data={"email": "not an address"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert events(store) == []


@pytest.mark.parametrize("value", ["ftp://briefing.example.org/", "https://x.org/?a=1", "x.org"])
def test_a_bad_base_url_is_a_config_error_naming_the_key(tmp_path: Path, value: str) -> None:
    from briefing.errors import ConfigError

    with pytest.raises(ConfigError, match=r"web\.base_url"):
        parse_config({"web": {"base_url": value}}, base_dir=tmp_path)
    assert make_config(tmp_path, None, base_url="https://x.org/app").web.base_url == (
        "https://x.org/app/"
    )
