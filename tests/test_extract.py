"""Article extraction: golden pages, metadata helpers, and pages that must not break it."""

from __future__ import annotations

import functools
import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scraper import language
from scraper.authors import clean_authors
from scraper.dates import parse_date
from scraper.extract import ExtractedArticle, extract_article
from scraper.language import detect_language
from scraper.titles import clean_title, tidy_title

PAGES = Path(__file__).parent / "pages"
GOLDEN = sorted(PAGES.glob("*/*.html"))
URL = "https://news.example/2024/story"


def load_golden(page: Path) -> tuple[str, dict]:
    return page.read_text(encoding="utf-8"), json.loads(page.with_suffix(".json").read_text())


def test_golden_pages_exist() -> None:
    assert len(GOLDEN) >= 8


@pytest.mark.parametrize("page", GOLDEN, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_page_metadata(page: Path) -> None:
    html, expected = load_golden(page)
    article = extract_article(html, expected["url"])
    assert article.title == expected["title"]
    assert article.authors == expected["authors"]
    published = article.published_at.isoformat() if article.published_at else None
    assert published == expected["published_at"]
    assert article.language == expected["language"]
    assert article.canonical_url == expected["canonical_url"]
    assert article.page_type == expected["page_type"]


@pytest.mark.parametrize("page", GOLDEN, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_page_body(page: Path) -> None:
    html, expected = load_golden(page)
    text = extract_article(html, expected["url"]).text
    if expected.get("text_starts_with"):
        assert text.startswith(expected["text_starts_with"]), text[:200]
    for sentence in expected["text_contains"]:
        assert sentence in text
    for boilerplate in expected["text_excludes"]:
        assert boilerplate not in text


def test_paragraphs_are_separated_by_blank_lines() -> None:
    html, expected = load_golden(PAGES / "harbour_times" / "port-strike-graph.html")
    paragraphs = extract_article(html, expected["url"]).text.split("\n\n")
    assert len(paragraphs) == 6
    assert all(p and "\n" not in p for p in paragraphs)


def test_short_opening_sentence_is_not_taken_for_a_byline() -> None:
    opening = "<h1>River floods town</h1><p>By Monday, the river had burst its banks.</p>"
    article = extract_article(article_page(opening + LONG_ENGLISH), URL)
    assert article.text.startswith("By Monday, the river had burst its banks.")


def test_published_at_is_utc_aware() -> None:
    html, expected = load_golden(PAGES / "hanbit_ilbo" / "ko-article.html")
    published = extract_article(html, expected["url"]).published_at
    assert published is not None
    assert published.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


FEED_DATE = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
TEXT_DATED = "<h1>Rail works</h1><p>Published 3 March 2025</p>"


def test_feed_date_dates_an_article_page_without_date_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = article_page(TEXT_DATED + LONG_ENGLISH, '<meta property="og:type" content="article">')
    assert extract_article(page, URL).published_at == datetime(2025, 3, 3, tzinfo=UTC)

    def no_text_dates(*args: object) -> None:
        raise AssertionError("htmldate read a page its feed dates")

    monkeypatch.setattr("scraper.extract._date_from_htmldate", no_text_dates)
    assert extract_article(page, URL, feed_date=FEED_DATE).published_at == FEED_DATE


def test_page_metadata_date_beats_the_feed_date() -> None:
    head = '<meta property="article:published_time" content="2026-11-26T10:00:00Z">'
    article = extract_article(
        article_page(TEXT_DATED + LONG_ENGLISH, head), URL, feed_date=FEED_DATE
    )
    assert article.published_at == datetime(2026, 11, 26, 10, tzinfo=UTC)


def test_a_page_kept_only_for_its_date_is_still_dated_by_its_text() -> None:
    """A listing-like page's own date decides whether it is kept: the feed's must not."""
    page = article_page("<p>Published 3 March 2025</p><p>Short teaser text.</p>")
    article = extract_article(page, URL, feed_date=FEED_DATE)
    assert article.published_at == datetime(2025, 3, 3, tzinfo=UTC)


def article_page(body: str, head: str = "", lang: str = "") -> str:
    lang_attr = f' lang="{lang}"' if lang else ""
    return f"<!DOCTYPE html><html{lang_attr}><head>{head}</head><body>{body}</body></html>"


LONG_ENGLISH = "".join(
    f"<p>Paragraph {i} explains how the new railway timetable affects commuters in the "
    f"northern suburbs, where trains will run every ten minutes during the morning.</p>"
    for i in range(6)
)


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   \n\t ",
        "\x00\x01\x02 binary \xff\xfe",
        "<html>",
        "<<<>>><!--",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>text</p></body></html>",
        article_page(
            "<p>x</p>", '<script type="application/ld+json">{"@graph": [1, null, "x"</script>'
        ),
        article_page("<p>x</p>", '<script type="application/ld+json">' + "[" * 5000 + "</script>"),
        article_page("<p>x</p>", '<meta property="article:published_time" content="not a date">'),
        article_page("<p>x</p>", '<meta name="date" content="99999999999999999999">'),
        article_page("<p>x</p>", '<link rel="canonical" href="http://[broken">'),
        article_page("<p>x</p>", lang="not-a-language"),
    ],
    ids=range(12),
)
def test_junk_input_gives_a_record_not_an_exception(html: str) -> None:
    article = extract_article(html, URL, default_language="en")
    assert isinstance(article, ExtractedArticle)
    assert isinstance(article.text, str)
    assert article.published_at is None or article.published_at.tzinfo is not None


@pytest.mark.parametrize(
    "head",
    [
        '<script type="application/ld+json">{"@type": "Article", "author": {"name": 7}}</script>',
        '<meta property="article:published_time" content="31/31/31">',
        '<link rel="canonical" href="http://[broken">',
        '<meta property="og:url" content="javascript:alert(1)">',
    ],
)
def test_bad_metadata_keeps_the_rest_of_the_record(head: str) -> None:
    html = article_page(LONG_ENGLISH, head + "<title>Timetable changes</title>")
    article = extract_article(html, URL)
    assert article.title == "Timetable changes"
    assert "northern suburbs" in article.text
    assert article.canonical_url is None
    assert article.published_at is None


def test_random_bytes_never_raise() -> None:
    rng = random.Random(7)
    for _ in range(20):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
        article = extract_article(junk.decode("latin-1"), URL)
        assert isinstance(article, ExtractedArticle)


def test_non_string_input_gives_empty_record() -> None:
    article = extract_article(b"<html></html>", URL, default_language="de")  # type: ignore[arg-type]
    assert article.text == ""
    assert article.language == "de"


def test_five_megabytes_of_nested_divs_are_fast() -> None:
    depth = 460_000
    html = "<html><body>" + "<div>" * depth + "<p>deep</p>" + "</div>" * depth + "</body></html>"
    assert len(html) > 5_000_000
    start = time.perf_counter()
    article = extract_article(html, URL)
    assert time.perf_counter() - start < 10
    assert isinstance(article.text, str)


def test_json_ld_article_body_rescues_an_empty_page() -> None:
    body = "The council met on Monday. " * 10 + "\n" + "It agreed a budget. " * 10
    head = (
        '<script type="application/ld+json">'
        + json.dumps({"@type": "NewsArticle", "headline": "Council meets", "articleBody": body})
        + "</script>"
    )
    article = extract_article(article_page("<div id='app'></div>", head), URL)
    assert article.text.startswith("The council met on Monday.")
    assert article.text.split("\n\n")[1].startswith("It agreed a budget.")
    assert article.title == "Council meets"


def test_body_failure_keeps_the_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> str:
        raise RuntimeError("extractor bug")

    monkeypatch.setattr("scraper.extract.trafilatura.extract", explode)
    html, expected = load_golden(PAGES / "harbour_times" / "port-strike-graph.html")
    article = extract_article(html, expected["url"])
    assert article.text == ""
    assert article.title == expected["title"]
    assert article.authors == expected["authors"]


def test_default_language_used_when_nothing_else_says() -> None:
    article = extract_article(article_page("<p>ok</p>"), URL, default_language="fr")
    assert article.language == "fr"


def test_text_language_beats_a_wrong_site_wide_declaration() -> None:
    german = "".join(
        f"<p>Absatz {i}: Die Bundesregierung hat am Mittwoch beschlossen, die Förderung für "
        f"Wärmepumpen im kommenden Jahr deutlich zu erhöhen, wie ein Sprecher mitteilte.</p>"
        for i in range(5)
    )
    assert extract_article(article_page(german, lang="en"), URL).language == "de"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Ann Lee, Bob Stone & Carla Ruiz"], ["Ann Lee", "Bob Stone", "Carla Ruiz"]),
        (["Von Max Mustermann und Erika Musterfrau"], ["Max Mustermann", "Erika Musterfrau"]),
        (["Jane Doe", "JANE DOE", "jane doe"], ["Jane Doe"]),
        (["김민지 기자"], ["김민지"]),
        (["https://example.org/authors/jane", "jane@example.org", "By"], []),
        (["Sweidah 05.01.2025"], ["Sweidah"]),
        (["srf/hosb"], ["srf/hosb"]),
        (["Madeleine Howell 30 August 2023 •"], ["Madeleine Howell"]),
        (["Ann Lee March 4, 2024"], ["Ann Lee"]),
        (["David Straub Stand: 28. April 2023"], ["David Straub"]),
        (["Tom Standish"], ["Tom Standish"]),
    ],
)
def test_clean_authors(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-14T08:30:00+09:00", datetime(2024, 3, 13, 23, 30, tzinfo=UTC)),
        ("2024-03-14T08:30:00Z", datetime(2024, 3, 14, 8, 30, tzinfo=UTC)),
        ("2024-03-14 08:30:00", datetime(2024, 3, 14, 8, 30, tzinfo=UTC)),
        ("2024-03-14T08:30:00.123-0500", datetime(2024, 3, 14, 13, 30, 0, 123000, tzinfo=UTC)),
        ("Thu, 14 Mar 2024 08:30:00 GMT", datetime(2024, 3, 14, 8, 30, tzinfo=UTC)),
        ("1710405000", datetime(2024, 3, 14, 8, 30, tzinfo=UTC)),
        ("2024-03-14", datetime(2024, 3, 14, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        ("1066-10-14", None),
    ],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("candidates", "site", "expected"),
    [
        (["Storm closes schools | Harbour Times"], "Harbour Times", "Storm closes schools"),
        (["Harbour Times - Storm closes schools"], "Harbour Times", "Storm closes schools"),
        (
            ["Storm closes schools | Weather | Harbour Times"],
            "Harbour Times",
            "Storm closes schools | Weather",
        ),
        (["Storm closes schools | Weather", "Storm closes schools"], "", "Storm closes schools"),
        (["Kicker: Storm closes schools"], "Harbour Times", "Kicker: Storm closes schools"),
        (["Storm - a timeline"], "Harbour Times", "Storm - a timeline"),
        ([], "", None),
    ],
)
def test_clean_title(candidates: list[str], site: str, expected: str | None) -> None:
    meta = {"og:site_name": [site]} if site else {}
    assert clean_title(candidates, meta, "https://www.harbourtimes.example/x") == expected


def test_title_host_name_is_a_site_name_without_og_site_name() -> None:
    assert clean_title(
        ["Storm closes schools - HarbourTimes"], {}, "https://harbourtimes.example/"
    ) == ("Storm closes schools")


def test_title_section_suffix_is_cut_when_the_page_declares_the_section() -> None:
    meta = {"article:section": ["Weather"]}
    url = "https://harbourtimes.example/x"
    assert clean_title(["Storm closes schools-Weather"], meta, url) == "Storm closes schools"
    assert clean_title(["Storm warning for the weather"], meta, url) == (
        "Storm warning for the weather"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Babiš a\xa0Hrad", "Babiš a\xa0Hrad"),  # a no-break space is the page's choice
        ("「金に執着」\u3000警視庁逮捕", "「金に執着」\u3000警視庁逮捕"),
        ("\n\t  Storm\n closes   schools \u200b", "Storm closes schools"),
        ("Ver\xadfas\xadsungs\xadbe\xadschwerde &amp; mehr", "Verfassungsbeschwerde & mehr"),
        ("it’s “quoted”", "it’s “quoted”"),
    ],
)
def test_tidy_title(raw: str, expected: str) -> None:
    assert tidy_title(raw) == expected


def test_headline_confirms_a_declared_title_with_other_quote_marks() -> None:
    head = (
        '<meta property="og:title" content="Farmers\' union wants \'emergency\' fodder">'
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "headline": "Union asks government for fodder"}</script>'
    )
    body = "<article><h1>Farmers’ union wants ‘emergency’ fodder</h1>" + LONG_ENGLISH + "</article>"
    article = extract_article(article_page(body, head), URL)
    assert article.title == "Farmers' union wants 'emergency' fodder"  # as declared


def test_headline_in_a_dialog_or_menu_is_not_the_page_headline() -> None:
    head = (
        '<meta property="og:title" content="Ferry fares rise again">'
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "headline": "Ferry operator raises fares for the third time"}</script>'
    )
    body = (
        '<div class="modal"><h1>Ferry fares rise again</h1></div>'
        "<nav><h1>Ferry fares rise again</h1></nav>" + LONG_ENGLISH
    )
    article = extract_article(article_page(body, head), URL)
    assert article.title == "Ferry operator raises fares for the third time"


def test_publisher_stays_author_when_the_byline_names_no_person() -> None:
    head = (
        '<meta property="og:site_name" content="Valley Gazette">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Rail works",'
        ' "author": {"@type": "Organization", "name": "Valley Gazette"}}</script>'
    )
    body = '<p class="author">APA</p>' + LONG_ENGLISH
    assert extract_article(article_page(body, head), URL).authors == ["Valley Gazette"]


def test_a_domain_named_as_author_is_the_publisher() -> None:
    head = '<meta name="author" content="gazette.example">'
    body = '<p class="author">Von Jana Albrecht</p>' + LONG_ENGLISH
    assert extract_article(article_page(body, head), URL).authors == ["Jana Albrecht"]


def test_a_sentence_opening_with_by_is_not_a_byline() -> None:
    body = "<h1>River floods town</h1><div>By Monday, the river had burst its banks.</div>"
    assert extract_article(article_page(body + LONG_ENGLISH), URL).authors == []


def test_a_teaser_byline_is_not_the_article_byline() -> None:
    teaser = "<ul><li><h4>Bridge reopens after repairs</h4><span>By Tomas Ekandjo</span></li></ul>"
    article = extract_article(article_page("<h1>Rail works</h1>" + LONG_ENGLISH + teaser), URL)
    assert article.authors == []


def test_detect_language_prefers_clear_text_and_falls_back() -> None:
    english = "The committee will publish its final report on the harbour project next week."
    assert detect_language(english * 3, declared=None) == "en"
    assert detect_language("ok", declared="sv", default="en") == "sv"
    assert detect_language("", declared=None, default="en") == "en"


def test_language_model_loads_once_when_threads_ask_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The crawl starts loading the model in a thread; the first article page must wait for
    that load, not start a second one."""
    loads: list[int] = []

    @functools.cache
    def slow_load() -> object:
        loads.append(1)
        time.sleep(0.2)
        return object()

    monkeypatch.setattr(language, "_load_identifier", slow_load)
    threads = [language.load_in_background() for _ in range(3)]
    model = language._identifier()
    for thread in threads:
        thread.join(5)
    assert loads == [1]
    assert language._identifier() is model


def test_detect_language_normalises_declared_codes() -> None:
    assert detect_language("ok", declared="nb") == "no"
    norwegian = "Regjeringen la i dag fram et forslag om å bygge flere boliger i byene. " * 3
    assert detect_language(norwegian, declared="nb") == "no"
