"""Attribute quotes to speakers: the speech verb a quote hangs on, its subject, and who that is."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from spacy.tokens import Doc, Token

from briefing.nlp.coreference import People
from briefing.nlp.quote_marks import QuoteSpan, Region
from briefing.nlp.speaker_names import (
    DESCRIPTOR,
    SPEAKER_KINDS,
    Speaker,
    descriptor,
    is_title_word,
    proper_name,
    subject_of,
)
from briefing.nlp.speech import (
    DOCUMENT_NOUNS,
    ORGANISATION_NOUNS,
    SPEECH_FORMS,
    SUBJECT_PRONOUNS,
    WEAK_LEMMAS,
    is_speaker_noun,
)

_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_CLIMB = frozenset({"advcl", "xcomp", "conj", "pcomp", "prep", "pobj"})
IT_REACH = 6  # sentences back that "it said" looks for its organisation
MAX_TAIL_TOKENS = 15  # how far after a quote its attribution may start, past a full stop
_DASHES = frozenset("—―–-")
_BREAKS = frozenset({"IN", "TO", "CC", "WDT", "WP"})  # "said of the …", "said that …"
_QUOTED_ROLES = frozenset({"ccomp", "parataxis", "dobj"})
# Verbs that link or possess rather than report: "his slogan is “…”", "she has “…”".
_NOT_REPORTING = frozenset(
    """is was were are be been being 's has have had having do does did get gets got become
    became seem seems seemed want wants wanted need needs needed""".split()
)
_NAME_DEPS = frozenset({"compound", "appos", "nmod", "npadvmod"})
# Nouns for what someone said: their owner ("Trump's call for", "her claim that") spoke.
_WORDS_NOUNS = frozenset(
    """call calls claim claims remark remarks comment comments words statement promise pledge
    vow warning description phrase slogan line quip joke plea demand question answer reply
    response message tweet assertion insistence admission suggestion argument""".split()
)
_DOCUMENT_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those"})
_PHRASAL = frozenset({"for", "on", "upon", "off", "to", "in", "up"})  # "call for", "add to"


class Attributor:
    """Find each quote's speech verb and name its subject, using the parse and the entities."""

    def __init__(
        self,
        doc: Doc,
        text: str,
        ent_of: Mapping[int, str],
        kinds: Mapping[str, str],
        spans: Sequence[QuoteSpan],
        sentences: Sequence[Region],
    ) -> None:
        self.doc, self.text, self.spans = doc, text, spans
        self.ent_of, self.kinds = ent_of, kinds
        self.starts = [a for a, _ in sentences]
        self.ends = [b for _, b in sentences]
        self.token_starts = [t.idx for t in doc]
        self.inside = [False] * len(doc)
        for span in spans:
            lo = bisect.bisect_left(self.token_starts, span.start)
            hi = bisect.bisect_left(self.token_starts, span.end)
            self.inside[lo:hi] = [True] * (hi - lo)
        sentence_of_token = [self.sentence_of(start) for start in self.token_starts]
        self.people = People(doc, ent_of, kinds, self.inside, sentence_of_token)
        self.last: str | None = None  # the last person quoted, who may go on speaking

    def sentence_of(self, offset: int) -> int:
        """Return the index of the sentence holding an offset (-1 before the first)."""
        return bisect.bisect_right(self.starts, offset) - 1

    def tokens_in(self, begin: int, end: int) -> list[Token]:
        """Return the tokens that start within [begin, end)."""
        lo = bisect.bisect_left(self.token_starts, begin)
        hi = bisect.bisect_left(self.token_starts, end)
        return [self.doc[i] for i in range(lo, hi)]

    def is_cue(self, token: Token, direct: bool = False) -> bool:
        """Tell whether a token is a speech verb outside the quotes ("weak" ones only directly)."""
        lemma = SPEECH_FORMS.get(token.lower_)
        if lemma is None or not token.tag_.startswith("VB") or self.inside[token.i]:
            return False
        if lemma not in WEAK_LEMMAS:
            return True
        # "continue to be", "asked them to", "call for": not reporting speech
        return direct and not any(
            (c.dep_ == "xcomp" and c.i > token.i)
            or (c.dep_ in ("prep", "prt") and token.i < c.i <= token.i + 2 and c.lower_ in _PHRASAL)
            for c in token.children
        )

    def reports(self, verb: Token, quoted: Token) -> bool:
        """Tell whether any verb reports the quote it governs: "“Go back,” Trump barked"."""
        if quoted.dep_ not in _QUOTED_ROLES or not verb.tag_.startswith("VB"):
            return False
        if verb.lower_ in _NOT_REPORTING or self.inside[verb.i]:
            return False
        subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        return subject is not None and (
            subject.lower_ in SUBJECT_PRONOUNS or self.entity(subject) is not None
        )

    def governing_cue(self, index: int) -> Token | None:
        """Return the speech verb the quote hangs on in the parse, if any.

        A verb beyond the quotes before or after this one belongs to them: the parser links
        across sentences ('…,” says House. “…” Durning did not need coaxing. “I’m …”').
        """
        span = self.spans[index]
        low = max(span.para_start, self.spans[index - 1].end if index else 0)
        following = self.spans[index + 1].open if index + 1 < len(self.spans) else len(self.text)
        high = min(span.para_end, following)
        inside = self.tokens_in(span.start, span.end)
        best: Token | None = None
        for token in inside:
            for child in token.children:  # "said" parsed under the quote's own verb
                if not low <= child.idx < high:
                    continue
                if not self.inside[child.i] and self.is_cue(child, direct=True):
                    best = _nearer(best, child, token)
            head, steps = token.head, 0
            while head.i != token.i and not self.inside[head.i] and steps < 6:
                if not low <= head.idx < high:
                    break  # the parser joined paragraphs or quotes: a verb beyond is another's
                if self.is_cue(head, direct=steps == 0) or (
                    steps == 0 and self.reports(head, token)
                ):
                    best = _nearer(best, head, token)
                    break
                if head.head.i == head.i:
                    break
                head, steps = head.head, steps + 1
        return best

    def attribute(self, index: int) -> tuple[Speaker | None, str | None]:
        """Return (speaker, verb) for the quote at index."""
        span = self.spans[index]
        cue = self.governing_cue(index)
        if cue is None:
            cue = self.adjacent_cue(index)
        if cue is not None:
            return self.speaker_of(cue), cue.lower_
        before, after, lead = self.regions(index)
        for region in (after, before):
            source = self.according_to(region)
            if source is not None:
                return source, "according to"
        for region in (before, lead):
            if self.text[region[0] : region[1]].rstrip().endswith(":"):  # "Shaw put it: “…”"
                named = self.introduced(region)
                if named is not None:
                    return named, None
        tail = self.text[after[0] : after[1]].lstrip(" ,")
        if tail[:1] in _DASHES:  # “…” ― Francisco Herrero
            for token in self.tokens_in(*after)[:6]:
                named = self.entity(token)
                if named is not None:
                    return named, None
        return self.clause_subject(span), None

    def clause_subject(self, span: QuoteSpan) -> Speaker | None:
        """Name the subject of the clause a quoted phrase sits in: 'credited it to “…”'."""
        for token in self.tokens_in(span.start, span.end):
            head, steps = token.head, 0
            while not self.inside[head.i] and steps < 4 and head.idx >= span.para_start:
                if head.lower_ in _WORDS_NOUNS and head.tag_.startswith("NN"):
                    # "Trump's call for “a total and complete ban”": whose words they are
                    owner = next((c for c in head.children if c.dep_ == "poss"), None)
                    named = self.name(owner) if owner is not None else None
                    if named is not None and named.kind != DESCRIPTOR:
                        return named
                if head.tag_.startswith("VB") and head.lower_ not in _NOT_REPORTING:
                    subject = next((c for c in head.children if c.dep_ == "nsubj"), None)
                    if subject is not None and not self.inside[subject.i]:
                        named = self.name(subject)
                        return named if named is not None and named.kind != DESCRIPTOR else None
                if head.head.i == head.i:
                    break
                head, steps = head.head, steps + 1
        return None

    def lead_subject(self, span: QuoteSpan, reach: int = 1, after: int = -1) -> Speaker | None:
        """Name the person the sentence before a quote was about, if it was one (named after
        character offset `after`)."""
        first = bisect.bisect_left(self.token_starts, span.start)
        last = bisect.bisect_left(self.token_starts, after) if after >= 0 else -1
        found = self.people.recent_subject(
            first, self.sentence_of(span.open), reach=reach, after=last
        )
        return Speaker(found, "PERSON") if found else None

    def introduced(self, region: Region) -> Speaker | None:
        """Name who a clause ending in a colon introduces: its subject, else a name in it."""
        tokens = self.tokens_in(*region)
        for token in tokens:
            if token.dep_ == "nsubj" and token.head.dep_ == "ROOT":
                named = self.name(token)
                if named is not None and named.kind != DESCRIPTOR:
                    return named
        for token in tokens:
            named = self.entity(token)
            if named is not None and named.kind in ("PERSON", "ORG"):
                return named
        for token in tokens:  # "She went on:", "From the report:"
            if token.lower_ in SUBJECT_PRONOUNS or token.lower_ in DOCUMENT_NOUNS:
                named = self.name(token)
                if named is not None:
                    return named
        return None

    def adjacent_cue(self, index: int) -> Token | None:
        """Find a speech verb beside the quote when the parse does not link them."""
        span = self.spans[index]
        before, after, lead = self.regions(index)
        verbs = [t for t in self.tokens_in(*after) if self.is_cue(t, direct=True)]
        ends_sentence = self.text[span.start : span.end].rstrip().endswith(".")
        if verbs and not (ends_sentence and verbs[0].idx - after[0] > 40):
            return verbs[0]
        asks = self.text[span.start : span.end].rstrip().endswith(("?", "!"))
        if not verbs and asks:  # '"… How are you?" Miller, a retired worker, said
            tail = self.tokens_in(span.end + 1, span.para_end)[:MAX_TAIL_TOKENS]
            for token in tail:
                if token.tag_ == "." or self.inside[token.i]:
                    break
                if self.is_cue(token, direct=True):
                    return token
        verbs = [t for t in self.tokens_in(*before) if self.is_cue(t, direct=True)]
        if verbs:
            return verbs[-1]
        verbs = [t for t in self.tokens_in(*lead) if self.is_cue(t, direct=True)]
        return verbs[-1] if verbs else None

    def regions(self, index: int) -> tuple[Region, Region, Region]:
        """Return the parts of the quote's sentences before and after it, and its lead-in.

        The lead-in is the previous sentence, used only when the quote opens its own sentence
        ('He added that the talks went well. "They did."'), and only within the paragraph
        unless that sentence ends with a colon ('said Yeager:').
        """
        span = self.spans[index]
        prev_end = self.spans[index - 1].end + 1 if index else 0
        nxt = self.spans[index + 1].open if index + 1 < len(self.spans) else span.para_end
        s_open, s_close = self.sentence_of(span.open), self.sentence_of(span.end)
        floor = max(span.para_start, prev_end)
        before = (max(self.starts[s_open], floor) if s_open >= 0 else floor, span.open)
        after_end = min(self.ends[s_close] if s_close >= 0 else nxt, span.para_end, nxt)
        after = (min(span.end + 1, span.para_end), after_end)
        lead = (0, 0)
        if s_open > 0 and not self.text[before[0] : before[1]].strip():
            a, b = max(self.starts[s_open - 1], prev_end), self.ends[s_open - 1]
            if "\n" not in self.text[b : span.open] or self.text[a:b].rstrip().endswith(":"):
                lead = (a, b)
        return before, after, lead

    def according_to(self, region: Region) -> Speaker | None:
        """Return the source named by 'according to X' in a region."""
        tokens = self.tokens_in(*region)
        for i, tok in enumerate(tokens[:-2]):
            if tok.lower_ == "according" and tokens[i + 1].lower_ == "to":
                source = tokens[i + 2]
                while source.dep_ in ("compound", "det", "poss", "amod") and source.head.i > i:
                    source = source.head  # "according to its Amazon summary": the summary
                named = self.name(source)
                if named is None and source.tag_ in ("NN", "NNS"):
                    named = descriptor(source)  # whatever it is, the text names it the source
                return named
        return None

    def speaker_of(self, verb: Token) -> Speaker | None:
        """Name the subject of a speech verb, climbing from "adding"/"saying" to the clause's."""
        subject = subject_of(verb)
        if subject is not None and not self.apart(subject, verb) and not self.inside[subject.i]:
            return self.name(subject)
        named = self.between_quote_and(verb)
        if named is not None:
            return named
        # The parser lost the subject ('DeBoer said' read as an auxiliary; '…," said retired
        # neurosurgeon Ben Carson, asked …'): a name right before the verb, else right after.
        doc = self.doc
        for window in (range(verb.i - 1, max(verb.i - 4, -1), -1), range(verb.i + 1, verb.i + 7)):
            for i in window:
                if i >= len(doc) or self.inside[i] or doc[i].is_punct or doc[i].tag_ in _BREAKS:
                    break
                if doc[i].lower_ in SUBJECT_PRONOUNS or i in self.ent_of:
                    named = self.name(doc[i])
                    if named is not None:
                        return named
        return None

    def between_quote_and(self, verb: Token) -> Speaker | None:
        """Name who stands between a quote and its verb when the parser took a word of the
        quote for the subject: '“…spamming,” Rosette Pambakian, a Tinder spokeswoman, said'."""
        doc, start = self.doc, verb.i - 1
        while start >= 0 and verb.i - start <= MAX_TAIL_TOKENS and not self.inside[start]:
            start -= 1
        if start < 0 or not self.inside[start]:
            return None
        for i in range(start + 1, verb.i):
            token = doc[i]
            while token.dep_ == "compound" and token.head.i < verb.i:
                token = token.head  # "Rosette" stands for "Rosette Pambakian"
            known = token.i in self.ent_of or token.tag_ in ("NN", "NNS", "PRP")
            if known and not token.is_punct:  # not a stray capital ("between May and …")
                named = self.name(token)
                if named is not None:
                    return named
        return None

    def apart(self, first: Token, second: Token) -> bool:
        """Tell whether two tokens sit in different paragraphs (the parser joins headings)."""
        low, high = sorted((first.idx, second.idx))
        return "\n" in self.text[low:high]

    def name(self, token: Token) -> Speaker | None:
        """Name who a subject token stands for: entity, resolved pronoun, author or description."""
        if self.inside[token.i]:
            return None  # a misparse: the speaker is never inside the quote
        lower = token.lower_
        if lower in SUBJECT_PRONOUNS:
            sentence = self.sentence_of(token.idx)
            gender = "m" if lower == "he" else "f"
            found = self.people.resolve(token.i, sentence, gender, self.last)
            return Speaker(found, "PERSON") if found else None
        if lower == "it":
            sentence = self.sentence_of(token.idx)
            found = self.people.recent_organisation(token.i, sentence, reach=IT_REACH)
            return Speaker(found, "ORG") if found else None
        named = self.entity(token)
        if named is not None:
            return named
        for child in token.children:
            if child.dep_ == "appos":  # "Campbell's partner, Jason Louth": the appositive
                named = self.entity(child)
                if named is not None:
                    return named
        if token.tag_ == "NNP" and token.text[:1].isupper() and token.is_alpha:
            named = proper_name(token)
            if named is not None:
                return named
        for child in token.children:  # "Jung Ha-na, chief economist at …": the name
            if child.i < token.i and child.tag_ == "NNP" and child.dep_ in _NAME_DEPS:
                named = self.entity(child) or proper_name(child)
                if named is not None and named.kind == "PERSON":
                    return named
        if lower in DOCUMENT_NOUNS:
            # "the report concluded": its author if the text names one, else the document
            return self.author(token) or self.document(token)
        if token.tag_ in ("NN", "NNS") and is_speaker_noun(token.text):
            return self.definite(token) or descriptor(token)
        if lower in ("old", "olds") and any(c.lower_ in ("year", "years") for c in token.children):
            return descriptor(token)  # "says my two-year-old", "said the 46-year-old"
        return None

    def document(self, token: Token) -> Speaker | None:
        """Describe an unsigned document as the source: "the report", "a campaign TV ad".

        Only with an article or demonstrative: "her statement" without a resolvable author
        is no description a reader can use.
        """
        if any(c.dep_ == "det" and c.lower_ in _DOCUMENT_DETERMINERS for c in token.children):
            return descriptor(token)
        return None

    def definite(self, token: Token) -> Speaker | None:
        """Resolve "the company" to the organisation, "the mayor" to the person just named."""
        children = list(token.children)
        if not any(c.dep_ == "det" and c.lower_ == "the" for c in children) or any(
            c.dep_ in ("poss", "prep", "relcl", "acl") for c in children
        ):
            return None
        sentence = self.sentence_of(token.idx)
        if token.lower_ in ORGANISATION_NOUNS:
            found = self.people.recent_organisation(token.i, sentence)
            return Speaker(found, "ORG") if found else None
        if token.tag_ == "NN":
            found = self.people.titled(token.i, token.lower_) or self.people.recent_subject(
                token.i, sentence
            )
            if found is None and is_title_word(token.lower_):
                found = self.people.prominent()  # "the mayor" of an article about one mayor
            return Speaker(found, "PERSON") if found else None
        return None

    def entity(self, token: Token) -> Speaker | None:
        """Return the named speaker a token belongs to, if it is a person or organisation."""
        name = self.ent_of.get(token.i)
        if name is None:
            return None
        kind = self.kinds.get(name, "")
        return Speaker(name, kind) if kind in SPEAKER_KINDS else None

    def author(self, token: Token) -> Speaker | None:
        """Name who wrote a document noun: "her statement", "a statement from X"."""
        for child in token.children:
            if child.dep_ == "poss" and child.lower_ in ("his", "her"):  # "her statement said"
                gender = "m" if child.lower_ == "his" else "f"
                found = self.people.resolve(child.i, self.sentence_of(child.idx), gender, self.last)
                return Speaker(found, "PERSON") if found else None
            if child.dep_ == "poss":
                return self.name(child)
            if child.dep_ == "prep" and child.lower_ in ("from", "by", "of"):
                for grand in child.children:
                    if grand.dep_ == "pobj":
                        return self.name(grand)
        head = token.head
        while head.i != token.i and head.dep_ in _CLIMB and head.head.i != head.i:
            head = head.head
        subject = subject_of(head) if head.tag_.startswith("VB") else None
        if subject is not None and subject.i != token.i:
            return self.name(subject)
        return None


def _nearer(best: Token | None, candidate: Token, anchor: Token) -> Token:
    """Keep whichever speech verb is closer to the quote."""
    if best is None or abs(candidate.i - anchor.i) < abs(best.i - anchor.i):
        return candidate
    return best
