"""Across articles, a sentence is central when it says what the articles share, each article
counting once: a long page of one thing does not outweigh the other reports."""

from __future__ import annotations

import numpy as np

from briefing.briefs.summarise import SentenceVectoriser, _centrality, candidates, summarise

SHORT = [
    "The city council approved the school budget on Monday after a long debate.",
    "The school budget adds forty teachers, the city council said on Monday.",
]
OTHER = [
    "Parents cheered as the council passed the school budget on Monday night.",
    "The budget gives schools forty more teachers from September, the council said.",
]
LONG = [
    "The city council approved the school budget, which also funds the museum.",
    *(
        f"The museum gallery shows {n} old paintings of ships in a new exhibit hall today."
        for n in ("twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen")
    ),
]


def test_a_long_page_does_not_outweigh_a_short_report() -> None:
    found = candidates([SHORT, OTHER, LONG])
    vectoriser = SentenceVectoriser([c.text for c in found])
    scores = _centrality(found, vectoriser.matrix([c.text for c in found]))
    assert all("budget" in found[i].text for i in np.argsort(-scores)[:4])
    summary = summarise([SHORT, OTHER, LONG], vectoriser, count=2)
    assert all("museum gallery" not in sentence for sentence in summary)


def test_one_article_keeps_the_mean_similarity_to_its_other_sentences() -> None:
    found = candidates([LONG])
    vectoriser = SentenceVectoriser([c.text for c in found])
    vectors = vectoriser.matrix([c.text for c in found])
    scores = _centrality(found, vectors)
    dense = (vectors @ vectors.T).toarray()
    expected = (dense.sum(axis=1) - dense.diagonal()) / (len(found) - 1)
    assert np.allclose(scores, expected)
