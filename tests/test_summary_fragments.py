"""Summary sentences are whole sentences: no piece of a quotation, no half a parse cut in two."""

from __future__ import annotations

from briefing.briefs.summarise import is_usable
from briefing.nlp.phrases import _rejoin


def test_the_tail_of_a_quotation_cut_in_two_is_not_usable() -> None:
    assert not is_usable('We know how to look at the sky for life now," she said.')
    assert not is_usable("“I think we are going to have strong indications of life beyond Earth.")
    assert is_usable('She said the agency knows "where to look" for life beyond the Earth.')


def test_a_sentence_cut_before_a_lower_case_word_is_joined_back() -> None:
    text = (
        "Herrera has caught the eye after cementing a spot in the line-up "
        "but it appears he does not see the goal.\nHe scored twice."
    )
    cut = text.index("but")
    para = text.index("\n")
    spans = [(0, cut - 1), (cut, para), (para + 1, len(text))]
    assert _rejoin(text, spans) == [(0, para), (para + 1, len(text))]
