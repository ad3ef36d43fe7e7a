"""Every briefing mail reads well: list headers, a preheader, both parts, the subject led by
the headline, links to the web edition, and HTML small enough that no client clips it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from support.briefings import DAY, NOW, SENDER, WATCH, archive, make_briefing
from support.config import BASE_URL as BASE
from support.config import reader_config as make_config

from briefing.briefs.compose import Section
from briefing.mail.message import MailLinks, Recipient, build_message, subject_for
from briefing.mail.transport import OutboxTransport
from briefing.stages.send import send_briefing
from briefing.stages.subscribers import add_subscriber
from briefing.store.engine import Store


@pytest.mark.parametrize("base_url", [BASE, "http://127.0.0.1:8080/", ""])
def test_every_mail_has_list_headers_a_preheader_and_both_parts(
    tmp_path: Path, store: Store, base_url: str
) -> None:
    config = make_config(tmp_path, None, "desk@example.org", base_url=base_url)
    add_subscriber(store, config, "topic@example.org", topics=[WATCH])
    archive(config)
    report = send_briefing(store, config, DAY, transport=OutboxTransport(config.mail.outbox))
    assert sorted(report.sent) == ["desk@example.org", "topic@example.org"]
    files = sorted(config.mail.outbox.glob("*.eml"))
    assert len(files) == 2
    for file in files:
        message: EmailMessage = message_from_bytes(file.read_bytes(), policy=policy.default)  # type: ignore[assignment]
        assert message["List-Id"] == '"Morning Briefing" <morning-briefing.example.org>'
        unsubscribe_header = str(message["List-Unsubscribe"])
        assert "<mailto:briefing@example.org?subject=unsubscribe>" in unsubscribe_header
        if base_url.startswith("https://"):
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        else:  # RFC 8058 defines one-click only for HTTPS
            assert message["List-Unsubscribe-Post"] is None
        if base_url:
            assert f"<{base_url}unsubscribe/" in unsubscribe_header
        text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        preheader = re.search(r'<div class="preheader"[^>]*>([^<]*)</div>', html)
        assert preheader is not None
        preview = preheader[1].replace("\u200c", "").replace("\u00a0", "").strip()
        assert preview and preview not in str(message["Subject"])
        assert "\n-- \n" in text  # the signature delimiter, with its space
        assert all(len(line) <= 76 or "://" in line for line in text.splitlines())
        if base_url:  # a visible unsubscribe link in both parts, and the web edition
            assert f"{base_url}unsubscribe/" in text and f'href="{base_url}unsubscribe/' in html
            assert f"{base_url}2024/05/14/briefing.html" in text
            assert f'href="{base_url}2024/05/14/briefing.html#story-1"' in html
        else:
            assert "unsubscribe/" not in text and 'href="#' not in html


def test_the_subject_leads_with_the_headline_and_a_headline_field_wins() -> None:
    briefing = make_briefing("Talks resume in Pyongyang")
    assert subject_for(briefing).startswith("Talks resume in Pyongyang (+2 more) — ")
    assert subject_for(briefing).endswith(" — Morning Briefing, 14 May")

    @dataclass(frozen=True)
    class WithHeadline:  # a brief once stories carry a real headline beside the label
        label: str
        headline: str

    top = WithHeadline("DPRK–Russia arms talks", "Kim and Shoigu agree on shells")
    section = Section("top-stories", "Top stories", "top", (top,))  # type: ignore[arg-type]
    briefing = dataclasses.replace(briefing, sections=(section,), also_noted=())
    assert subject_for(briefing) == "Kim and Shoigu agree on shells — Morning Briefing, 14 May"


def test_a_build_message_without_links_says_how_to_leave() -> None:
    message = build_message(
        make_briefing(),
        Recipient("desk@example.org"),
        sender=SENDER,
        message_id="<x@example.org>",
        now=NOW,
        links=MailLinks(),
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "write to briefing@example.org" in text
    assert "briefing.html" not in text and "unsubscribe/" not in text  # no web, no links


@pytest.mark.parametrize(("stories", "sources"), [(30, 25), (120, 40)])
def test_the_mail_html_stays_under_the_clipping_size(stories: int, sources: int) -> None:
    base = make_briefing()
    template = base.sections[1].stories[0]
    many = tuple(
        dataclasses.replace(
            template,
            anchor=f"story-{n}",
            label=f"Story {n} " + "long headline words " * 4,
            summary=("A long summary sentence about the events of the day. " * 6,) * 4,
            sources=tuple(
                dataclasses.replace(template.sources[0], title=f"Article {n}.{i} " * 6)
                for i in range(sources)
            ),
        )
        for n in range(1, stories + 1)
    )
    big = dataclasses.replace(base, sections=(Section("top-stories", "Top", "top", many),))
    links = MailLinks(f"{BASE}2024/05/14/briefing.html", f"{BASE}unsubscribe/t", f"{BASE}manage/t")
    message = build_message(
        big, Recipient("a@example.org"), sender=SENDER, message_id="<b@x>", now=NOW, links=links
    )
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert len(html.encode()) < 100 * 1024
    assert "Story 1 " in html and f"Article 1.{sources - 1}" not in html
    assert f'more in the <a class="link" href="{BASE}2024/05/14/briefing.html#story-1"' in html
    assert f"Article {stories}.{sources - 1}" in text  # the plain part keeps everything
    if stories > 100:  # even the briefest form is too long: the last stories stay online
        assert "more stories are only in the" in html and f"Story {stories} " not in html
