"""Summary sentences are whole sentences: no piece of a quotation, no half a parse cut in two."""

from __future__ import annotations

from briefing.briefs.furniture import without_label
from briefing.briefs.summarise import (
    SentenceVectoriser,
    attributed_quotation,
    candidates,
    inside_quotations,
    is_usable,
    lede,
)
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


def test_sentences_inside_a_quotation_opened_earlier_are_not_candidates() -> None:
    article = [
        "The champion missed the cut on his debut at the club's main tournament.",
        "'Every time you play with the best players you take something away from it.",
        "This is where I want to be in a few years time, playing at the very top.",
        "I just need to keep working harder on the practice ground every single day.'",
        "He finished the second round thirteen over par with a birdie on the last hole.",
    ]
    assert inside_quotations(article) == [False, False, True, True, False]
    texts = [c.text for c in candidates([article])]
    assert texts == [article[0], article[4]]


def test_a_quotation_left_open_runs_on_for_a_few_sentences_at_most() -> None:
    opened = ["She said: 'We will win the vote on Monday and the whole county knows it."]
    rest = [f"Sentence number {n} of the report goes on about the vote." for n in range(5)]
    assert inside_quotations(opened + rest) == [False, True, True, True, False, False]


def test_nicknames_phrases_and_apostrophes_open_no_quotation() -> None:
    for sentence in (
        "Reality star 'Mama' June Shannon and Mike 'Sugar Bear' Thompson filed a report.",
        "He said he needed a 'kick up the arse' after missing the cut at Augusta.",
        "The players' union said no to the plan that the club's owners put forward.",
        "Prices rose through the '90s, the report said.",
        "Fowler called out a hater who said his girlfriend was a 'gold digger.'",
    ):
        assert inside_quotations([sentence, "The council met again on Tuesday."]) == [False, False]


def test_the_tail_of_a_single_quoted_quotation_is_not_a_candidate() -> None:
    tail = "This is where I want to be in a few years time, at the very top.'"
    assert inside_quotations([tail]) == [True]
    assert candidates([[tail]]) == []


def test_a_lede_may_keep_a_whole_attributed_quotation() -> None:
    sentence = (
        '"I think we will find strong signs of life beyond Earth within a decade," '
        "the agency's chief scientist said on Tuesday."
    )
    assert attributed_quotation(sentence)
    assert not is_usable(sentence)
    assert is_usable(sentence, attributed_quotes=True)
    assert not attributed_quotation('We know how to look," she said on Tuesday.')
    assert not attributed_quotation('"We know where to look.')
    assert not attributed_quotation('"We know where to look," and then the talk ended early.')
    article = ["Scientists may be close to finding evidence of alien life, NASA says.", sentence]
    vectoriser = SentenceVectoriser(article)
    assert lede(article, vectoriser, count=2) == tuple(article)


def test_a_photo_caption_glued_to_the_lede_is_cut_off() -> None:
    glued = (
        "Prisoner John Smith (pictured) was jailed for five years on Friday at the crown court "
        "A serving prisoner has been jailed for sending a teenager thousands of texts."
    )
    assert without_label(glued) == (
        "A serving prisoner has been jailed for sending a teenager thousands of texts."
    )
    # No caption mark, or a blob of several captions: the sentence stays as it is.
    plain = "The council pictured the plan as a way to save money and The Times reported it."
    assert without_label(plain) == plain
    blob = (
        "The mayor (left) opens the hall The crowd waits outside in the rain for the doors "
        "The band (right) plays on the steps of the hall before the speeches begin."
    )
    assert without_label(blob) == blob


def test_a_lede_keeps_the_writers_sentence_however_much_of_it_is_quoted() -> None:
    sentence = (
        'The law bans what it describes as "dismemberment abortion" and defines it as '
        '"knowingly dismembering a living unborn child and extracting it piece by piece."'
    )
    assert not is_usable(sentence)
    assert is_usable(sentence, attributed_quotes=True)
