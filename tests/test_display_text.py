"""What reaches a reader is bounded and clean: long tokens cannot stall the PDF, the PDF has a
time budget, bidi controls never reach HTML, PDF or mail, and CJK text has real glyphs."""

from __future__ import annotations

import email
import json
import logging
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from support.config import make_config as support_config

from briefing.config import Config
from briefing.output.render import TEMPLATES_DIR, render_pdf
from briefing.stages.build import build_day, compose_day
from briefing.stages.send import send_briefing
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp, Story, StoryArticle

DAY = date(2026, 5, 14)
NOW = datetime(2026, 5, 13, 22, 30, tzinfo=UTC)  # 07:30 in Seoul
TEXT = "Talks on the port resumed on Monday. Officials met again in the capital. More follows."
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SPOOF = "\u202eexe.tax\u202c Port \u2066talks\u2069 \u200fresume\u200e \u202ahere\u202b"
CJK = "北朝鮮とロシアの武器協議 북한 러시아 무기 회담 朝俄军售谈判"


def make_config(tmp_path: Path, **briefing: object) -> Config:
    return support_config(
        tmp_path,
        timezone="Asia/Seoul",
        mail={"sender": "Briefing <b@example.org>"},
        subscribers=[{"email": "desk@example.org"}],
        briefing=briefing,
    )


def built(tmp_path: Path, label: str, title: str, **briefing: object) -> tuple[Config, Store]:
    """Store one story of two articles, as `briefing group` leaves it, before DAY's 07:00."""
    config = make_config(tmp_path, **briefing)
    store = Store(config.store.url)
    due = config.briefing_due(DAY)
    articles = [("a1", "yonhap", title, 3, f"{title}. {TEXT}"), ("a2", "kbs", "Port", 5, TEXT)]
    with store.session() as session:
        session.add(Story(id="port", label=label, first_seen=due - timedelta(hours=5)))
        for key, outlet, headline, hours, body in articles:
            moment = due - timedelta(hours=hours)
            session.add(
                Article(
                    id=key, url=f"https://{outlet}.example/{key}", source=outlet,
                    title=headline, text=body, published_at=moment, fetched_at=moment,
                    word_count=len(body.split()), grouped_at=moment,
                )
            )  # fmt: skip
            session.flush()
            session.add(StoryArticle(article_id=key, story_id="port"))
            sentences = [part.strip() + "." for part in body.split(". ") if part.strip()]
            quote = {"text": body[:300], "speaker": f"Lee {title[:50]}"}
            data = {"sentences": sentences, "entities": [], "quotes": [quote]}
            session.add(ArticleNlp(article_id=key, model="seeded", data=data))
    return config, store


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def mail_text(outbox: Path) -> str:
    [eml] = outbox.iterdir()
    message = email.message_from_bytes(eml.read_bytes())
    parts = [
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_maintype() == "text"
    ]
    return "\n".join(parts) + str(message["Subject"])


# Display text, the pure part


def test_bidi_controls_are_stripped_and_lengths_bounded() -> None:
    from briefing.output.display import bounded, strip_bidi

    assert not set(strip_bidi(SPOOF)) & set(BIDI_CONTROLS)
    assert strip_bidi(SPOOF) == "exe.tax Port talks resume here"
    assert strip_bidi("مرحبا بالعالم") == "مرحبا بالعالم"  # Arabic itself is untouched
    long = bounded("word " * 1000, 300)
    assert len(long) <= 300 and long.endswith("…")
    assert bounded("short", 300) == "short"


def test_long_tokens_get_break_opportunities_but_words_and_cjk_do_not() -> None:
    from briefing.output.display import breakable

    token = "x" * 1000
    broken = breakable(token)
    assert broken.replace("\u200b", "") == token
    assert max(len(part) for part in broken.split("\u200b")) <= 30
    assert breakable("An ordinary sentence of words.") == "An ordinary sentence of words."
    assert breakable(CJK * 3) == CJK * 3
    accented = "e\u0301" * 100  # a mark never parts from its letter
    assert all(not part.startswith("\u0301") for part in breakable(accented).split("\u200b"))


# Item 6: quadratic layout


def test_a_huge_word_in_a_title_builds_in_bounded_time(tmp_path: Path) -> None:
    word = "W" * 100_000
    config, store = built(tmp_path, f"Port talks {word}", f"Port talks {word}")
    started = time.monotonic()
    result = build_day(store, config, DAY, now=NOW)
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"build took {elapsed:.1f} s"
    data = json.loads(result.json.read_text())
    story = data["sections"][0]["stories"][0]
    assert len(story["label"]) <= 200 and story["label"].endswith("…")
    assert all(len(source["title"]) <= 300 for source in story["sources"])
    assert result.pdf is not None and "Port talks" in pdf_text(result.pdf)


def test_the_pdf_has_a_time_budget_and_the_mail_goes_out_without_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, store = built(
        tmp_path, "Port talks resume", "Port talks resume", pdf_time_limit_seconds=0.01
    )
    caplog.set_level(logging.WARNING, logger="briefing")
    result = build_day(store, config, DAY, now=NOW)
    assert result.pdf is None and not (result.html.parent / "briefing.pdf").exists()
    assert "PDF" in caplog.text and "0.01 s" in caplog.text and "without" in caplog.text
    report = send_briefing(store, config, DAY)
    assert report.sent == ["desk@example.org"] and report.complete
    [eml] = config.mail.outbox.iterdir()
    message = email.message_from_bytes(eml.read_bytes())
    assert [p.get_content_type() for p in message.walk() if p.get_filename()] == []
    assert "PDF edition could not be made in time" in mail_text(config.mail.outbox)


def test_a_pdf_made_within_the_budget_is_attached(tmp_path: Path) -> None:
    config, store = built(tmp_path, "Port talks resume", "Port talks resume")
    result = build_day(store, config, DAY, now=NOW)
    assert result.pdf is not None and result.pdf.read_bytes().startswith(b"%PDF")
    send_briefing(store, config, DAY)
    [eml] = config.mail.outbox.iterdir()
    message = email.message_from_bytes(eml.read_bytes())
    assert [p.get_content_type() for p in message.walk() if p.get_filename()] == ["application/pdf"]
    assert "could not be made" not in mail_text(config.mail.outbox)


# Item 13: bidi controls and CJK glyphs


def test_bidi_controls_never_reach_html_pdf_json_or_mail(tmp_path: Path) -> None:
    config, store = built(tmp_path, SPOOF, SPOOF)
    result = build_day(store, config, DAY, now=NOW)
    send_briefing(store, config, DAY)
    assert result.pdf is not None
    shown = {
        "html": result.html.read_text(),
        "json": json.dumps(json.loads(result.json.read_text()), ensure_ascii=False),
        "pdf": pdf_text(result.pdf),
        "mail": mail_text(config.mail.outbox),
    }
    for where, text in shown.items():
        assert "exe.tax Port talks resume here" in " ".join(text.split()), where
        found = sorted({f"U+{ord(c):04X}" for c in text if c in BIDI_CONTROLS})
        assert found == [], f"{where}: {found}"


def test_cjk_text_renders_with_real_glyphs_in_the_pdf(tmp_path: Path) -> None:
    declared = (TEMPLATES_DIR / "print.css").read_text()
    assert "Noto Sans CJK" in declared and "Noto Serif CJK" in declared
    match = subprocess.run(
        ["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True
    )
    assert "NotoSansCJK" in match.stdout, "install fonts-noto-cjk (.ci/system-deps)"
    config, store = built(tmp_path, CJK, CJK)
    compose_briefing, _ = compose_day(store, config, DAY, NOW)
    path = tmp_path / "cjk.pdf"
    path.write_bytes(render_pdf(compose_briefing))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    cjk_fonts = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk_fonts and all(" yes " in line for line in cjk_fonts), fonts  # embedded
    text = " ".join(pdf_text(path).split())
    for word in CJK.split():
        assert word in text, (word, text[:400])
