"""What every template environment shares: autoescaping, strictness, link and date filters.

Kept free of heavy imports so the mail and the web app can use it without WeasyPrint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from briefing.nlp.language_codes import language_name
from briefing.output.display import strip_bidi
from briefing.output.links import safe_href


def long_date(day: date) -> str:
    """Format a date as 'Tuesday 14 May 2024'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def without_bidi(value: Any) -> Any:
    """Drop bidi controls from a printed value: they can disguise text (U+202E reverses it)."""
    if isinstance(value, Markup):  # bidi controls are never markup, so this stays safe
        return Markup(strip_bidi(str(value)))
    return strip_bidi(value) if isinstance(value, str) else value


def template_environment(
    templates_dir: Path, *, finalize: Callable[[Any], Any] | None = None
) -> Environment:
    """Return an environment that escapes HTML/XML (not text) and fails on missing values.

    Every printed value loses its bidi controls first, then goes through finalize if given.
    """
    last = finalize
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2"),
            disabled_extensions=("txt", "txt.j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        finalize=(lambda value: last(without_bidi(value))) if last else without_bidi,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["safe_href"] = safe_href
    env.filters["long_date"] = long_date
    env.filters["language_name"] = language_name
    # A story in another language, as "Related" lists it: "삼성 평택 공장 (Korean)".
    env.filters["related_name"] = lambda other: f"{other.label} ({language_name(other.language)})"
    return env
