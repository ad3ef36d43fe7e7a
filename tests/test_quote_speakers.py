"""Quote speakers, one fixture per error class (issue 14): pronouns, titles, surnames, cues.

The sentences are made up for these tests; the classes come from errors seen on public
quote sets (../shared/eval/quotes, not used here).
"""

from __future__ import annotations

import pytest

from briefing.nlp.enrich import Enricher, Enrichment
from briefing.nlp.first_names import given_name_gender, opens_with_given_name


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


def speakers(result: Enrichment) -> list[tuple[str, str | None]]:
    return [(q.text.split()[0], q.speaker) for q in result.quotes]


def test_given_names_tell_gender_and_person() -> None:
    assert given_name_gender("Michelle Rempel") == "f"
    assert given_name_gender("Andrew Scheer") == "m"
    assert given_name_gender("Scheer") is None  # a surname alone says nothing
    assert opens_with_given_name("Michelle Rempel")
    assert not opens_with_given_name("Georgia Tech")  # a given name that is also a place
    assert not opens_with_given_name("Bank of Montreal")


def test_he_is_never_a_woman_named_by_her_given_name(enricher: Enricher) -> None:
    text = (
        "Andrew Scheer spoke to reporters in Ottawa on Tuesday about the coming campaign.\n"
        "Michelle Rempel, his immigration critic, has sparred online with the minister.\n"
        '"When we are the victims of insulting attacks it will evoke a response," he said.'
    )
    assert speakers(enricher.enrich("", text)) == [("When", "Andrew Scheer")]


def test_she_follows_the_woman_not_the_last_man_quoted(enricher: Enricher) -> None:
    text = (
        '"I was late for my own birthday party," Patrick Bardos said.\n'
        "On their second date, Anne Marie Cerato decided to tell him about her illness.\n"
        '"I am not an alien, but I am a mutant," she said.'
    )
    assert speakers(enricher.enrich("", text))[-1] == ("I", "Anne Marie Cerato")


def test_the_mayor_is_the_person_named_with_that_title(enricher: Enricher) -> None:
    text = (
        "Mayor Doug McCallum cancelled the new arena on Monday.\n"
        "The city council voted on the budget later that evening after a long debate.\n"
        "Residents packed the hall to protest against the decision.\n"
        '"We have seen a declining use of ice for hockey for nine years," the mayor told '
        "reporters."
    )
    assert speakers(enricher.enrich("", text)) == [("We", "Doug McCallum")]


def test_a_surname_speaker_is_the_person_named_in_full(enricher: Enricher) -> None:
    text = (
        "City councillor Josh Matlow wants new rules for renovations.\n"
        '"The test is whether there really is genuine work to be done," Matlow said.'
    )
    assert speakers(enricher.enrich("", text)) == [("The", "Josh Matlow")]


def test_a_person_just_named_beats_the_last_speaker(enricher: Enricher) -> None:
    text = (
        '"Landlords have a financial motive to evict their tenants," said Ben Myers, '
        "a housing analyst.\n"
        "Rents rose by a fifth last year. Vacancies fell to a record low. Few new towers "
        "opened. The province has promised reform.\n"
        "Exercise also produced results for Mississauga accountant David Okafor.\n"
        '"I had a membership, but this program really helped me build a habit," he says.'
    )
    assert speakers(enricher.enrich("", text))[-1] == ("I", "David Okafor")


def test_a_speech_verb_before_another_quote_is_not_this_ones(enricher: Enricher) -> None:
    text = (
        '"I always felt it deserved to be longer," says Christopher House. '
        '"It is fascinating to come back to an idea." Jeanine Durning did not need much '
        'coaxing. "I am thankful for the invitation and this chance to explore."'
    )
    assert speakers(enricher.enrich("", text)) == [
        ("I", "Christopher House"),
        ("It", "Christopher House"),
        ("I", "Jeanine Durning"),
    ]


def test_a_name_between_quote_and_verb_when_the_parse_takes_a_quoted_word(
    enricher: Enricher,
) -> None:
    text = (
        '"We support people sharing their views on the app, but we do not allow spamming," '
        "Rosette Pambakian, a company spokeswoman, said in an email."
    )
    (quote,) = enricher.enrich("", text).quotes
    assert quote.speaker is not None and quote.speaker.endswith("Pambakian")


def test_an_unsigned_document_is_described(enricher: Enricher) -> None:
    text = (
        "The census bureau published its findings on Tuesday.\n"
        '"Current immigrants and their descendants are integrating into society," the report '
        "concluded."
    )
    (quote,) = enricher.enrich("", text).quotes
    assert (quote.speaker, quote.speaker_type) == ("the report", "DESCRIPTOR")


def test_her_statement_without_an_author_is_no_description(enricher: Enricher) -> None:
    text = 'Her statement said the group was "shocked and saddened by the news today."'
    (quote,) = enricher.enrich("", text).quotes
    assert quote.speaker is None


def test_according_to_names_its_source(enricher: Enricher) -> None:
    text = (
        'The book "draws a deeply troubling portrait of a highly unlikeable candidate," '
        "according to its online summary."
    )
    (quote,) = enricher.enrich("", text).quotes
    assert quote.speaker == "its online summary"


def test_a_list_of_quoted_slogans_is_no_quote(enricher: Enricher) -> None:
    text = (
        'With signs reading "Quebec please separate now," "Build more pipelines" and "The UN '
        'is a scam," about 100 protesters rallied downtown.'
    )
    assert enricher.enrich("", text).quotes == []


def test_an_unattributed_scare_phrase_is_left_out_but_a_spoken_one_kept(
    enricher: Enricher,
) -> None:
    text = (
        'The state removed voters from the lists in a "use it or lose it" approach.\n'
        'The council passed the "first come, first served" rule on Monday.\n'
        '"We will not accept it," Mayor Ann Kerr said.'
    )
    assert speakers(enricher.enrich("", text)) == [("We", "Ann Kerr")]


def test_the_mayor_of_an_article_about_one_mayor(enricher: Enricher) -> None:
    text = (
        "Surrey mayoral candidate Doug McCallum promised a SkyTrain line.\n"
        "McCallum won the election in October. McCallum then cancelled the arena.\n"
        "The council agreed with the plan on Monday night.\n"
        "Ice rinks were busy all winter in the city, and parents were angry.\n"
        '"We have seen declining use of ice for hockey for nine years," the mayor told '
        "reporters."
    )
    assert speakers(enricher.enrich("", text)) == [("We", "Doug McCallum")]


def test_an_age_describes_the_speaker(enricher: Enricher) -> None:
    text = "I labelled one of the animals a dad.\n“No, that is the mom,” says my two-year-old."
    (quote,) = enricher.enrich("", text).quotes
    assert quote.speaker_type == "DESCRIPTOR" and quote.speaker.endswith("two-year-old")


def test_whose_words_a_quoted_phrase_is(enricher: Enricher) -> None:
    text = (
        "Donald Trump spoke in South Carolina on Monday.\n"
        "His standing improved after Trump's call for \"a total and complete ban on all "
        'visitors" last week.'
    )
    (quote,) = enricher.enrich("", text).quotes
    assert quote.speaker == "Donald Trump"
