"""Words that introduce speech: speech verbs by lemma, and nouns that stand for a speaker."""

from __future__ import annotations

# Lemmas of verbs that report speech or writing; every inflection counts ("implored", "noting").
_LEMMAS = """
say tell add state note warn argue explain insist write ask continue declare announce stress
emphasize emphasise remark reply respond claim acknowledge admit predict suggest urge conclude
recall comment observe tweet post caution vow quip assert maintain joke report reveal call shout
implore complain concede confirm deny mention agree boast brag charge contend counter cry demand
exclaim lament muse plead pledge proclaim promise recount repeat reiterate retort scream snap
testify threaten whisper yell wonder advise allege blurt chide crow concur elaborate grumble gush
mutter object scoff scold sniff sigh swear tease thank tout question laugh recommend remind rule
read describe dub label brand hail blast slam criticize criticise praise decry opine interject
interrupt intone hint affirm answer apologize apologise beg bellow chant clarify confess express
gripe holler inform inquire instruct marvel mourn mumble murmur protest quote rant reassure reason
reflect rave shrug sneer snarl summarize summarise thunder underline vent venture voice wail
whine text email message recite speak point pray preach sing reckon
"""
SPEECH_LEMMAS = frozenset(_LEMMAS.split())
# Speech verbs that also mean something else unless the quote hangs on them directly:
# "continue to be", "asked them to", "called for", "point to".
WEAK_LEMMAS = frozenset("continue ask call add write post point read reason rule".split())
_IRREGULAR = {
    "say": ("said",),
    "tell": ("told",),
    "write": ("wrote", "written"),
    "speak": ("spoke", "spoken"),
    "swear": ("swore", "sworn"),
    "read": ("read",),
    "sing": ("sang", "sung"),
    "plead": ("pled",),
    "shoot": ("shot",),
}
_DOUBLED = frozenset("quip snap admit chat plan scan stop".split())


def inflections(lemma: str) -> set[str]:
    """Return a verb's forms: lemma, -s, past and -ing (regular rules plus a few irregulars)."""
    forms = {lemma, *_IRREGULAR.get(lemma, ())}
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.add(lemma + "es")
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        forms.add(lemma[:-1] + "ies")
    else:
        forms.add(lemma + "s")
    stem = lemma + lemma[-1] if lemma in _DOUBLED else lemma
    if lemma.endswith("e"):
        forms.update({lemma + "d", lemma[:-1] + "ing"})
    elif lemma.endswith("y") and lemma[-2] not in "aeiou":
        forms.update({lemma[:-1] + "ied", lemma + "ing"})
    else:
        forms.update({stem + "ed", stem + "ing"})
    return forms


SPEECH_FORMS: dict[str, str] = {
    form: lemma for lemma in sorted(SPEECH_LEMMAS) for form in inflections(lemma)
}
# Nouns that stand for their author as a speaker: "her statement said", "the report says".
DOCUMENT_NOUNS = frozenset(
    """statement statements email emails release letter report memo note filing complaint tweet
    tweets post posting message announcement notice document lawsuit suit ruling decision ad
    advert advertisement video website page study survey poll paper editorial column blog
    interview transcript speech remarks testimony order brief motion petition""".split()
)
PRONOUNS_MALE = frozenset({"he", "him", "his", "himself"})
PRONOUNS_FEMALE = frozenset({"she", "her", "hers", "herself"})
SUBJECT_PRONOUNS = frozenset({"he", "she"})
HONORIFIC_GENDER = {"mr": "m", "mrs": "f", "ms": "f", "miss": "f", "sir": "m", "madam": "f"}
# Nouns that can head a description of a speaker ("a senior official", "the company"); other
# common nouns ("the fact", "everything") are a misparse, not a speaker.
SPEAKER_NOUNS = frozenset(
    """official officials source sources aide aides staff staffer staffers spokesperson
    spokesman spokeswoman spokespeople representative representatives rep police authorities
    government ministry agency department office committee commission council board panel
    company firm group campaign team club party family families lawyer lawyers attorney
    attorneys judge court prosecutors prosecution defence defense witness witnesses resident
    residents neighbour neighbor neighbours neighbors friend friends relative relatives
    colleague colleagues expert experts analyst analysts economist economists official's
    administration president minister secretary senator governor mayor chief head leader
    leaders chairman chairwoman chair director executive executives ceo founder owner manager
    coach player players officer officers doctor doctors nurse nurses scientist scientists
    researcher researchers professor student students teacher teachers parent parents mother
    father son daughter wife husband brother sister widow survivor survivors victim victims
    activist activists protester protesters organiser organizer organisers organizers
    candidate candidates voter voters supporter supporters critic critics observer observers
    diplomat diplomats envoy ambassador military army navy troops soldier soldiers
    commander spokesmen union newspaper paper network channel broadcaster agency's site
    website report study survey poll statement letter memo filing document email release
    post tweet ad video magazine journal outlet station utility bank regulator regulators
    insider insiders person people man woman men women worker workers employee employees
    member members user users fan fans customer customers crowd crowds audience spectators
    demonstrators marchers protesters citizen citizens host guest guests passenger passengers
    patient patients""".split()
)
_PERSON_SUFFIXES = ("er", "or", "ist", "ian", "ant", "ent", "man", "woman", "person", "ee")


def is_speaker_noun(word: str) -> bool:
    """Tell whether a common noun can head the description of a speaker."""
    word = word.lower()
    return word in SPEAKER_NOUNS or (len(word) > 4 and word.rstrip("s").endswith(_PERSON_SUFFIXES))


# Nouns that stand for an organisation just named: "the company said" after "Google said".
ORGANISATION_NOUNS = frozenset(
    """company firm utility group agency organization organisation department ministry bank
    network newspaper paper station board union league team club party campaign government
    council committee commission court school university college railway airline regulator
    broadcaster carrier retailer insurer lender manufacturer maker automaker developer charity
    foundation institute association federation coalition office service authority""".split()
)
