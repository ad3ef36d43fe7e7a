"""Stories to compose and render: real-looking, one of them hostile (scripts, templates, URLs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from briefing.briefs.compose import SourceArticle, StoryInput

END = datetime(2024, 5, 13, 22, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src="file:///etc/passwd">'
CURLY = "{{ 7*7 }}"
JS_URL = "javascript:alert(document.cookie)"


def article(key: str, outlet: str, hours: float, title: str, *sentences: str) -> SourceArticle:
    return SourceArticle(
        id=key,
        outlet=outlet,
        title=title,
        url=f"https://{outlet.lower().replace(' ', '-')}.example/news/{key}",
        published_at=END - timedelta(hours=hours),
        sentences=sentences,
        quotes=(("We are watching every step of this very closely indeed", "Lee Sung-jun"),),
    )


def story(key: str, label: str, topics: tuple[str, ...], *articles: SourceArticle) -> StoryInput:
    return StoryInput(key, label, "developing", topics, ("North Korea", "Russia"), articles)


HOSTILE = SourceArticle(
    id="evil",
    outlet="Evil Outlet",
    title=f"Title {SCRIPT} {IMG} {CURLY}",
    url="https://evil.example/a?x=1&y=2",
    published_at=END - timedelta(hours=3),
    sentences=(f"The hostile article says {SCRIPT} and {IMG} and {CURLY} in running text.",),
    quotes=((f"Quoting {SCRIPT} and {CURLY} here for the record", "Mallory"),),
)
JS_LINK = SourceArticle(
    "js", "Other Outlet", "A link that is not a web link", JS_URL, END - timedelta(hours=4), ()
)
STORIES = (
    story(
        "arms",
        "DPRK–Russia arms talks",
        ("Arms talks",),
        article(
            "a1", "Yonhap", 2, "Shoigu meets Kim", "Shoigu met Kim Jong Un in Pyongyang on Monday."
        ),
        article(
            "a2", "Reuters", 3, "Kim hosts Shoigu", "Kim hosted Russia's security chief on Monday."
        ),
    ),
    story(
        "rates",
        "Bank of Korea holds rates",
        (),
        article("r1", "Bloomberg", 5, "BOK holds", "The Bank of Korea kept its key rate at 3.5%."),
        article("r2", "Korea Times", 6, "Rates steady", "Inflation is still above the 2% target."),
        article(
            "r3", "KBS", 7, "No cut yet", "Governor Rhee said a cut later this year is possible."
        ),
    ),
    story("evil", f"Hostile {SCRIPT} story {CURLY}", (), HOSTILE, JS_LINK),
    story(
        "floods",
        "Floods in the south",
        (),
        article("f1", "AP", 8, "Rain floods the south", "More than 3,000 people were evacuated."),
        article("f2", "KBS", 9, "Trains halted", "Trains between Gwangju and Mokpo were halted."),
    ),
    story(
        "kakao",
        "Kakao fined",
        (),
        article("k1", "Korea Herald", 10, "Kakao fined", "Kakao was fined 15.1 billion won."),
    ),
)
