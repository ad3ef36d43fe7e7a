"""Who "he" and "she" are: an article's person mentions, their likely gender, and salience."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spacy.tokens import Doc

from briefing.nlp.first_names import given_name_gender
from briefing.nlp.speech import HONORIFIC_GENDER, PRONOUNS_FEMALE, PRONOUNS_MALE

_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
RECENT_SENTENCES = 3  # a subject this close is who a following he/she usually means
PROMINENT_MENTIONS = 3  # named this often, and twice as often as anyone else: the subject
NEAR_SENTENCES = 1  # a person named this close, in any role, beats the last speaker quoted
# Words that stand before a name as its title and come back alone as "the mayor said".
_TITLE_TAGS = frozenset({"NN", "NNP"})


@dataclass(frozen=True, slots=True)
class PersonMention:
    """A person or organisation named outside the quotes: token, name, sentence, subject?"""

    token: int
    name: str
    sentence: int
    subject: bool
    kind: str = "PERSON"


class People:
    """The person mentions of one article, in order, with a gender guess for each person."""

    def __init__(
        self,
        doc: Doc,
        ent_of: Mapping[int, str],
        kinds: Mapping[str, str],
        inside: Sequence[bool],
        sentence_of_token: Sequence[int],
    ) -> None:
        found: list[PersonMention] = []
        seen_entity: set[int] = set()
        # A name before its sentence's first verb is what the sentence is about, whatever the
        # parse says (it often joins a heading to the paragraph after it).
        leading = _before_first_verb(doc, sentence_of_token)
        led: set[int] = set()
        for i, name in sorted(ent_of.items()):
            kind = kinds.get(name, "")
            if kind not in ("PERSON", "ORG") or inside[i]:
                continue
            token = doc[i]
            # One mention per entity span: its syntactic head, which carries the role.
            head = token
            while head.head.i != head.i and ent_of.get(head.head.i) == name:
                head = head.head
            if head.i in seen_entity:
                continue
            seen_entity.add(head.i)
            subject = head.dep_ in _SUBJECTS or (
                leading[head.i] and sentence_of_token[i] not in led
            )
            if leading[head.i]:
                led.add(sentence_of_token[i])  # only the first name before the verb leads
            found.append(PersonMention(head.i, name, sentence_of_token[i], subject, kind))
        found.sort(key=lambda m: m.token)
        self.mentions = [m for m in found if m.kind == "PERSON"]
        self.organisations = [m for m in found if m.kind == "ORG"]
        self.positions = [m.token for m in self.mentions]
        self.gender = _genders(doc, self.mentions, inside, sentence_of_token)
        self.names = {m.name for m in self.mentions}
        self.titles = _titles(doc, self.mentions)

    def compatible(self, name: str, gender: str) -> bool:
        """Tell whether a person may be referred to by a pronoun of this gender."""
        known = self.gender.get(name)
        return known is None or known == gender

    def resolve(self, token_index: int, sentence: int, gender: str, last: str | None) -> str | None:
        """Name the person a he/she at token_index stands for."""
        end = bisect.bisect_left(self.positions, token_index)
        fallback: PersonMention | None = None
        for mention in reversed(self.mentions[:end]):
            if not self.compatible(mention.name, gender):
                continue
            recent = sentence - mention.sentence <= RECENT_SENTENCES
            if mention.subject and recent:
                return mention.name
            if fallback is None:
                fallback = mention
            if not recent:
                break
        if fallback is not None and sentence - fallback.sentence <= NEAR_SENTENCES:
            return fallback.name  # 'advocate Josh Matlow told HuffPost …. “…,” he said'
        if last is not None and last in self.names and self.compatible(last, gender):
            return last  # the last speaker quoted goes on speaking
        return fallback.name if fallback else None

    def recent_subject(
        self, token_index: int, sentence: int, reach: int = 2, after: int = -1
    ) -> str | None:
        """Return the person most recently the subject of a sentence, within reach sentences
        (and after token index `after`)."""
        end = bisect.bisect_left(self.positions, token_index)
        for mention in reversed(self.mentions[:end]):
            if sentence - mention.sentence > reach or mention.token <= after:
                break
            if mention.subject:
                return mention.name
        return None

    def prominent(self) -> str | None:
        """Return the person the article is about: named most often, clearly ahead."""
        counts = Counter(m.name for m in self.mentions).most_common(2)
        if not counts or counts[0][1] < PROMINENT_MENTIONS:
            return None
        if len(counts) > 1 and counts[1][1] * 2 > counts[0][1]:
            return None
        return counts[0][0]

    def titled(self, token_index: int, title: str) -> str | None:
        """Return the person last named with a title before a token: "Mayor Doug McCallum"."""
        end = bisect.bisect_left(self.positions, token_index)
        for mention in reversed(self.mentions[:end]):
            if title in self.titles.get(mention.name, ()):
                return mention.name
        return None

    def recent_organisation(self, token_index: int, sentence: int, reach: int = 4) -> str | None:
        """Return the organisation named last before a token ("the company", "it")."""
        best: PersonMention | None = None
        for mention in self.organisations:
            if mention.token >= token_index:
                break
            if sentence - mention.sentence <= reach and (
                best is None or mention.subject or not best.subject
            ):
                best = mention  # the latest subject, else the latest named
        return best.name if best else None


def _genders(
    doc: Doc, mentions: Sequence[PersonMention], inside: Sequence[bool], sentence_of: Sequence[int]
) -> dict[str, str]:
    """Guess each person's gender from honorifics and the pronouns that follow their name."""
    votes: dict[str, Counter[str]] = {}
    for mention in mentions:
        votes.setdefault(mention.name, Counter())
        token = doc[mention.token]
        first = token.left_edge.i if token.left_edge.i < token.i else token.i
        for j in range(max(first - 1, 0), token.i):
            honorific = HONORIFIC_GENDER.get(doc[j].lower_.rstrip("."))
            if honorific:
                votes[mention.name][honorific] += 3
    for name in votes:
        given = given_name_gender(name)  # "Michelle Rempel" is she, whatever follows her name
        if given:
            votes[name][given] += 3
    pending: PersonMention | None = None
    index = 0
    for token in doc:
        while index < len(mentions) and mentions[index].token <= token.i:
            pending, index = mentions[index], index + 1
        if pending is None or inside[token.i] or token.i == pending.token:
            continue
        lower = token.lower_
        gender = "m" if lower in PRONOUNS_MALE else "f" if lower in PRONOUNS_FEMALE else None
        if gender is None:
            continue
        if sentence_of[token.i] - pending.sentence <= 1:
            votes[pending.name][gender] += 1
        pending = None
    out = {}
    for name, counter in votes.items():
        ranked = counter.most_common(2)
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            out[name] = ranked[0][0]
    return out


def _before_first_verb(doc: Doc, sentence_of: Sequence[int]) -> list[bool]:
    """Mark the tokens that come before the first verb of their sentence."""
    marks = [False] * len(doc)
    current, seen_verb = -2, False
    for token in doc:
        if sentence_of[token.i] != current:
            current, seen_verb = sentence_of[token.i], False
        seen_verb = seen_verb or token.tag_.startswith("VB") or token.tag_ == "MD"
        marks[token.i] = not seen_verb
    return marks


def _titles(doc: Doc, mentions: Sequence[PersonMention]) -> dict[str, set[str]]:
    """Collect the title words each person is named with ("Mayor Doug McCallum", "Doug
    McCallum, the mayor"), so that "the mayor said" finds them again."""
    titles: dict[str, set[str]] = {}
    for mention in mentions:
        token = doc[mention.token]
        words = titles.setdefault(mention.name, set())
        for j in range(max(token.left_edge.i, token.i - 4), token.i):
            if doc[j].tag_ in _TITLE_TAGS and doc[j].is_alpha:
                words.add(doc[j].lower_)
        for child in token.children:
            if child.dep_ == "appos" and child.tag_ in _TITLE_TAGS:
                words.add(child.lower_)
        if token.dep_ == "appos" and token.head.tag_ in _TITLE_TAGS:
            words.add(token.head.lower_)  # "the mayor, Doug McCallum"
    return titles
