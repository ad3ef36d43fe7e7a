"""A small newsroom for the desk's tests: the three-day story fixture in a real store.

The articles of tests/fixtures/stories/three_days.json go into the store with their NLP
results already made (entities as given, sentences from the text, a few quotes), so that
grouping, composing and rendering run for real without loading spaCy.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from briefing.config import Config, parse_config
from briefing.stages.editors import set_password
from briefing.stages.group import group_pending
from briefing.store.engine import Store
from briefing.store.models import Article, ArticleNlp

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "stories" / "three_days.json").read_text("utf-8")
)
START = datetime(2023, 9, 12, tzinfo=UTC)
DAY1, DAY2 = date(2023, 9, 13), date(2023, 9, 14)
EDITOR, PASSWORD = "editor@example.org", "correct horse battery staple"
# Quotes the NLP stage might have found: one with a wrong speaker, one to drop.
QUOTES = {
    "yna-0913-kim-putin": [
        ("We will always be together with Russia", "Vladimir Putin"),
        ("This quote was misread from a caption", "Kim Jong-un"),
    ],
}


def _nlp(raw: dict[str, Any]) -> dict[str, Any]:
    sentences = [line.strip() for line in raw["text"].split("\n") if line.strip()]
    quotes = [
        {"text": text, "speaker": speaker, "verb": "said", "sentence_index": 0}
        for text, speaker in QUOTES.get(raw["id"], [])
    ]
    entities = [
        {"text": name, "label": label, "count": count, "mentions": [name]}
        for name, label, count in raw["entities"]
    ]
    return {"entities": entities, "key_phrases": raw["key_phrases"], "quotes": quotes,
            "sentences": sentences, "model": "fixture"}  # fmt: skip


def fill(store: Store) -> None:
    """Store every fixture article with its NLP results (nothing grouped yet)."""
    with store.session() as session:
        for raw in FIXTURE["articles"]:
            published = START + timedelta(days=raw["day"], hours=raw["hour"])
            session.add(Article(id=raw["id"], url=f"https://{raw['source']}.example/{raw['id']}",
                                source=raw["source"], title=raw["title"], text=raw["text"],
                                published_at=published, fetched_at=published,
                                word_count=len(raw["text"].split())))  # fmt: skip
        session.flush()
        for raw in FIXTURE["articles"]:
            session.add(ArticleNlp(article_id=raw["id"], model="fixture", data=_nlp(raw)))


def newsroom_config(tmp_path: Path, **sections: Any) -> Config:
    """A config for the newsroom: UTC, the edition due at 18:00, review on, one editor."""
    data: dict[str, Any] = {
        "timezone": "UTC",
        "store": {"url": "sqlite:///data/briefing.db"},
        "schedule": {"daily": "18:00"},
        "review": {"enabled": True},
        "editors": [{"email": EDITOR}],
        "subscribers": [{"email": "reader@example.org"}],
        "mail": {"sender": "Briefing <briefing@example.org>", "attach_pdf": False},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return parse_config(data, base_dir=tmp_path)


def newsroom(tmp_path: Path, **sections: Any) -> tuple[Config, Store]:
    """Return a config and a store holding the fixture, grouped up to day 1's edition."""
    config = newsroom_config(tmp_path, **sections)
    store = Store(config.store.url)
    fill(store)
    set_password(store, config, EDITOR, PASSWORD)
    group_pending(store, config, now=config.briefing_due(DAY1))
    return config, store


def story_of(store: Store, article_id: str) -> str:
    """Return the id of the story holding an article."""
    from briefing.store.models import StoryArticle

    with store.session() as session:
        row = session.get(StoryArticle, article_id)
        assert row is not None, article_id
        return row.story_id


class AppClient:
    """A synchronous client over an ASGI app, in process, keeping cookies like a browser."""

    def __init__(self, app: Any) -> None:
        import asyncio

        import httpx

        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.cookies = self.client.cookies

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("follow_redirects", True)
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("follow_redirects", False)
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
