"""`briefing group` through the store: moved articles, related links and re-runs are saved."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

from support.quakes import ACEH, EVERYTHING, EXPECTED, JAVA, START

from briefing.config import parse_config
from briefing.nlp.enrich import Enrichment
from briefing.stages.group import group_pending
from briefing.store.articles import ArticleRecord, save_article
from briefing.store.engine import Store
from briefing.store.models import Story, StoryArticle, StoryLink


class GivenEntities:
    """An enricher that returns the fixture's entities instead of running spaCy."""

    def __init__(self) -> None:
        self.by_title_text = {(a.title, a.text): a for a in EVERYTHING}

    def enrich_many(self, docs: Iterable[tuple[str, str]]) -> Iterator[Enrichment]:
        for title, text in docs:
            article = self.by_title_text[(title, text)]
            yield Enrichment.from_dict(
                {
                    "entities": [
                        {"text": name, "label": label, "count": count}
                        for name, label, count in article.entities
                    ],
                    "key_phrases": list(article.key_phrases),
                }
            )


def test_group_saves_stories_links_and_changes_nothing_on_a_rerun(store: Store, tmp_path: Path):
    config = parse_config({"sources": []}, base_dir=tmp_path)
    with store.session() as session:
        for a in EVERYTHING:
            record = ArticleRecord(
                url=f"https://{a.source}.example/{a.id}",
                source=a.source,
                title=a.title,
                text=a.text,
                published_at=a.published_at,
                id=a.id,
            )
            save_article(session, record)
    enricher = GivenEntities()
    first = group_pending(store, config, now=START + timedelta(hours=12), enricher=enricher)
    second = group_pending(
        store, config, now=START + timedelta(days=1, hours=12), enricher=enricher
    )
    assert (first.grouped, first.new_stories) == (len(ACEH) - 1, 1)
    assert (second.grouped, second.new_stories, second.developing) == (len(JAVA) + 1, 1, 1)

    def saved() -> tuple[set[frozenset[str]], set[tuple[str, str]], dict[str, str]]:
        with store.session() as session:
            members: dict[str, set[str]] = {}
            for article_id, story_id in session.query(
                StoryArticle.article_id, StoryArticle.story_id
            ):
                members.setdefault(story_id, set()).add(article_id)
            links = {(link.story_id, link.related_id) for link in session.query(StoryLink)}
            labels = {story.id: story.label for story in session.query(Story)}
        return {frozenset(ids) for ids in members.values()}, links, labels

    partition, links, labels = saved()
    assert partition == EXPECTED
    assert len(links) == 2 and {a for a, _ in links} == set(labels)  # each "sees" the other
    again = group_pending(store, config, now=START + timedelta(days=2), enricher=enricher)
    assert again.grouped == 0
    assert saved() == (partition, links, labels)
