"""Direct quotes of an article, each attributed to a named speaker, a description, or nobody."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from spacy.tokens import Doc

from briefing.nlp.quote_marks import QuoteSpan, Region, find_quote_spans
from briefing.nlp.speakers import DESCRIPTOR, Attributor, Speaker
from briefing.nlp.speech import SPEECH_FORMS

__all__ = ["MIN_QUOTE_WORDS", "Quote", "QuoteSpan", "Region", "extract_quotes", "find_quote_spans"]

MIN_QUOTE_WORDS = 3  # shorter quoted strings are scare quotes or titles ("advance")
# A quoted phrase this short inside a sentence, with no speaker, is a phrase the writer
# marks, not a quote a reader can use: it is left out, as issue 14 asks of unattributed ones.
FRAGMENT_WORDS = 6


@dataclass(slots=True)
class Quote:
    """A direct quote, who said it (canonical entity form or a description) and where.

    speaker_type is the speaker's entity type (PERSON, ORG, GPE, NORP) or DESCRIPTOR for a
    description such as "an EU official"; None when nobody is named.
    """

    text: str
    speaker: str | None
    verb: str | None
    sentence_index: int
    speaker_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Quote:
        """Build a Quote from to_dict output."""
        return cls(
            str(d["text"]),
            d.get("speaker"),
            d.get("verb"),
            int(d["sentence_index"]),
            d.get("speaker_type"),
        )


def _clean_quote(text: str) -> str:
    """Collapse whitespace and drop the punctuation that joined a quote to its attribution."""
    return " ".join(text.split()).strip(" ,;:-—")


def _is_title(words: list[str]) -> bool:
    """Tell whether quoted words look like the title of a work ("The Boy From Oz")."""
    alpha = [w for w in words if w[0].isalpha()]
    capitals = sum(w[0].isupper() for w in alpha)
    return len(words) <= 8 and capitals * 3 >= len(alpha) * 2


def extract_quotes(
    doc: Doc,
    text: str,
    ent_of: Mapping[int, str],
    kinds: Mapping[str, str],
    spans: Sequence[QuoteSpan],
    sentences: Sequence[Region],
) -> list[Quote]:
    """Return the quotes of MIN_QUOTE_WORDS+ words, with speakers and sentence indexes.

    ent_of maps token indexes to canonical entity names, kinds canonical names to their
    resolved entity type.
    """
    attributor = Attributor(doc, text, ent_of, kinds, spans, sentences)
    quotes: list[Quote] = []
    carried: tuple[Speaker | None, str | None] = (None, None)
    for index, span in enumerate(spans):
        speaker, verb = attributor.attribute(index)
        if speaker is None and index and _opens_sentence(attributor, span):
            # 'says House. “…” Durning did not need coaxing. “I’m thankful …”': a person the
            # narration turned to, in a sentence of its own since the last quote, speaks now
            prior = attributor.sentence_of(spans[index - 1].end)
            after = attributor.ends[prior] if prior >= 0 else spans[index - 1].end
            speaker, verb = attributor.lead_subject(span, after=after), None
        if speaker is None and index and _continues(text, spans[index - 1], span):
            speaker, verb = carried  # the previous speaker's words carry on
        if speaker is None and _bare(text, span):
            speaker, verb = _previous_speaker(attributor, span, carried)
        if speaker is None and _opens_sentence(attributor, span):
            # 'Durning agreed. “I’m thankful …”'; a quote paragraph looks two sentences back
            speaker = attributor.lead_subject(span, reach=2 if _bare(text, span) else 1)
        carried = (speaker, verb)
        if speaker is not None and speaker.kind == "PERSON":
            attributor.last = speaker.name
        quoted = _clean_quote(text[span.start : span.end])
        words = quoted.split()
        unnamed = speaker is None or speaker.kind == DESCRIPTOR
        if len(words) < MIN_QUOTE_WORDS or (unnamed and _is_title(words)):
            continue
        if speaker is None and _listed(text, spans, index):
            continue  # 'signs reading “Quebec please separate,” “Build pipelines” and …'
        if (
            speaker is None
            and len(words) < FRAGMENT_WORDS
            and not _opens_sentence(attributor, span)
        ):
            continue  # 'a "use it or lose it" approach': a phrase nobody is said to have said

        name, kind = (speaker.name, speaker.kind) if speaker else (None, None)
        sentence = max(attributor.sentence_of(span.start), 0)
        quotes.append(Quote(quoted, name, verb, sentence, kind))
    return quotes


def _listed(text: str, spans: Sequence[QuoteSpan], index: int) -> bool:
    """Tell whether a quote is one of a list of quoted slogans, terms or titles: only commas,
    "and" or "or" stand between it and the quote before or after it."""
    for before, after in ((index - 1, index), (index, index + 1)):
        if before < 0 or after >= len(spans):
            continue
        gap = text[spans[before].end + 1 : spans[after].open].strip(" ,;")
        if spans[before].para_start == spans[after].para_start and gap in ("", "and", "or"):
            return True
    return False


def _continues(text: str, prior: QuoteSpan, span: QuoteSpan) -> bool:
    """Tell whether a quote follows the prior one in its paragraph or opens the next one."""
    if span.para_start == prior.para_start:
        return True
    between = text[prior.para_end : span.para_start]
    return not between.strip() and not text[span.para_start : span.open].strip()


def _opens_sentence(attributor: Attributor, span: QuoteSpan) -> bool:
    """Tell whether a quote starts its sentence."""
    sentence = attributor.sentence_of(span.open)
    start = attributor.starts[sentence] if sentence >= 0 else span.para_start
    return not attributor.text[max(start, span.para_start) : span.open].strip()


def _bare(text: str, span: QuoteSpan) -> bool:
    """Tell whether a quote is a paragraph of its own, with no attribution around it."""
    return (
        not text[span.para_start : span.open].strip()
        and len(text[span.end + 1 : span.para_end].strip()) <= 2
    )


def _previous_speaker(
    attributor: Attributor, span: QuoteSpan, carried: tuple[Speaker | None, str | None]
) -> tuple[Speaker | None, str | None]:
    """Credit a bare quote paragraph to whoever spoke in the paragraph before it."""
    text = attributor.text
    prev_end = text.rfind("\n", 0, span.para_start)
    while prev_end > 0 and not text[:prev_end].rstrip():
        prev_end -= 1
    prev_end = len(text[:prev_end].rstrip())
    prev_start = text.rfind("\n", 0, prev_end) + 1
    if prev_end <= 0:
        return None, None
    previous = attributor.tokens_in(prev_start, prev_end)
    if any(attributor.inside[t.i] for t in previous):
        return carried if carried[0] is not None else (None, None)
    for token in reversed(previous):
        if SPEECH_FORMS.get(token.lower_) and token.tag_.startswith("VB"):
            speaker = attributor.speaker_of(token)
            if speaker is not None:
                return speaker, token.lower_
    return None, None
