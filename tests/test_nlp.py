"""Tests for the enrichment stage: entities, aliases, quotes, sentences, key phrases."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing.nlp.enrich import Enricher, Enrichment, Entity, Quote, load_aliases, load_pipeline
from briefing.nlp.entities import (
    Mention,
    alias_key,
    clean_surface,
    display_name,
    load_alias_table,
    resolve_entities,
)
from briefing.nlp.quotes import find_quote_spans

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_1c9110ec35ad72f2.txt"
SEED_TITLE = "US to press for action over N. Korea provocations after Kim-Putin summit"


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher()


@pytest.fixture(scope="module")
def seed(enricher: Enricher) -> Enrichment:
    return enricher.enrich(SEED_TITLE, SEED.read_text(encoding="utf-8"))


def _entity(result: Enrichment, text: str) -> Entity:
    matches = [e for e in result.entities if e.text == text]
    assert matches, f"{text!r} not in {[e.text for e in result.entities]}"
    return matches[0]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Kim Jong-un", "PERSON"),
        ("Vladimir Putin", "PERSON"),
        ("Jake Sullivan", "PERSON"),
        ("Cho Tae-yong", "PERSON"),
        ("Takeo Akiba", "PERSON"),
        ("North Korea", "GPE"),
        ("Russia", "GPE"),
        ("Ukraine", "GPE"),
    ],
)
def test_seed_entities_are_canonical(seed: Enrichment, name: str, label: str) -> None:
    assert _entity(seed, name).label == label


def test_seed_short_names_fold_into_full_names(seed: Enrichment) -> None:
    names = {e.text for e in seed.entities}
    assert not names & {"Kim", "Putin", "Sullivan", "The United States", "US"}
    assert _entity(seed, "Kim Jong-un").count >= 5
    assert "Kim" in _entity(seed, "Kim Jong-un").mentions
    assert _entity(seed, "Jake Sullivan").count >= 3


def test_seed_aliases_and_demonyms_merge(seed: Enrichment) -> None:
    north_korea = _entity(seed, "North Korea")
    assert {"N. Korea", "North Korean"} <= set(north_korea.mentions)
    assert "Russian" in _entity(seed, "Russia").mentions
    assert _entity(seed, "United States").count >= 3


def test_seed_drops_titles_and_wire_credit(seed: Enrichment) -> None:
    names = {e.text for e in seed.entities}
    assert "National Security Advisor" not in names
    assert "Yonhap" not in names
    assert seed.sentences[-1].endswith("voted for.")


def test_seed_entities_sorted_by_count(seed: Enrichment) -> None:
    counts = [e.count for e in seed.entities]
    assert counts == sorted(counts, reverse=True)
    assert {e.label for e in seed.entities} <= {"PERSON", "ORG", "GPE", "NORP", "LOC", "EVENT"}


def test_seed_sullivan_quotes(seed: Enrichment) -> None:
    by_start = {q.text.split()[0:4].__str__(): q for q in seed.quotes}
    assert len(seed.quotes) == 4, by_start.keys()
    press, view, three, aligned = seed.quotes
    assert press.text.startswith("We will continue to press for further action")
    assert press.text.endswith("international law")
    assert view.text.startswith("Our view has been before")
    assert (press.verb, view.verb) == ("told", "said")
    assert three.text.startswith("The three of us")
    assert aligned.text.startswith("We are very closely aligned")
    assert {q.speaker for q in seed.quotes} == {"Jake Sullivan"}
    assert "We will continue" in seed.sentences[press.sentence_index]
    assert "We are very closely" in seed.sentences[aligned.sentence_index]


def test_seed_scare_quote_is_not_kept(seed: Enrichment) -> None:
    assert not any(q.text.rstrip(".") == "advance" for q in seed.quotes)


def test_seed_sentences_are_clean(seed: Enrichment) -> None:
    assert len(seed.sentences) == 10
    assert seed.sentences[1].endswith('"advance."')
    assert seed.sentences[2].startswith("North Korean leader Kim Jong-un")
    assert all(s == s.strip() and "\n" not in s for s in seed.sentences)
    assert SEED_TITLE not in seed.sentences


def test_seed_key_phrases(seed: Enrichment) -> None:
    assert 5 <= len(seed.key_phrases) <= 10
    assert any("arms deal" in p for p in seed.key_phrases)
    lowered = [p.casefold() for p in seed.key_phrases]
    assert not {"the", "he", "it", "we", "north korea"} & set(lowered)
    assert not any(p.startswith(("the ", "a ", "an ")) for p in lowered)


def test_round_trip_through_json(seed: Enrichment) -> None:
    data = json.loads(json.dumps(seed.to_dict()))
    assert Enrichment.from_dict(data) == seed
    assert data["quotes"][0]["speaker"] == "Jake Sullivan"


def test_enrichment_is_deterministic(enricher: Enricher, seed: Enrichment) -> None:
    text = SEED.read_text(encoding="utf-8")
    again = list(enricher.enrich_many([(SEED_TITLE, text), ("", "")]))
    assert again[0].to_dict() == seed.to_dict()


def test_empty_text(enricher: Enricher) -> None:
    result = enricher.enrich("", "")
    assert result.entities == [] and result.quotes == [] and result.sentences == []
    assert result.key_phrases == []
    assert result.model


def test_title_entities_count(enricher: Enricher) -> None:
    result = enricher.enrich("DPRK fires missile", "The launch was detected on Monday.")
    assert [e.text for e in result.entities] == ["North Korea"]
    assert result.sentences == ["The launch was detected on Monday."]


@pytest.mark.parametrize("alias", ["DPRK", "D.P.R.K.", "N. Korea", "n korea", "North Korea"])
def test_aliases_map_to_north_korea(alias: str) -> None:
    assert load_aliases()[alias_key(alias)] == "North Korea"


def test_capital_is_not_an_alias_of_its_country() -> None:
    aliases = load_aliases()
    assert alias_key("Pyongyang") not in aliases
    assert alias_key("Moscow") not in aliases


def test_extra_aliases_extend_table(tmp_path: Path) -> None:
    aliases = load_aliases(extra={"Pyongyang regime": "North Korea", "KJU": "Kim Jong-un"})
    assert aliases[alias_key("kju")] == "Kim Jong-un"
    assert aliases[alias_key("DPRK")] == "North Korea"
    custom = tmp_path / "aliases.toml"
    custom.write_text('[aliases]\n"Acme Corp" = ["Acme"]\n[display]\n"Acme Corp" = "ACME"\n')
    table = load_alias_table(custom)
    assert table.aliases == {"acme corp": "Acme Corp", "acme": "Acme Corp"}
    assert display_name("Acme Corp", table.display) == "ACME"
    assert display_name("Other", table.display) == "Other"
    assert display_name("North Korea", {"North Korea": "DPRK"}) == "DPRK"
    assert display_name("North Korea", None) == "North Korea"


def test_custom_aliases_reach_enricher(enricher: Enricher) -> None:
    custom = Enricher(aliases={"Pyongyang": "North Korea"})
    text = "Pyongyang said on Monday that the talks would go on."
    assert [e.text for e in custom.enrich("", text).entities][:1] == ["North Korea"]
    assert "Pyongyang" in [e.text for e in enricher.enrich("", text).entities]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("the United States", "United States"),
        ("North Korea's", "North Korea"),
        ("Ukrainians'", "Ukrainians"),
        ("  Jake\n Sullivan ", "Jake Sullivan"),
        ("Mr. Biden", "Biden"),
        ("Kim’s", "Kim"),
    ],
)
def test_clean_surface(raw: str, clean: str) -> None:
    assert clean_surface(raw) == clean


def test_short_names_resolve_forwards_and_backwards() -> None:
    mentions = [
        Mention("Sullivan", "PERSON", 0),
        Mention("Jake Sullivan", "PERSON", 10),
        Mention("Kim", "PERSON", 30),
        Mention("Kim Jong-un", "PERSON", 40),
        Mention("Sullivan", "ORG", 60),  # a mislabel still folds into the person
        Mention("Biden", "PERSON", 70),
    ]
    entities, starts = resolve_entities(mentions, {})
    by_text = {e.text: e for e in entities}
    assert set(by_text) == {"Jake Sullivan", "Kim Jong-un", "Biden"}
    assert by_text["Jake Sullivan"].count == 3
    assert by_text["Jake Sullivan"].label == "PERSON"
    assert starts[0] == starts[60] == "Jake Sullivan"
    assert starts[30] == "Kim Jong-un"


def test_ambiguous_short_name_goes_to_most_mentioned() -> None:
    mentions = [
        Mention("Kim Yo-jong", "PERSON", 0),
        Mention("Kim Jong-un", "PERSON", 20),
        Mention("Kim Jong Un", "PERSON", 40),
        Mention("Kim", "PERSON", 60),
    ]
    entities, _ = resolve_entities(mentions, load_aliases())
    assert [(e.text, e.count) for e in entities] == [("Kim Jong-un", 3), ("Kim Yo-jong", 1)]


def test_mislabel_keeps_most_frequent_label() -> None:
    mentions = [Mention("Apple", "ORG", 0), Mention("Apple", "ORG", 9), Mention("Apple", "GPE", 20)]
    entities, _ = resolve_entities(mentions, {})
    assert [(e.text, e.label, e.count) for e in entities] == [("Apple", "ORG", 3)]


def test_quote_spans_pair_curly_and_straight_marks() -> None:
    text = '“One two three,” she said. He said "four five six."\n“Unclosed runs on'
    spans = find_quote_spans(text)
    quoted = [text[s.start : s.end] for s in spans]
    assert quoted == ["One two three,", "four five six.", "Unclosed runs on"]


def test_paragraph_ending_a_quote_opened_earlier() -> None:
    text = 'We appreciate your privacy at this time, " the rep told the magazine.\n'
    text += 'He said, "no more."'
    spans = find_quote_spans(text)
    assert [text[s.start : s.end] for s in spans] == [
        "We appreciate your privacy at this time, ",
        "no more.",
    ]
    assert not spans[0].has_open and spans[1].has_open


def test_quote_marks_stay_with_their_sentences(enricher: Enricher) -> None:
    text = (
        'The tricky part is the monologue," Pond said. "He is charming, but not a comic."\n'
        'He said, " Ask anyone who knows him. " And " he can sing and he can dance. "\n'
        "Ms. Lee said Dr. Chu spoke at 5 p.m. on Friday."
    )
    result = enricher.enrich("", text)
    assert result.sentences[:2] == [
        'The tricky part is the monologue," Pond said.',
        '"He is charming, but not a comic."',
    ]
    assert result.sentences[-1] == "Ms. Lee said Dr. Chu spoke at 5 p.m. on Friday."
    assert result.sentences[2:4] == [
        'He said, " Ask anyone who knows him. "',
        'And " he can sing and he can dance. "',
    ]
    assert [q.speaker for q in result.quotes][:2] == ["Pond", "Pond"]
    assert len(result.quotes) == 4


def test_quote_attribution_across_sentences(enricher: Enricher) -> None:
    text = (
        "Below is a statement by Francesca Grifo, director of the programme:\n"
        '"Several last-minute changes have undermined the act and its science."\n'
        '"We are trying to get away from this rut," Mr. Mark said in an interview.\n'
        '"It seemed to us that we needed to turn a corner."\n'
        'Banners read: "The State Kills" and "Down With The Government".\n'
        'On spotting the helicopter, the pirate boats broke off their attack, " said an officer.'
    )
    quotes = enricher.enrich("", text).quotes
    got = [(q.text.split()[0], q.speaker) for q in quotes]
    assert got == [
        ("Several", "Francesca Grifo"),
        ("We", "Mark"),
        ("It", "Mark"),
        ("On", "an officer"),  # a description stays one: never a bare "officer"
    ]


def test_quote_patterns(enricher: Enricher) -> None:
    text = (
        "Foreign Minister Sergei Lavrov met Antony Blinken in Jakarta on Thursday.\n"
        "“We have nothing to hide from anyone at all,” said Lavrov.\n"
        "Blinken told reporters: “The door to diplomacy remains open for now.”\n"
        "He added that the sanctions would stay. “They will stay in place for a long time.”\n"
        'The plan is "dead on arrival for the region," according to Lavrov.'
    )
    quotes = enricher.enrich("", text).quotes
    got = [(q.text.split()[0], q.speaker) for q in quotes]
    assert got == [
        ("We", "Sergei Lavrov"),
        ("The", "Antony Blinken"),
        ("They", "Antony Blinken"),
        ("dead", "Sergei Lavrov"),
    ]
    assert quotes[-1].verb == "according to"


def test_load_pipeline_names_what_it_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    import briefing.nlp.enrich as nlp_module

    monkeypatch.setattr(nlp_module, "FALLBACK_MODELS", ("no_such_model_b",))
    with pytest.raises(RuntimeError, match="no_such_model_a, no_such_model_b"):
        load_pipeline("no_such_model_a")


def test_quote_from_dict_accepts_missing_speaker() -> None:
    quote = Quote.from_dict({"text": "a b c", "sentence_index": 2})
    assert quote == Quote("a b c", None, None, 2)


@pytest.mark.slow
def test_worker_processes_give_the_same_results(enricher: Enricher, seed: Enrichment) -> None:
    text = SEED.read_text(encoding="utf-8")
    articles = [(SEED_TITLE, text), ("", ""), ("DPRK fires missile", "It flew 500 km.")] * 3
    with Enricher(n_process=2, batch_size=2) as parallel:
        results = list(parallel.enrich_many(iter(articles)))
    assert [r.to_dict() for r in results] == [r.to_dict() for r in enricher.enrich_many(articles)]
    assert results[0] == seed and results[6] == seed


def test_a_loaded_enricher_shares_the_work_with_one_worker(
    enricher: Enricher, seed: Enrichment
) -> None:
    """After the crawl, the in-step enrichment keeps its model and adds processes - 1 workers."""
    text = SEED.read_text(encoding="utf-8")
    articles = [(SEED_TITLE, text), ("", ""), ("DPRK fires missile", "It flew 500 km.")] * 3
    with Enricher(batch_size=2) as shared:
        shared.enrich("Warm-up", "The model loads here first.")
        shared.share_with_workers(2)
        results = list(shared.enrich_many(iter(articles)))
        assert shared._pool is not None and shared._pool._max_workers == 1
    assert [r.to_dict() for r in results] == [r.to_dict() for r in enricher.enrich_many(articles)]
    assert results[0] == seed and results[6] == seed


class _SlowWorker:
    """A stand-in pool of one worker that never gets through a batch while it is watched.

    started: its model is loaded (the readiness probe is done) or it is still loading.
    """

    def __init__(self, here: Enricher, started: bool) -> None:
        self.here = here
        self.started = started
        self.given: list[list[tuple[str, str]]] = []

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        if not args:  # the readiness probe
            probe: Future[Any] = _Unstarted(function)
            if self.started:
                probe.result()
            return probe
        self.given.append(args[0])
        return _Unstarted(lambda: [e.to_dict() for e in self.here._enrich_batch(args[0])])

    def shutdown(self, **_: object) -> None:
        pass


class _Unstarted(Future):  # type: ignore[type-arg]
    """A future that is never done until asked for its result, which it then works out."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work

    def result(self, timeout: float | None = None) -> Any:
        if not self.done():
            self.set_result(self.work())
        return super().result(timeout)


@pytest.mark.parametrize(("started", "batches_to_worker"), [(False, 0), (True, 2)])
def test_the_process_with_the_model_takes_what_the_worker_cannot_start(
    enricher: Enricher, started: bool, batches_to_worker: int
) -> None:
    """Batches go as they come, not in turns (which gave the worker 5 of 10 either way).

    A worker still loading its model gets none; a busy one a batch to run and one to follow.
    """
    articles = [(f"Story {n}", f"Police in Seoul arrested {n} men on Monday.") for n in range(160)]
    with Enricher(batch_size=64) as shared:  # 10 tasks of 16
        shared.enrich("Warm-up", "The model loads here first.")  # as in the in-step child
        shared.share_with_workers(2)
        worker = _SlowWorker(shared, started)
        shared._pool = worker  # type: ignore[assignment]
        results = list(shared.enrich_many(iter(articles)))
    assert len(worker.given) == batches_to_worker
    assert [r.to_dict() for r in results] == [r.to_dict() for r in enricher.enrich_many(articles)]


def test_person_titles_fold_into_the_name() -> None:
    mentions = [
        Mention("Comedian Ellen DeGeneres", "PERSON", 0),
        Mention("Ellen DeGeneres", "PERSON", 30),
        Mention("GM Theo Epstein", "PERSON", 50),
        Mention("Interior Dirk Kempthorne", "PERSON", 70),
        Mention("Dirk Kempthorne", "PERSON", 90),
        Mention("King Charles", "PERSON", 110),
    ]
    entities, _ = resolve_entities(mentions, {})
    assert [(e.text, e.count) for e in entities] == [
        ("Ellen DeGeneres", 2),
        ("Dirk Kempthorne", 2),
        ("Theo Epstein", 1),
        ("King Charles", 1),
    ]


def test_title_case_headline_entities_need_the_body(enricher: Enricher) -> None:
    title = "Accused Philadelphia Kraft Foods Killer Held For Trial"
    body = "Yvonne Hiller will stand trial for the shootings at a Kraft Foods plant, a judge ruled."
    names = [e.text for e in enricher.enrich(title, body).entities]
    assert "Yvonne Hiller" in names and "Kraft Foods" in names
    assert not any("Killer" in n or "Trial" in n for n in names)


def test_demonyms_count_as_their_country(enricher: Enricher) -> None:
    text = (
        "Thousands of Greeks marched in Athens. Greek police said Greece would not change course."
    )
    greece = [e for e in enricher.enrich("", text).entities if e.text == "Greece"]
    assert greece and greece[0].label == "GPE" and greece[0].count >= 2
    assert {"Greek", "Greece"} <= set(greece[0].mentions)
    assert alias_key("Jordanian") not in load_aliases()  # "Jordan" is a name as often


def test_surname_matches_past_generational_suffix() -> None:
    mentions = [Mention("Anthony LaCalamita III", "PERSON", 0), Mention("LaCalamita", "PERSON", 40)]
    entities, _ = resolve_entities(mentions, {})
    assert [(e.text, e.count) for e in entities] == [("Anthony LaCalamita III", 2)]


_PIECES = ['"', "“", "”", "\n", ".", ",", ":", "said", "he", "Kim", "Jake Sullivan", "told"]
_PIECES += ["according to", "the talks", "(AP)", "Mr.", "’"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_any_text_enriches_consistently(enricher: Enricher, pieces: list[str]) -> None:
    text = " ".join(pieces)
    result = enricher.enrich("", text)
    assert all(0 <= q.sentence_index < len(result.sentences) for q in result.quotes)
    assert all(s and s == s.strip() for s in result.sentences)
    assert enricher.enrich("", text) == result


def test_dateline_and_credit_are_not_the_story(enricher: Enricher) -> None:
    text = (
        "SEOUL, Sept. 15 (Yonhap) -- North Korea fired a missile toward the East Sea, "
        "the Joint Chiefs of Staff said.\nThe launch came after the summit. (END)"
    )
    result = enricher.enrich("", text)
    names = {e.text for e in result.entities}
    assert "North Korea" in names
    assert not names & {"Seoul", "Yonhap", "END"}
    assert result.sentences[0].startswith("North Korea fired a missile")
    assert result.sentences[-1] == "The launch came after the summit."
