"""Detect an article's language from its text, with the page's own declaration as a hint."""

from __future__ import annotations

import logging
import re
import threading
from functools import cache

logger = logging.getLogger(__name__)

# Below this many characters a text classifier guesses more than it knows.
MIN_TEXT_CHARS = 60
# Classify a prefix only: language is settled in the first paragraphs and the cost grows
# with length.
SAMPLE_CHARS = 800
# Trust the classifier over the page's declaration only when it is this sure.
OVERRIDE_CONFIDENCE = 0.95
# Without a declaration, a guess below this yields to the source's configured language.
GUESS_CONFIDENCE = 0.5
# Declared codes the classifier spells differently (Norwegian written forms, retired codes).
ALIASES = {"nb": "no", "nn": "no", "iw": "he", "in": "id", "ji": "yi"}


# The model is loaded once per process, by whichever thread asks first; the others wait.
_loading = threading.Lock()


def _identifier():  # type: ignore[no-untyped-def]
    """Return py3langid's model, loaded once, with probabilities normalised to 0..1."""
    with _loading:
        return _load_identifier()


@cache
def _load_identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def load_in_background() -> threading.Thread:
    """Start loading the classifier's model in a thread, and return the thread.

    Loading takes about 1.7 s, mostly lzma decompression, which releases the GIL: a crawl
    starts it while it fetches its feeds instead of stalling on the first article page.
    """
    thread = threading.Thread(target=_identifier, name="language-model", daemon=True)
    thread.start()
    return thread


def detect_language(text: str, declared: str | None, default: str | None = None) -> str | None:
    """Return an ISO 639-1 code: the text's language, else the declared one, else default."""
    declared = ALIASES.get(declared, declared) if declared else None
    sample = text[:SAMPLE_CHARS]
    if len(sample.strip()) < MIN_TEXT_CHARS:
        return declared or default
    try:
        code, confidence = _identifier().classify(sample)
    except Exception:  # the classifier must never take the extraction down with it
        logger.debug("language classifier failed", exc_info=True)
        return declared or default
    if code == declared:
        return code
    # Pages often declare a site-wide language (e.g. "en" on a German article); believe the
    # text when it is clear, the page (or the source's configured language) when it is not.
    if declared is not None:
        return code if confidence >= OVERRIDE_CONFIDENCE else declared
    return code if confidence >= GUESS_CONFIDENCE or default is None else default


# Scripts written without spaces between words: their length is counted in characters, at
# about the characters a word takes (Chinese words average under two characters, Japanese
# mixes kanji and kana; Thai, Lao, Khmer and Burmese words run to four or five letters).
# Kana, CJK ideographs (with extensions and compatibility forms), then Thai, Lao, Burmese, Khmer.
CJK_LETTERS = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
)
SOUTHEAST_ASIAN_LETTERS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
UNSPACED = ((re.compile(f"[{CJK_LETTERS}]"), 2), (re.compile(f"[{SOUTHEAST_ASIAN_LETTERS}]"), 4))
WORD_CHAR = re.compile(r"\w")


def count_words(text: str) -> int:
    """Count words in any script: spaced words, plus unspaced scripts by their characters."""
    words = 0.0
    for letters, per_word in UNSPACED:
        found = len(letters.findall(text))
        if found:
            words += found / per_word
            text = letters.sub(" ", text)
    return round(words) + sum(1 for token in text.split() if WORD_CHAR.search(token))
