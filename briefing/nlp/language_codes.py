"""Language codes as stored and as readers see them: light, no spaCy (the web app uses it)."""

from __future__ import annotations

__all__ = ["ENGLISH", "LANGUAGE_NAMES", "is_english", "language_code", "language_name"]

ENGLISH = "en"

# Names readers see for the languages news is most often written in; others show their code.
LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili",
    "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def language_name(language: str | None) -> str:
    """Return a language's English name ("ko" → "Korean"), else its code in capitals."""
    code = language_code(language)
    return LANGUAGE_NAMES.get(code, code.upper())


def language_code(language: str | None) -> str:
    """Return the base ISO 639-1 code of a stored language tag ("zh-CN" → "zh").

    An article with no language is English: every article before language detection was
    enriched and grouped as English, and its stories must stay where they are.
    """
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code.isalpha() and 2 <= len(code) <= 3 else ENGLISH


def is_english(language: str | None) -> bool:
    """Tell whether an article in this language goes through the English model."""
    return language_code(language) == ENGLISH
