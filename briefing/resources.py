"""What ships inside the package: the templates, the seeds, and its name and version.

The repository keeps them at the top level (`templates/`, `seeds/`); `briefing/templates` and
`briefing/seeds` link there, so a checkout, an editable install and an installed wheel all
find them in the same place through importlib.resources.
"""

from __future__ import annotations

from importlib import metadata
from importlib.resources import files
from pathlib import Path


def _package_dir(name: str) -> Path:
    """Return the on-disk folder of package data `name` (wheels install unzipped)."""
    path = Path(str(files("briefing").joinpath(name)))
    if not path.is_dir():
        raise FileNotFoundError(f"package data {name!r} is missing from {path.parent}")
    return path


def templates_dir() -> Path:
    """Return the folder holding every Jinja2 template and stylesheet."""
    return _package_dir("templates")


def seeds_dir() -> Path:
    """Return the folder holding the alias table, the seed article and the demo site."""
    return _package_dir("seeds")


def software_name() -> str:
    """Return 'news-briefing VERSION' (without the version when not installed)."""
    try:
        return f"news-briefing {metadata.version('news-briefing')}"
    except metadata.PackageNotFoundError:
        return "news-briefing"
