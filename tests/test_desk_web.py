"""The desk's security in the web app: no session, a wrong CSRF token, an expired session,
guessing passwords, and listening beyond loopback are all refused, with no side effect."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from desk_fixture import DAY1, EDITOR, PASSWORD, AppClient, newsroom, story_of
from support.clock import Clock
from typer.testing import CliRunner

from briefing.cli import app as cli_app
from briefing.errors import ConfigError
from briefing.stages.editors import MAX_FAILURES, set_password
from briefing.stages.review import build_draft, edition
from briefing.store.models import Decision, Delivery, EditorAccount
from briefing.web.app import create_app
from briefing.web.auth import SESSION_COOKIE, Sessions, Throttle
from briefing.web.desk import Desk, check_exposure
from briefing.web.desk_actions import DONE
from briefing.web.pages import Site

ACT = "/desk/2023-09-13/act"


@pytest.fixture
def desk(tmp_path: Path) -> dict[str, Any]:
    config, store = newsroom(tmp_path)
    build_draft(store, config, DAY1)
    site = Site(config.archive.dir, store, "Morning Briefing", config.tz)
    clock = Clock(1_000_000.0)
    desk = Desk(site, config, store, Sessions("k" * 40, config, store, clock), Throttle(attempts=8))
    return {"config": config, "store": store, "clock": clock, "app": create_app(site, desk=desk)}


@pytest.fixture
def client(desk: dict[str, Any]):  # type: ignore[no-untyped-def]
    opened = AppClient(desk["app"])
    yield opened
    opened.close()


def sign_in(client: AppClient, email: str = EDITOR, password: str = PASSWORD) -> Any:
    form = client.get("/desk/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]
    return client.post("/desk/login", data={"csrf": token, "email": email, "password": password},
                       follow_redirects=False)  # fmt: skip


def csrf_of(client: AppClient) -> str:
    page = client.get("/desk/2023-09-13/")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]


def nothing_changed(store) -> None:  # type: ignore[no-untyped-def]
    with store.session() as session:
        assert session.query(Decision).count() == 0
        assert session.query(Delivery).count() == 0
    row = edition(store, DAY1)
    assert row is not None and row.status == "draft"


def every_form(store) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    story = story_of(store, "yna-0913-kim-putin")
    other = story_of(store, "kyodo-0913-g7")
    common = {"story": story, "article": "ap-0913-kim-putin", "into": other, "to": "new",
              "headline": "Hijacked", "section": "Also noted", "quote": "We will always be",
              "speaker": "X", "source": "yonhap", "name": "Y", "note": "Z"}  # fmt: skip
    return [{**common, "action": action} for action in DONE]


def test_sign_in_then_the_desk_with_safe_cookies(desk: dict[str, Any], client: AppClient) -> None:
    assert client.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"
    response = sign_in(client)
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/desk" in cookie
    page = client.get("/desk/")
    assert page.url.path == "/desk/2023-09-13/" and "Approve and send now" in page.text
    assert "script" not in page.headers["content-security-policy"]
    assert "<script" not in page.text
    story = story_of(desk["store"], "yna-0913-kim-putin")
    form = {"csrf": csrf_of(client), "action": "rename", "story": story,
            "headline": "<script>alert(1)</script>", "back": "/desk/2023-09-13/"}  # fmt: skip
    assert client.post(ACT, data=form, follow_redirects=False).status_code == 303
    page = client.get(f"/desk/2023-09-13/story/{story}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "editor@example.org · headline" in page.text  # the history


def test_every_editing_route_refuses_without_a_session(
    desk: dict[str, Any], client: AppClient
) -> None:
    for form in every_form(desk["store"]):
        response = client.post(ACT, data=form, follow_redirects=False)
        assert response.status_code == 401, form["action"]
    assert client.post("/desk/logout", follow_redirects=False).status_code == 401
    for path in ("/desk/2023-09-13/", "/desk/2023-09-13/draft.html", "/desk/2023-09-13/mail.html"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/desk/login"
    nothing_changed(desk["store"])
    assert client.get("/2023/09/13/briefing.html").status_code == 404  # the draft is not public


def test_a_wrong_or_missing_csrf_token_or_another_origin_is_refused(
    desk: dict[str, Any], client: AppClient
) -> None:
    sign_in(client)
    token = csrf_of(client)
    for form in every_form(desk["store"]):
        assert client.post(ACT, data={**form, "csrf": "forged"}).status_code == 403
        assert client.post(ACT, data=form).status_code == 403
        for evil in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
            assert client.post(ACT, data={**form, "csrf": token}, headers=evil).status_code == 403
    nothing_changed(desk["store"])


def test_an_expired_or_tampered_session_is_refused(desk: dict[str, Any], client: AppClient) -> None:
    sign_in(client)
    token = csrf_of(client)
    desk["clock"].now += desk["config"].review.session_hours * 3600 + 1
    for form in every_form(desk["store"]):
        assert client.post(ACT, data={**form, "csrf": token}).status_code == 401
    assert client.get("/desk/2023-09-13/", follow_redirects=False).status_code == 303
    desk["clock"].now -= 3600  # valid again by the clock, but tampered with:
    value = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"),
                       path="/desk")  # fmt: skip
    assert client.post(ACT, data={**every_form(desk["store"])[0], "csrf": token}).status_code == 401
    nothing_changed(desk["store"])


def test_a_new_password_signs_old_sessions_out(desk: dict[str, Any], client: AppClient) -> None:
    sign_in(client)
    token = csrf_of(client)
    set_password(desk["store"], desk["config"], EDITOR, "another long password")
    assert client.post(ACT, data={**every_form(desk["store"])[0], "csrf": token}).status_code == 401
    nothing_changed(desk["store"])


def test_guessing_passwords_locks_the_account(desk: dict[str, Any], client: AppClient) -> None:
    for _ in range(MAX_FAILURES - 1):
        assert sign_in(client, password="wrong guess").status_code == 401
    locked = sign_in(client, password="wrong guess")
    assert locked.status_code == 429 and "locked" in locked.text
    right = sign_in(client)  # even the right password, while locked
    assert right.status_code == 429 and SESSION_COOKIE not in right.headers.get("set-cookie", "")
    with desk["store"].session() as session:
        assert session.get(EditorAccount, EDITOR).locked_until is not None  # type: ignore[union-attr]
    assert sign_in(client, email="nobody@example.org").status_code == 401
    # The throttle allows a client address 8 attempts, whatever the account: a ninth waits.
    assert sign_in(client, email="other@example.org").status_code == 401
    assert sign_in(client, email="other@example.org").status_code == 429
    nothing_changed(desk["store"])


def test_the_sign_in_form_needs_its_own_token(desk: dict[str, Any], client: AppClient) -> None:
    data = {"csrf": "made-up", "email": EDITOR, "password": PASSWORD}
    response = client.post("/desk/login", data=data, follow_redirects=False)
    assert response.status_code == 403 and SESSION_COOKIE not in str(response.headers)


def test_the_desk_refuses_plain_http_beyond_loopback(tmp_path: Path) -> None:
    config, _store = newsroom(tmp_path)
    check_exposure(config, "127.0.0.1", True)
    with pytest.raises(ConfigError, match="TLS reverse proxy"):
        check_exposure(config, "0.0.0.0", False)
    https, _ = newsroom(tmp_path / "b", web={"base_url": "https://briefing.example.org"})
    check_exposure(https, "0.0.0.0", False)
    allowed, _ = newsroom(tmp_path / "c", web={"allow_http": True})
    check_exposure(allowed, "0.0.0.0", False)


def test_serve_with_editors_on_a_public_address_exits_with_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "briefing.toml").write_text('[[editors]]\nemail = "editor@example.org"\n')
    served: list[Any] = []
    monkeypatch.setattr("briefing.cli.archive.run_server", lambda *args: served.append(args))
    runner = CliRunner()
    config = ["--config", str(tmp_path / "briefing.toml")]
    refused = runner.invoke(cli_app, ["serve", "--host", "0.0.0.0", *config])
    assert refused.exit_code == 2 and "TLS reverse proxy" in refused.stderr and not served
    local = runner.invoke(cli_app, ["serve", *config])
    assert local.exit_code == 0 and "/desk/" in local.stderr and len(served) == 1


def test_a_lock_ends_after_its_time_and_hashes_are_argon2id(desk: dict[str, Any]) -> None:
    from datetime import timedelta

    from briefing.stages.editors import LOCKOUT, SignIn, check_password
    from briefing.store.models import utcnow

    store, config, start = desk["store"], desk["config"], utcnow()
    results = [check_password(store, config, EDITOR, "wrong guess", start) for _ in range(5)]
    assert results[-1] is SignIn.LOCKED
    later = start + LOCKOUT - timedelta(seconds=1)
    assert check_password(store, config, EDITOR, PASSWORD, later) is SignIn.LOCKED
    after = start + LOCKOUT + timedelta(seconds=1)
    assert check_password(store, config, EDITOR, PASSWORD, after) is SignIn.OK
    with store.session() as session:
        assert session.get(EditorAccount, EDITOR).password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
