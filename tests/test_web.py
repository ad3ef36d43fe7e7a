"""The archive web app: routes, search ranking, safety (traversal, escaping, CSP), feed, export."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
import typer
from support.web import (
    DAYS,
    IMG,
    SCRIPT,
    STORIES,
    ZONE,
    Archive,
    Client,
    fill_store,
    make_archive,
    raw_get,
)
from typer.testing import CliRunner

from briefing.cli import app as cli_app
from briefing.cli import archive as cli_archive
from briefing.cli.archive import open_path
from briefing.network import is_loopback
from briefing.output.archive import paths_for
from briefing.store.engine import Store
from briefing.store.models import Article, Story, StoryArticle, StoryLink
from briefing.store.search import highlight, query_terms, refresh_index, search
from briefing.web.app import APP_CSP, BRIEFING_CSP, create_app, is_hostile_path
from briefing.web.export import ExportError, export_site
from briefing.web.pages import Site


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return make_archive(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def client(archive: Archive) -> Client:
    return Client(create_app(archive.site))


# Routes


def test_index_lists_briefings_newest_first_and_links_month_pages(client: Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    positions = [html.index(f'datetime="{day.isoformat()}"') for day in sorted(DAYS, reverse=True)]
    assert positions == sorted(positions)
    assert 'href="2024/05/index.html">May 2024' in html
    assert 'href="2024/04/index.html">April 2024' in html
    assert client.get("/index.html").text == html


def test_month_page_lists_only_its_days_and_links_its_neighbours(client: Client) -> None:
    may = client.get("/2024/05/")
    assert may.status_code == 200
    assert "Monday 13 May 2024" in may.text and "Tuesday 14 May 2024" in may.text
    assert "30 April" not in may.text.split("<main")[1].split('rel="prev"')[0]
    assert 'rel="prev" href="../../2024/04/index.html"' in may.text
    assert client.get("/2024/05/index.html").text == may.text
    assert client.get("/2024/06/").status_code == 404


def test_day_page_links_the_html_the_pdf_and_the_stories(client: Client) -> None:
    html = client.get("/2024/05/14/").text
    assert 'href="../../../2024/05/14/briefing.html"' in html
    assert 'href="../../../2024/05/14/briefing.pdf" type="application/pdf"' in html
    assert 'download="briefing-2024-05-14.pdf"' in html
    # The story is listed under its headline: one of its articles' real titles.
    link = re.search(r'href="\.\./\.\./\.\./stories/s-arms\.html">([^<]+)</a>', html)
    assert link is not None
    assert link.group(1).replace("&#39;", "'") in {record[4] for record in STORIES[0][2]}
    assert 'rel="prev" href="../../../2024/05/13/index.html"' in html
    assert client.get("/2024/05/14", follow_redirects=True).text == html


def test_pdf_is_served_inline_or_as_a_download(client: Client) -> None:
    inline = client.get("/2024/05/14/briefing.pdf")
    assert inline.status_code == 200
    assert inline.headers["content-type"] == "application/pdf"
    assert inline.content.startswith(b"%PDF-") and b"(2024-05-14)" in inline.content
    assert inline.headers["content-disposition"] == 'inline; filename="briefing-2024-05-14.pdf"'
    download = client.get("/2024/05/14/briefing.pdf?download=1")
    assert download.headers["content-disposition"].startswith("attachment;")


def test_archived_briefing_html_is_served_with_a_csp_that_forbids_scripts(
    client: Client, archive: Archive
) -> None:
    page = client.get("/2024/05/14/briefing.html")
    assert page.status_code == 200
    assert page.content == paths_for(archive.archive_dir, date(2024, 5, 14)).html.read_bytes()
    csp = page.headers["content-security-policy"]
    assert csp == BRIEFING_CSP and "default-src 'none'" in csp and "script-src" not in csp
    assert client.get("/2024/05/14/briefing.json").json()["day"] == "2024-05-14"


def test_story_page_shows_its_timeline_articles_and_briefings(client: Client) -> None:
    page = client.get("/stories/s-arms.html")
    assert page.status_code == 200
    html = page.text
    for title in ("Shoigu meets Kim in Pyongyang", "Arms talks enter second day"):
        assert title in html
    assert 'href="https://yonhap.example/a1" rel="noopener noreferrer nofollow"' in html
    timeline = html.split('id="timeline"')[1]
    monday, tuesday = timeline.index("Monday 13 May 2024"), timeline.index("Tuesday 14 May 2024")
    assert monday < timeline.index("Shoigu meets Kim") < tuesday < timeline.index("second day")
    briefings = html.split('id="briefings"')[1].split('id="timeline"')[0]
    assert "../2024/05/13/index.html" in briefings and "../2024/05/14/index.html" in briefings
    assert "2024/04/30" not in briefings
    assert client.get("/stories/s-missing.html").status_code == 404


def test_stories_page_lists_stories_with_links(client: Client) -> None:
    html = client.get("/stories/").text
    assert 'href="../stories/s-floods.html">Floods in the south</a>' in html
    assert client.get("/stories/index.html").text == html


# Search


def test_search_ranks_the_matching_story_first(archive: Archive) -> None:
    results = search(archive.store, "arms")
    assert [hit.id for hit in results.stories][:2] == ["s-arms", "s-floods"]
    assert results.stories[0].direct and not results.stories[1].direct
    assert {hit.id for hit in results.articles} == {"a1", "a2", "a3", "f1"}
    talks = search(archive.store, "Arms talks")
    assert talks.stories[0].id == "s-arms" and talks.matched_all


def test_search_page_ranks_the_story_first_and_highlights(client: Client) -> None:
    html = client.get("/search", params={"q": "arms"}).text
    stories = html.split('id="story-results"')[1].split('id="article-results"')[0]
    assert stories.index("s-arms.html") < stories.index("s-floods.html")
    assert "<mark>arms</mark>" in html
    assert 'value="arms"' in html


def test_search_matches_word_forms_and_falls_back_to_any_word(archive: Archive) -> None:
    assert [hit.id for hit in search(archive.store, "evacuation").articles] == ["f2"]
    loose = search(archive.store, "harvest zeppelin")
    assert not loose.matched_all and [hit.id for hit in loose.stories] == ["s-april"]
    assert search(archive.store, "   ").stories == ()


def test_search_treats_operators_as_plain_words(archive: Archive) -> None:
    assert query_terms('"arms" AND( NEAR* -talks') == ("arms", "and", "near", "talks")
    assert search(archive.store, 'arms" OR "zzz').stories[0].id == "s-arms"


def test_search_index_follows_the_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    fill_store(store)
    refresh_index(store)
    assert search(store, "typhoon").stories == ()
    moment = datetime(2024, 5, 15, tzinfo=UTC)
    with store.session() as session:
        session.add(Story(id="s-typhoon", label="Typhoon nears Jeju", updated_at=moment))
        session.add(Article(id="t1", url="https://t.example/1", source="t", title="Typhoon"))
        session.flush()
        session.add(StoryArticle(article_id="t1", story_id="s-typhoon"))
    assert search(store, "typhoon").stories == ()  # a search only reads
    assert refresh_index(store) > 0  # the stages refresh after they change the store
    assert [hit.id for hit in search(store, "typhoon").stories] == ["s-typhoon"]
    with store.session() as session:
        typhoon = session.get(Story, "s-typhoon")
        assert typhoon is not None
        typhoon.label, typhoon.updated_at = "Storm nears Jeju", datetime.now(UTC)
    refresh_index(store)
    assert search(store, "storm").stories[0].id == "s-typhoon"
    assert refresh_index(store) == 0  # nothing changed since


def test_highlight_escapes_everything_but_its_marks() -> None:
    shown = highlight(f"\x02{SCRIPT}\x03 & more")
    assert str(shown) == "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark> &amp; more"
    assert "<mark>" not in str(highlight("stray \x02 marker"))


# Safety


@pytest.mark.parametrize(
    "raw",
    [
        b"/2024/05/14/../../../../secret.txt",
        b"/2024/05/14/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        b"/2024/05/14/%2E%2E%2F%2E%2E%2F%2E%2E%2Fsecret.txt",
        b"/2024/05/14/%252e%252e/%252e%252e/secret.txt",
        b"/2024/05/14/..%5c..%5c..%5csecret.txt",
        b"/2024/05/14/%5c..%5csecret.txt",
        b"//etc/passwd",
        b"/2024/05/14/%2Fetc%2Fpasswd",
        b"/etc/passwd",
        b"/2024/05/14/briefing.pdf%00.html",
        b"/2024/05/14/./briefing.pdf",
        b"/stories/..%2F..%2Fsecret.txt",
        b"/static/..%2F..%2Fbriefing%2Fstore.py",
    ],
)
def test_traversal_attempts_are_refused(archive: Archive, raw: bytes) -> None:
    status, body = raw_get(create_app(archive.site), raw)
    assert status in (400, 404)
    assert b"top secret" not in body and b"root:" not in body and b"%PDF" not in body


def test_hostile_paths_are_recognised_in_every_encoding() -> None:
    for path in ("/a/../b", "/a/%2e%2e/b", "/a/%252e%252e/b", "/a\\b", "/a%5cb", "/a%00", "//x"):
        assert is_hostile_path(path), path
    for path in ("/", "/2024/05/14/briefing.pdf", "/search", "/stories/s-1.html", "/a.b/c"):
        assert not is_hostile_path(path), path


def test_a_symlink_out_of_the_archive_is_not_served(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    day = paths_for(tmp_path / "archive", date(2024, 6, 1))
    day.directory.mkdir(parents=True)
    day.html.write_text("<p>ok</p>")
    day.pdf.symlink_to(secret)
    app = create_app(Site(tmp_path / "archive", store, "B", ZONE))
    assert Client(app).get("/2024/06/01/briefing.html").status_code == 200
    leaked = Client(app).get("/2024/06/01/briefing.pdf")
    assert leaked.status_code == 404 and "top secret" not in leaked.text


def test_only_known_file_names_are_served(client: Client) -> None:
    for name in ("secret.txt", "briefing.htm", ".briefing.html.tmp", "BRIEFING.PDF"):
        assert client.get(f"/2024/05/14/{name}").status_code == 404
    assert client.get("/2024/13/40/briefing.pdf").status_code == 404
    assert client.get("/abcd/05/14/briefing.pdf").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/", "/2024/05/14/", "/2024/05/", "/stories/", "/stories/s-hostile.html", "/search?q=hostile"],
)
def test_hostile_labels_and_titles_show_as_inert_text(client: Client, url: str) -> None:
    html = client.get(url).text
    assert "<script" not in html and "<img" not in html
    # The hostile label, or the hostile title now chosen as the headline, shows escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;img src=x" in html
    assert 'href="javascript' not in html


def test_story_page_links_related_stories_as_see_also(tmp_path: Path) -> None:
    archive = make_archive(tmp_path)
    with archive.store.session() as session:
        session.add(StoryLink(story_id="s-floods", related_id="s-arms"))
        session.add(StoryLink(story_id="s-floods", related_id="s-hostile"))
    html = archive.site.story("s-floods") or ""
    see_also = html.split('class="see-also"')[1].split("</p>")[0]
    assert 'See also: <a href="../stories/s-arms.html">DPRK–Russia arms talks</a>' in see_also
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in see_also and SCRIPT not in html
    assert 'class="see-also"' not in (archive.site.story("s-arms") or "")


def test_hostile_article_title_and_link_are_inert_on_the_story_page(client: Client) -> None:
    html = client.get("/stories/s-hostile.html").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<span class="raw-url">javascript:alert(1)</span>' in html


@pytest.mark.parametrize(
    "url",
    ["/", "/search?q=arms", "/stories/s-arms.html", "/feed.xml", "/nowhere", "/static/web.css"],
)
def test_every_response_carries_a_strict_csp_and_security_headers(client: Client, url: str) -> None:
    headers = client.get(url).headers
    assert headers["content-security-policy"] == APP_CSP
    assert "default-src 'none'" in APP_CSP and "frame-ancestors 'none'" in APP_CSP
    assert "script-src" not in APP_CSP and "unsafe" not in APP_CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_the_app_is_read_only(client: Client) -> None:
    for method in ("POST", "PUT", "DELETE"):
        assert client.request(method, "/").status_code == 405
        assert client.request(method, "/2024/05/14/briefing.pdf").status_code == 405


def test_other_host_names_are_refused_on_loopback(archive: Archive) -> None:
    guarded = Client(create_app(archive.site, allowed_hosts=["127.0.0.1", "localhost"]))
    rebound = guarded.get("/", headers={"host": "attacker.example"})
    assert rebound.status_code == 400
    assert guarded.get("/", headers={"host": "127.0.0.1:8080"}).status_code == 200


def test_the_404_page_helps(client: Client) -> None:
    page = client.get("/2023/nothing-<b>here</b>")
    assert page.status_code == 404
    assert 'href="/index.html"' in page.text and 'href="/search"' in page.text
    assert "&lt;b&gt;here&lt;/b&gt;" in page.text and "<b>here" not in page.text


# Feed


def test_atom_feed_parses_and_lists_every_briefing_newest_first(client: Client) -> None:
    response = client.get("/feed.xml")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [entry.id for entry in feed.entries] == [
        f"urn:news-briefing:briefing:{day.isoformat()}" for day in sorted(DAYS, reverse=True)
    ]
    first = feed.entries[0]
    assert first.link == "http://testserver/2024/05/14/briefing.html"
    assert any(e.type == "application/pdf" for e in first.enclosures)
    # escaped in the XML, text again once parsed (the hostile story's headline is a hostile title)
    assert SCRIPT in first.summary or IMG in first.summary


# Static export


def _relative_links(html: str) -> list[str]:
    links = re.findall(r'(?:href|src)="([^"]+)"', html)
    return [link for link in links if not re.match(r"^[a-z]+:", link) and link != "/"]


def test_export_writes_a_static_copy_whose_links_all_resolve(
    archive: Archive, tmp_path: Path
) -> None:
    report = export_site(archive.site, tmp_path / "site")
    out = report.directory
    assert (report.briefings, report.stories) == (3, 4)
    for name in ("index.html", "feed.xml", "static/web.css", "stories/index.html"):
        assert (out / name).is_file(), name
    assert (out / "2024/05/14/briefing.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "2024/04/index.html").is_file() and (out / "stories/s-arms.html").is_file()
    pages = list(out.rglob("index.html")) + list(out.glob("stories/*.html"))
    checked = 0
    for page in pages:
        for link in _relative_links(page.read_text()):
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.is_relative_to(out) and target.exists(), f"{page}: {link}"
            checked += 1
    assert checked > 50
    index = (out / "index.html").read_text()
    assert 'action="search"' not in index and "search needs" in index
    assert not feedparser.parse((out / "feed.xml").read_bytes()).bozo


def test_export_refuses_to_write_into_the_archive(archive: Archive) -> None:
    with pytest.raises(ExportError):
        export_site(archive.site, archive.archive_dir / "2024")


# Commands


def _cli() -> typer.Typer:
    return cli_app


@pytest.fixture(scope="module")
def config_file(archive: Archive) -> Path:
    path = archive.archive_dir.parent / "briefing.toml"
    path.write_text(
        f'timezone = "Asia/Seoul"\n[store]\nurl = "{archive.store.url}"\n'
        f'[archive]\ndir = "{archive.archive_dir}"\n'
    )
    return path


def test_archive_list_shows_every_day_newest_first(config_file: Path) -> None:
    result = CliRunner().invoke(_cli(), ["archive", "list", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    days = re.findall(r"2024-\d\d-\d\d", result.output)
    assert days == ["2024-05-14", "2024-05-13", "2024-04-30"]


def test_archive_open_prints_the_path_without_a_desktop(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = CliRunner().invoke(_cli(), ["archive", "open", "2024-05-13", "-c", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "2024/05/13/briefing.pdf" in result.output
    missing = CliRunner().invoke(_cli(), ["archive", "open", "2020-01-01", "-c", str(config_file)])
    assert missing.exit_code == 1 and "archive list" in missing.output
    bad = CliRunner().invoke(_cli(), ["archive", "open", "2024-5-13", "-c", str(config_file)])
    assert bad.exit_code == 2


def test_open_path_uses_the_desktop_opener_when_there_is_one(tmp_path: Path) -> None:
    launched: list[list[str]] = []
    pdf = tmp_path / "b.pdf"
    desktop = {"DISPLAY": ":0"}
    assert open_path(pdf, env=desktop, which=lambda _: "/usr/bin/xdg-open", launch=launched.append)
    assert launched == [["xdg-open", str(pdf)]]
    assert not open_path(pdf, env={}, which=lambda _: "/usr/bin/xdg-open", launch=launched.append)
    assert len(launched) == 1


def test_archive_export_command(config_file: Path, tmp_path: Path) -> None:
    args = ["archive", "export", str(tmp_path / "out"), "-c", str(config_file)]
    result = CliRunner().invoke(_cli(), [*args, "--base-url", "https://news.example/archive"])
    assert result.exit_code == 0, result.output
    assert "exported 3 briefings and 4 stories" in result.output
    feed = feedparser.parse((tmp_path / "out" / "feed.xml").read_bytes())
    assert feed.entries[0].link == "https://news.example/archive/2024/05/14/briefing.html"
    bad = CliRunner().invoke(_cli(), [*args, "--base-url", "javascript:alert(1)"])
    assert bad.exit_code == 2


def test_serve_binds_loopback_by_default_and_warns_loudly_otherwise(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[tuple[Any, str, int]] = []
    monkeypatch.setattr(
        cli_archive, "run_server", lambda app, host, port: served.append((app, host, port))
    )
    quiet = CliRunner().invoke(_cli(), ["serve", "-c", str(config_file)])
    assert quiet.exit_code == 0, quiet.output
    assert served[-1][1:] == ("127.0.0.1", 8080) and "WARNING" not in quiet.output
    rebound = Client(served[-1][0]).get("/", headers={"host": "attacker.example"})
    assert rebound.status_code == 400
    loud = CliRunner().invoke(_cli(), ["serve", "--host", "0.0.0.0", "-c", str(config_file)])
    assert "WARNING" in loud.output and "not loopback" in loud.output
    assert served[-1][1] == "0.0.0.0"


def test_is_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.2", "::", "example.org"]))


# PostgreSQL


@pytest.mark.postgres
def test_search_on_postgresql_ranks_the_matching_story_first(postgres_store: Store) -> None:
    fill_store(postgres_store)
    results = search(postgres_store, "arms")
    assert [hit.id for hit in results.stories][:2] == ["s-arms", "s-floods"]
    assert {hit.id for hit in results.articles} == {"a1", "a2", "a3", "f1"}
    assert "\x02" in results.stories[0].snippet
    assert [hit.id for hit in search(postgres_store, "evacuation").articles] == ["f2"]
    loose = search(postgres_store, "harvest zeppelin")
    assert not loose.matched_all and [hit.id for hit in loose.stories] == ["s-april"]
    assert search(postgres_store, 'arms" OR "zzz').stories[0].id == "s-arms"
