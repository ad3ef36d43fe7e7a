"""Tell page furniture from reporting: captions, bylines, widgets and fragments."""

from __future__ import annotations

import re

# A sentence of reporting ends with a stop (perhaps inside a quote or bracket).
# Also the full stops of Chinese and Japanese (。！？), before their closing brackets 」』.
_ENDS_PROPERLY = re.compile(r"[.!?。！？][\"'”’)\]」』）]*$")
# Captions: "Go fetch: This dog…", "Pictured: …", or a scene dated like a photo.
_CAPTION_LABEL = re.compile(r"^[A-Z][\w'’-]*(?:\s[\w'’-]+){0,3}:\s+[A-Z“\"‘']")
_CAPTION_DATE = re.compile(
    r",\s+(?:Jan|Feb|March|April|May|June|July|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},\s+\d{4}\.$"
)
_WIDGETS = (
    "tweet with a location", "pic.twitter", "http://", "https://", "www.", "image:", "scroll down",
    "click to", "watch the video", "video:", "photo:", "pictured:", "(photo", "file photo",
    "ap photo", "getty images", "reuters/", "sign up", "log in", "comments", "share this",
    "@", "|", "©", "published:", "updated:", "last modified", "pictured", " poses for ",
)  # fmt: skip
# Furniture glued to the start of a real sentence: "Scroll down for video The Prime Minister…".
_PREFIX = re.compile(
    r"^(?:(?:scroll down for (?:the )?videos?|watch the video|video|watch|read more|update)"
    r"\b[:.]?\s*|\((?:CNN|AP|Reuters|AFP)\)\s*(?:--|—|-)?\s*)+",
    re.IGNORECASE,
)
# A photo caption glued to the sentence after it, its stop lost with the page's layout:
# "Sister Gertrud (not pictured) was found in her bedroom An 86-year-old nun was…". The
# caption names its photo ("pictured", "(left)"); the sentence starts with an article.
_CAPTION_MARK = re.compile(
    r"\bpictured\b|\((?:left|right|centre|center|above|below|top|bottom|inset|file)\)",
    re.IGNORECASE,
)
_GLUED = re.compile(r"(?<=[a-z0-9)’'])\s+(?=(?:A|An|The)\s+[a-z0-9])")
_NOT_LABELS = frozenset(
    "he she they it we i said says say told tells added adds wrote writes asked reads read".split()
)
_BYLINE = re.compile(r"^(?:By|From|Reporting by|Written by)\s+[A-Z]")
# Quoted passages in single or double marks, for the share of a sentence that is quotation.
QUOTED = re.compile(
    r"[\"“”«»„][^\"“”«»„]*[\"“”«»„]|(?:(?<=^)|(?<=[\s(]))[‘'][^‘’']{3,}[’'](?=$|[\s,.;:!?)])"
)


def quoted_share(sentence: str) -> float:
    """Return the share of a sentence's characters that sit inside quotation marks."""
    inside = sum(len(match) for match in QUOTED.findall(sentence))
    return inside / max(len(sentence), 1)


def is_furniture(sentence: str) -> bool:
    """Tell whether a sentence is a caption, byline, widget text or a cut-off fragment."""
    text = sentence.strip()
    first = text[:1]
    unicased = first.isalpha() and first.lower() == first.upper()  # CJK, Hangul, Arabic…
    if not text or not (first.isupper() or unicased or first in "\"“‘'(「『"):
        return True  # a lower-case start is the tail of something cut off
    if not _ENDS_PROPERLY.search(text):
        return True
    lowered = text.lower()
    if any(widget in lowered for widget in _WIDGETS):
        return True
    return bool(_CAPTION_DATE.search(text) or _BYLINE.match(text))


def without_prefix(sentence: str) -> str:
    """Strip furniture glued to the start of a sentence ("Scroll down for video", "(CNN)")."""
    match = _PREFIX.match(sentence)
    if match is None or match.end() == len(sentence):
        return sentence
    rest = sentence[match.end() :]
    return rest if rest[:1].isupper() or rest[:1] in "\"“‘'" else sentence


def without_caption(sentence: str) -> str:
    """Cut a photo caption glued to the front of a sentence; the sentence itself stays.

    "Prisoner Carlos Boente (pictured) was jailed for five years A serving prisoner has been
    jailed…" keeps "A serving prisoner has been jailed…".
    """
    mark = _CAPTION_MARK.search(sentence)
    if mark is None:
        return sentence
    glued = _GLUED.search(sentence, mark.end())
    if glued is None or len(sentence[glued.end() :].split()) < 8:
        return sentence
    caption = sentence[: glued.start()]
    if len(caption.split()) < 4 or _CAPTION_MARK.search(sentence, glued.end()):
        return sentence  # no caption before it, or another caption after it: a blob of them
    return sentence[glued.end() :]


def without_label(sentence: str) -> str:
    """Strip furniture from the start of a sentence: widget words and a caption's label.

    "Scroll down for video Tragic: The man was thrown off his motorbike." keeps its report,
    "The man was thrown off his motorbike."
    """
    sentence = without_caption(without_prefix(sentence))
    label = _CAPTION_LABEL.match(sentence)
    if label is None or any(w.lower() in _NOT_LABELS for w in sentence[: label.end()].split()):
        return sentence  # "He said: …" introduces speech; it is no caption
    return sentence[label.end() - 1 :] if label.end() < len(sentence) else sentence
