"""Who a speaker is: names the model missed, descriptions, and the subject of a speech verb."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from briefing.nlp.first_names import opens_with_given_name
from briefing.nlp.speech import SPEECH_FORMS, WEAK_LEMMAS

# Who may stand under a quote as a name; anything else is a description or nobody.
SPEAKER_KINDS = frozenset({"PERSON", "ORG", "GPE", "NORP"})
DESCRIPTOR = "DESCRIPTOR"
_NOT_PEOPLE = frozenset({"ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "EVENT"})
MAX_DESCRIPTOR_WORDS = 8
_DESCRIPTOR_PREPS = frozenset({"for", "of", "at", "with", "from", "in"})
_CLIMB = frozenset({"advcl", "xcomp", "conj", "pcomp", "prep", "pobj"})
_PERSON_TITLE_WORD = re.compile(
    r"^(?:deputy|vice|acting|former|governor|president|minister|secretary|senator|sen|rep|"
    r"mayor|chairman|chairwoman|director|chief|judge|general|gen|coach|organizer|organiser|"
    r"spokesman|spokeswoman|spokesperson|professor|prof|dr|mr|mrs|ms|sir)\.?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who said a quote: a canonical name or a description, and its kind."""

    name: str
    kind: str  # PERSON, ORG, GPE, NORP or DESCRIPTOR


def subject_of(verb: Token) -> Token | None:
    """Return a verb's subject, or that of the clause it hangs on ("..., adding that")."""
    current = verb
    for _ in range(4):
        for child in current.children:
            if child.dep_ == "nsubj":
                return child
            if child.dep_ == "nsubjpass":
                # "was quoted as saying": the subject spoke; "was described as": someone else
                return child if SPEECH_FORMS.get(current.lower_) == "quote" else _agent(current)
        if current.dep_ == "relcl":  # "Smith, who said"
            return current.head
        if current.dep_ == "acl" and current.head.tag_.startswith("NN"):  # "a statement saying"
            return current.head
        if current.dep_ not in _CLIMB or current.head.i == current.i:
            return _agent(current)
        current = current.head
    return None


def _agent(verb: Token) -> Token | None:
    """Return the "by X" of a passive verb."""
    for child in verb.children:
        if child.dep_ == "agent":
            return next((g for g in child.children if g.dep_ == "pobj"), None)
    return None


def descriptor(token: Token) -> Speaker | None:
    """Describe an unnamed speaker by its noun phrase: "an EU official", "a spokesperson for X"."""
    words = [t for t in token.subtree if t.i <= token.i and t.i >= token.left_edge.i]
    words = [t for t in words if t.dep_ != "punct" or t.text == "-" or t.i == token.i]
    for child in token.children:
        if child.dep_ == "prep" and child.i > token.i and child.lower_ in _DESCRIPTOR_PREPS:
            extra = list(child.subtree)
            if len(words) + len(extra) <= MAX_DESCRIPTOR_WORDS:
                words += extra
            break
    words.sort(key=lambda t: t.i)
    if not words or len(words) > MAX_DESCRIPTOR_WORDS + 2:
        return None
    text = "".join(
        t.text + (t.whitespace_ if n + 1 < len(words) and words[n + 1].i == t.i + 1 else " ")
        for n, t in enumerate(words)
    ).strip()
    return Speaker(text, DESCRIPTOR) if len(text) > 2 else None


def token_entities(doc: Doc, entity_at: Mapping[int, str], kinds: dict[str, str]) -> dict[int, str]:
    """Map token indexes to canonical entities, adding the people the model did not tag.

    The small model misses many names ("Carole Laurin") and second mentions ("Lonechild
    said"): a proper noun that is the subject of a speech verb is a person, and a proper noun
    that is the last word of a person named in full is that person (the one named last before
    it when two share the surname). A name that opens with a common given name is a person
    whatever the raw tag. New people are added to kinds.
    """
    for full, kind in list(kinds.items()):
        if kind in _NOT_PEOPLE and opens_with_given_name(full):
            kinds[full] = "PERSON"  # "Michelle Rempel" tagged ORG: a given name says person
    ent_of: dict[int, str] = {}
    for ent in doc.ents:
        name = entity_at.get(ent.start_char)
        if name is not None:
            end = ent.end
            while end + 1 < len(doc) and doc[end].text == "-" and not doc[end - 1].whitespace_:
                end += 2  # "Seo Min" + "-jae": the whole name, as the mention was extended
            ent_of.update(dict.fromkeys(range(ent.start, min(end, len(doc))), name))
    proper = [token for token in doc if token.tag_ == "NNP" and token.i not in ent_of]
    for token in proper:
        if token.dep_ == "nsubj" and not _surname_of_someone(token.text, kinds):
            lemma = SPEECH_FORMS.get(token.head.lower_)
            if lemma and lemma not in WEAK_LEMMAS and token.head.tag_.startswith("VB"):
                chain = _proper_chain(token)
                named = proper_name(token)
                if named is not None and not any(t.i in ent_of for t in chain):
                    kinds.setdefault(named.name, "PERSON")
                    ent_of.update(dict.fromkeys((t.i for t in chain), named.name))
    surnames: dict[str, str | None] = {}
    for name, kind in kinds.items():
        words = name.split()
        if kind == "PERSON" and len(words) > 1:
            key = words[-1]
            surnames[key] = None if surnames.get(key, name) != name else name
    if surnames:
        # Two people of one surname ("Jeanine Durning", "Charles Durning"): a surname alone
        # is the one named in full last before it.
        latest: dict[str, str] = {}
        in_order = sorted(ent_of.items())
        position = 0
        for token in proper:
            while position < len(in_order) and in_order[position][0] < token.i:
                full = in_order[position][1]
                if kinds.get(full) == "PERSON" and " " in full:
                    latest[full.rsplit(" ", 1)[-1]] = full
                position += 1
            if token.i not in ent_of and token.text in surnames:
                found = surnames[token.text] or latest.get(token.text)
                if found is not None:
                    ent_of[token.i] = found
    return ent_of


def is_title_word(word: str) -> bool:
    """Tell whether a word is a person's title ("mayor", "senator")."""
    return bool(_PERSON_TITLE_WORD.match(word))


def _surname_of_someone(word: str, kinds: Mapping[str, str]) -> bool:
    """Tell whether a word is the last name of a person named in full ("Matlow said")."""
    return any(kind == "PERSON" and name.endswith(" " + word) for name, kind in kinds.items())


def proper_name(token: Token) -> Speaker | None:
    """Name a speaker the model did not tag from its proper nouns, titles dropped."""
    chain = _proper_chain(token)
    if not all(t.text[:1].isupper() for t in chain):
        return None
    words = [t.text for t in chain]
    while len(words) > 1 and _PERSON_TITLE_WORD.match(words[0]):
        words.pop(0)  # "Deputy Governor Seo Min-jae" is Seo Min-jae
    return Speaker(_hyphenated(chain, " ".join(words)), "PERSON")


def _hyphenated(chain: list[Token], name: str) -> str:
    """Add a hyphenated tail the tokenizer split off ("Seo Min" + "-jae")."""
    doc, end = chain[-1].doc, chain[-1].i
    while end + 2 < len(doc) and doc[end + 1].text == "-" and not doc[end].whitespace_:
        if doc[end + 1].whitespace_ or not doc[end + 2].is_alpha:
            break
        name += "-" + doc[end + 2].text
        end += 2
    return name


def _proper_chain(token: Token) -> list[Token]:
    """Return a proper noun with the proper nouns compounded to its left ("Carole Laurin")."""
    chain = [token]
    for child in reversed([c for c in token.children if c.i < token.i]):
        if child.dep_ == "compound" and child.tag_ == "NNP" and child.i == chain[0].i - 1:
            chain.insert(0, child)
    return chain
