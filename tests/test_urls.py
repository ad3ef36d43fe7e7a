"""Canonical URLs: variants of one article collapse to one spelling."""

from __future__ import annotations

import pytest

from scraper.urls import canonical_url, same_site


@pytest.mark.parametrize(
    "variant",
    [
        "https://news.example/a/story?id=7",
        "HTTPS://NEWS.example:443/a/story?id=7",
        "https://news.example/a/story?id=7#comments",
        "https://news.example/a//story?id=7&utm_source=rss&utm_medium=feed",
        "https://news.example/a/story?fbclid=abc&id=7&gclid=x",
    ],
)
def test_variants_collapse(variant: str) -> None:
    assert canonical_url(variant) == "https://news.example/a/story?id=7"


def test_meaningful_query_and_port_are_kept() -> None:
    assert canonical_url("http://127.0.0.1:8080/view?page=2") == "http://127.0.0.1:8080/view?page=2"


def test_same_site_ignores_www() -> None:
    assert same_site("https://www.a.example/x", "https://a.example/y")
    assert not same_site("https://a.example/x", "https://b.example/x")
