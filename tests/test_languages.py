"""Every language stored: the failure classes of issue 18, on small pages made for the tests.

A Japanese or Chinese article skipped as too short (words counted by spaces), a German article
without date markup skipped as not an article, a Turkish day-first date read month-first, and
a body cut off after its first paragraph.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from scraper.dates import day_first, parse_date
from scraper.extract import ExtractedArticle, extract_article
from scraper.items import ArticleItem
from scraper.language import count_words
from scraper.pipelines import ValidatePipeline
from scraper.prose import reads_as_article

JAPANESE = [
    "北海道の港町で十五日、市が建設を進めてきた新しい図書館が開館し、初日から多くの市民が訪れた。"
    "館内には約二十万冊の本が並び、子ども向けの読書室や学習スペースも設けられている。",
    "市長は開館式で「誰もが気軽に立ち寄れる場所にしたい」と述べ、地域の交流の拠点として活用して"
    "いく考えを示した。図書館は午前九時から午後八時まで開いており、月曜日は休館となる。",
    "建設費は約三十億円で、国の補助金と市の予算でまかなわれた。設計には地元の大学の学生も参加し、"
    "港を見渡せる大きな窓が特徴となっている。",
    "初日に訪れた七十代の女性は「新聞を読みに毎日来たい」と話していた。市は今後、電子書籍の貸し出し"
    "や外国語の絵本の充実にも取り組む方針だ。",
]
CHINESE = [
    "本市新建的公共图书馆于周一正式开放，首日吸引了数千名市民前来参观。馆内藏书约二十万册，"
    "并设有儿童阅读室和自习区。",
    "市长在开馆仪式上表示，希望图书馆成为市民交流和学习的重要场所。图书馆每天上午九点至晚上八点"
    "开放，周一闭馆。",
    "该项目总投资约三亿元，由中央补助资金和市财政共同承担。设计方案邀请了本地大学的学生参与，"
    "大面积的落地窗可以俯瞰港口。",
]
GERMAN = [
    "Die Stadtwerke haben am Dienstag angekündigt, das Netz der Ladesäulen für Elektroautos in den "
    "kommenden zwei Jahren deutlich auszubauen. Bis Ende 2026 sollen in allen Stadtteilen neue "
    "Schnellladepunkte entstehen, vor allem an Supermärkten, Schulen und Bahnhöfen, wo Autos "
    "ohnehin länger stehen.",
    "Nach Angaben des Unternehmens kostet das Programm rund zwölf Millionen Euro. Ein Teil davon "
    "stammt aus Fördermitteln des Landes, den Rest tragen die Stadtwerke selbst.",
    "Der Geschäftsführer sagte, die Nachfrage sei im vergangenen Jahr stärker gestiegen als "
    "erwartet. Viele Pendler hätten sich ein Elektroauto gekauft, fänden aber abends keinen freien "
    "Ladeplatz in der Nähe ihrer Wohnung.",
    "Kritik kommt vom Fahrradverband, der einen Teil des Geldes lieber in sichere Radwege stecken "
    "würde. Die Stadtwerke verweisen darauf, dass beide Vorhaben aus getrennten Töpfen bezahlt "
    "würden.",
]
TURKISH = [
    "Belediye, şehir merkezindeki tarihi çarşının restorasyonunun önümüzdeki ay başlayacağını "
    "açıkladı. Çalışmaların yaklaşık iki yıl sürmesi ve esnafın bu süre içinde geçici dükkanlara "
    "taşınması bekleniyor.",
    "Belediye başkanı, projenin hem turizmi canlandıracağını hem de çarşının yüz yıllık dokusunu "
    "koruyacağını söyledi. Restorasyon için ayrılan bütçe yaklaşık otuz milyon lira.",
    "Esnaf temsilcileri ise geçici dükkanların müşterilerden uzak olmasından endişe ettiklerini "
    "dile getirdi ve belediyeden kira desteği istedi.",
]
ENGLISH = [
    "The company said on Tuesday that it would open forty new stores across the Midwest next "
    "year, adding about three thousand jobs in the process.",
    "Executives told analysts that demand for home improvement supplies had stayed strong "
    "through the winter, even as mortgage rates rose and fewer houses changed hands.",
    "The expansion will focus on smaller towns where the nearest large hardware store is more "
    "than an hour away by car, according to the chief operating officer.",
    "Each new store will employ between seventy and ninety people and carry a narrower range of "
    "goods than the chain's flagship locations in big cities.",
    "Analysts said the plan was a bet that rural customers, who often travel long distances for "
    "supplies, would reward a closer store with their loyalty.",
    "The company's shares rose two percent in early trading after the announcement, recovering "
    "part of the ground they had lost since the start of the year.",
]
ARTICLE_HEAD = (
    '<meta property="og:type" content="article">'
    '<meta property="article:published_time" content="2025-03-15T09:00:00+09:00">'
)


def page(lang: str, title: str, paragraphs: list[str], head: str = "", extra: str = "") -> str:
    """Return a plain article page: no markup beyond what head adds."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><nav><a href='/'>Start</a></nav><main><h1>{title}</h1>{extra}"
        f"<div class='text'>{body}</div></main><footer>© Example</footer></body></html>"
    )


def validate(article: ExtractedArticle, url: str = "https://news.example/a/1") -> ArticleItem:
    """Run the crawl's validation stage on an extracted page; raise DropItem like a crawl."""
    item = ArticleItem(
        source="test",
        url=url,
        requested_url=url,
        title=article.title,
        text=article.text,
        authors=article.authors,
        published_at=article.published_at,
        language=article.language,
        canonical_url=article.canonical_url,
        page_type=article.page_type,
        fetched_at=datetime.now(UTC),
    )
    crawler = get_crawler(settings_dict={"BRIEFING_MIN_WORDS": 40})
    return ValidatePipeline(crawler).process_item(item)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("The quick brown fox — jumps | over", 6, 6),
        ("".join(JAPANESE), 120, 200),  # about 300 letters, not counting punctuation
        ("".join(CHINESE), 70, 110),
        ("장동혁 국민의힘 대표가 당권을 위협하던", 5, 5),  # Korean is written with spaces
        ("กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", 7, 12),
    ],
)
def test_count_words_in_every_script(text: str, low: int, high: int) -> None:
    assert low <= count_words(text) <= high


@pytest.mark.parametrize(
    ("lang", "paragraphs"), [("ja", JAPANESE), ("zh", CHINESE)], ids=["japanese", "chinese"]
)
def test_cjk_article_is_stored_not_skipped_for_its_length(lang: str, paragraphs: list[str]) -> None:
    html = page(
        lang, "新しい図書館が開館" if lang == "ja" else "新图书馆开放", paragraphs, ARTICLE_HEAD
    )
    article = extract_article(html, "https://news.example/a/1", default_language="en")
    assert len(article.text.split()) < 40  # what the old rule counted: a handful of "words"
    assert article.language == lang
    item = validate(article)
    assert item.language == lang
    assert item.text.startswith(paragraphs[0][:20])


def test_one_cjk_sentence_is_still_too_short() -> None:
    html = page("ja", "短信", [JAPANESE[0][:40] + "。"], ARTICLE_HEAD)
    with pytest.raises(DropItem, match="not_article"):
        validate(extract_article(html, "https://news.example/a/1"))


def test_german_article_without_date_markup_is_stored_with_its_visible_date() -> None:
    dateline = "<p class='meta'>Dienstag, 7. Mai 2024, 14:30 Uhr</p>"
    html = page("de", "Stadtwerke bauen Ladenetz aus", GERMAN, extra=dateline)
    article = extract_article(html, "https://zeitung.example/wirtschaft/ladenetz")
    assert article.page_type is None  # no og:type, no JSON-LD: nothing declares an article
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2024-05-07"
    assert validate(article).language == "de"


def test_german_article_with_no_date_at_all_is_stored_undated() -> None:
    html = page("de", "Stadtwerke bauen Ladenetz aus", GERMAN)
    article = extract_article(html, "https://zeitung.example/wirtschaft/ladenetz")
    assert article.published_at is None
    item = validate(article)
    assert item.published_at is None
    assert "Fahrradverband" in item.text


@pytest.mark.parametrize(
    "paragraphs",
    [
        # an "About us" blurb
        [
            "Die Zeitung wurde 1950 gegründet und erscheint heute sechsmal in der Woche.",
            "Impressum und Datenschutz finden Sie unten auf jeder Seite.",
            "Kontakt: redaktion@zeitung.example",
        ],
        # a section page of one-sentence teasers
        [
            f"Der Stadtrat hat am Montag über den Haushalt für den Bezirk {name} beraten, "
            "wie ein Sprecher der Verwaltung am Abend mitteilte."
            for name in ("Nord", "Süd", "Ost", "West", "Mitte", "Hafen")
        ],
    ],
    ids=["about-page", "teaser-list"],
)
def test_undated_page_without_markup_or_running_prose_is_not_an_article(
    paragraphs: list[str],
) -> None:
    html = page("de", "Über uns", paragraphs)
    article = extract_article(html, "https://zeitung.example/ueber-uns")
    assert article.published_at is None
    with pytest.raises(DropItem, match="not_article"):
        validate(article)


@pytest.mark.parametrize(
    ("head", "lang", "expected"),
    [
        ('<meta name="date" content="04.05.2025 14:30">', "tr", "2025-05-04"),
        ('<meta property="article:published_time" content="04/05/2025 14:30">', "tr", "2025-05-04"),
        (
            '<meta property="article:published_time" content="04/05/2025 14:30">',
            "en-US",
            "2025-04-05",
        ),
        (
            '<meta property="article:published_time" content="04/05/2025 14:30">',
            "en-GB",
            "2025-05-04",
        ),
        # a site-wide "en" on a Turkish text: the text's language decides
        ('<meta property="article:published_time" content="04/05/2025 14:30">', "en", "2025-05-04"),
        ('<meta property="article:published_time" content="2025/05/04 14:30">', "tr", "2025-05-04"),
    ],
)
def test_numeric_dates_are_read_in_the_page_locale(head: str, lang: str, expected: str) -> None:
    paragraphs = ENGLISH if lang.startswith("en-") else TURKISH
    html = page(
        lang,
        "Tarihi çarşı restore ediliyor",
        paragraphs,
        '<meta property="og:type" content="article">' + head,
    )
    article = extract_article(html, "https://haber.example/carsi")
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == expected


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("tr", True), ("de-DE", True), ("en_GB", True), ("en-US", False), ("en", None), (None, None)],
)
def test_day_first(locale: str | None, expected: bool | None) -> None:
    assert day_first(locale) is expected


@pytest.mark.parametrize(
    ("value", "dayfirst", "expected"),
    [
        ("04.05.2025", None, datetime(2025, 5, 4, tzinfo=UTC)),  # dotted: day first everywhere
        ("04/05/2025", None, datetime(2025, 4, 5, tzinfo=UTC)),
        ("04/05/2025", True, datetime(2025, 5, 4, tzinfo=UTC)),
        ("2025/05/04", True, datetime(2025, 5, 4, tzinfo=UTC)),  # year first is never flipped
        ("2025年5月4日 10時30分", None, datetime(2025, 5, 4, 10, 30, tzinfo=UTC)),
        ("2025년 5월 4일", None, datetime(2025, 5, 4, tzinfo=UTC)),
    ],
)
def test_parse_date_with_locale_order(
    value: str, dayfirst: bool | None, expected: datetime
) -> None:
    assert parse_date(value, dayfirst=dayfirst) == expected


def test_body_in_a_boilerplate_named_container_is_not_cut_short() -> None:
    body = (
        f"<p>{ENGLISH[0]}</p><div class='footer-text'>"
        + "".join(f"<p>{p}</p>" for p in ENGLISH[1:])
        + "</div>"
    )
    html = page("en", "Chain to open forty stores", [], ARTICLE_HEAD, extra=body)
    article = extract_article(html, "https://corporate.example/news/stores")
    assert ENGLISH[-1] in article.text
    assert count_words(article.text) > 120
    validate(article)


def test_readers_comments_are_not_taken_for_a_cut_short_body() -> None:
    comments = "".join(
        f"<li class='comment'><div class='comment-body'><p>{p}</p></div></li>" for p in ENGLISH
    )
    html = (
        "<!DOCTYPE html><html lang='en'><head><title>Open thread</title>"
        f"{ARTICLE_HEAD}</head><body><main><article><h1>Open thread</h1>"
        f"<div class='entry-content'><p>{GERMAN[1]}</p></div></article>"
        f"<div id='comments'><ol>{comments}</ol></div></main></body></html>"
    )
    article = extract_article(html, "https://blog.example/open-thread")
    assert ENGLISH[0] not in article.text


def test_article_html_inside_a_script_payload_is_the_body() -> None:
    fragment = "".join(f'<p class="text">{p}</p>' for p in GERMAN)
    # as a framework hydrates it: HTML in JSON (with < escaped), in a JavaScript string
    inner = json.dumps({"body": fragment}, ensure_ascii=False).replace("<", "\\u003c")
    payload = json.dumps([1, inner], ensure_ascii=False)
    html = (
        "<!DOCTYPE html><html lang='de'><head><title>Ladenetz</title>"
        f"{ARTICLE_HEAD}</head><body><div id='app'></div>"
        f"<script>self.__next_f.push({payload})</script></body></html>"
    )
    article = extract_article(html, "https://zeitung.example/ladenetz")
    assert article.text.split("\n\n") == GERMAN
    validate(article)


def test_reads_as_article() -> None:
    assert reads_as_article("\n\n".join(GERMAN))
    assert not reads_as_article("\n\n".join(GERMAN[1:2]))
    assert not reads_as_article("Home\n\nNews\n\nSport\n\nWeather")
