"""Render a composed briefing to HTML (Jinja2) and PDF (WeasyPrint).

The daily build makes its PDF in a child process with a time budget (`render_pdf_within`):
whatever the content, the mail goes out on time, without the PDF if need be.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pydyf
from jinja2 import Environment
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from briefing.output.borders import dotted_rules_as_strokes
from briefing.output.templating import template_environment
from briefing.resources import software_name, templates_dir

if TYPE_CHECKING:  # compose pulls in scikit-learn; the PDF child process needs none of it
    from briefing.briefs.compose import Briefing, SourceLink

logger = logging.getLogger(__name__)

TEMPLATES_DIR = templates_dir()
BRIEFING_TEMPLATE = "briefing.html.j2"
AUTHOR = "news-briefing"
# The PDF lists this many sources per story (every outlet named); the HTML lists all.
PRINT_SOURCES = 8
PDF_VARIANT = "pdf/ua-1"
LINK_TEXT_CHARS = 200


@dataclass(frozen=True, slots=True)
class PrintSources:
    """The sources a printed story lists, and what it leaves to the HTML edition."""

    shown: tuple[SourceLink, ...]
    more: int
    more_outlets: tuple[str, ...]


def print_sources(sources: Sequence[SourceLink], limit: int = PRINT_SOURCES) -> PrintSources:
    """Keep the newest article of each outlet first, then the newest others, up to a limit."""
    seen: set[str] = set()
    firsts: list[int] = []
    others: list[int] = []
    for index, source in enumerate(sources):
        (others if source.outlet in seen else firsts).append(index)
        seen.add(source.outlet)
    kept = sorted((firsts + others)[:limit])
    named = {sources[index].outlet for index in kept}
    left = [source for index, source in enumerate(sources) if index not in set(kept)]
    more_outlets = tuple(dict.fromkeys(s.outlet for s in left if s.outlet not in named))
    return PrintSources(tuple(sources[index] for index in kept), len(left), more_outlets)


def clock(moment: datetime | None) -> str:
    """Format a time as '14 May, 07:05 KST'."""
    if moment is None:
        return "time unknown"
    return f"{moment.day} {moment:%b, %H:%M} {moment.tzname() or ''}".rstrip()


def make_environment(templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """Build the Jinja2 environment: autoescaped HTML, strict about missing values."""
    env = template_environment(templates_dir)
    env.filters["clock"] = clock
    env.filters["print_sources"] = print_sources
    return env


_CUSTOM_PROPERTY = re.compile(r"(--[\w-]+)\s*:\s*([^;{}]+);")
_VARIABLE = re.compile(r"var\((--[\w-]+)\)")


def inline_variables(css: str) -> str:
    """Replace var(--x) with the value of its last declaration (WeasyPrint is faster so).

    Our stylesheets declare custom properties on :root only, so the last declaration is
    the one the cascade keeps: print.css may override base.css.
    """
    values: dict[str, str] = {}
    for name, value in _CUSTOM_PROPERTY.findall(css):
        values[name] = " ".join(value.split())
    return _VARIABLE.sub(lambda match: values.get(match[1], match[0]), css)


def _stylesheet(templates_dir: Path, names: Sequence[str], *, inline: bool = False) -> Markup:
    # Our own files, inlined so that the document needs nothing else to display.
    css = "\n".join((templates_dir / name).read_text(encoding="utf-8") for name in names)
    return Markup(inline_variables(css) if inline else css)


def _render(briefing: Briefing, media: str, env: Environment | None, templates_dir: Path) -> str:
    env = env or make_environment(templates_dir)
    print_media = media == "print"
    names = ("base.css", "print.css") if print_media else ("base.css", "screen.css")
    context: dict[str, Any] = {
        "b": briefing,
        "media": media,
        "css": _stylesheet(templates_dir, names, inline=print_media),
        "generator": software_name(),
        "author": AUTHOR,
    }
    return env.get_template(BRIEFING_TEMPLATE).render(context)


def render_html(
    briefing: Briefing, *, env: Environment | None = None, templates_dir: Path = TEMPLATES_DIR
) -> str:
    """Render the self-contained HTML briefing for screens (phone and desktop)."""
    return _render(briefing, "screen", env, templates_dir)


def render_print_html(
    briefing: Briefing, *, env: Environment | None = None, templates_dir: Path = TEMPLATES_DIR
) -> str:
    """Render the HTML that WeasyPrint lays out into the PDF."""
    from briefing.output.printable import for_print

    return _render(for_print(briefing), "print", env, templates_dir)


class TemplateAssetFetcher(URLFetcher):
    """Serve files under the templates folder to WeasyPrint; refuse every other URL."""

    def __init__(self, root: Path = TEMPLATES_DIR, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Return a template asset, or raise (WeasyPrint logs it and goes on)."""
        path = self.local_asset(url)
        if path is None:
            logger.warning("Refused to fetch %.200s: only template assets are served", url)
            raise PermissionError(f"refused to fetch {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    def local_asset(self, url: str) -> Path | None:
        """Map a file: URL to a file inside the templates folder, or None."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        # resolve() follows symlinks and "..", so nothing can point out of the folder.
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


def _link_text(box: Any) -> str:
    element = getattr(box, "element", None)
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())[:LINK_TEXT_CHARS]


def finish_pdf(document: Any, pdf: Any) -> None:
    """Open the bookmarks panel, and describe each link by its text (PDF/UA /Contents)."""
    pdf.catalog["PageMode"] = "/UseOutlines"
    for page in document.pages:
        root = getattr(page, "_page_box", None)  # WeasyPrint keeps the laid-out boxes here
        if root is None:
            continue
        for box in root.descendants():
            annotation = getattr(box, "link_annotation", None)
            text = _link_text(box) if annotation is not None else ""
            if annotation is not None and text:
                uri = getattr(annotation.get("A", {}).get("URI"), "string", "")
                annotation["Contents"] = pydyf.String(f"{text} ({uri})" if uri else text)


def html_to_pdf(
    html: str, *, url_fetcher: URLFetcher | None = None, templates_dir: Path = TEMPLATES_DIR
) -> bytes:
    """Lay out print HTML into PDF bytes, fetching nothing but template assets."""
    fetcher = url_fetcher if url_fetcher is not None else TemplateAssetFetcher(templates_dir)
    dotted_rules_as_strokes()  # the same dots, a fraction of the bytes (see borders.py)
    document = HTML(
        string=html,
        base_url=templates_dir.resolve().as_uri() + "/",
        url_fetcher=fetcher,
        media_type="print",
    )
    # PDF/UA-1: tagged (headings, lists, links in a structure tree), /Lang, XMP title,
    # DisplayDocTitle; the finisher adds what the variant leaves out.
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT, finisher=finish_pdf)
    if pdf is None:  # only happens when a target is given; keeps the type honest
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)


def render_pdf(
    briefing: Briefing,
    *,
    env: Environment | None = None,
    url_fetcher: URLFetcher | None = None,
    templates_dir: Path = TEMPLATES_DIR,
) -> bytes:
    """Render the briefing to PDF bytes through the print template."""
    html = render_print_html(briefing, env=env, templates_dir=templates_dir)
    return html_to_pdf(html, url_fetcher=url_fetcher, templates_dir=templates_dir)


class PdfJob:
    """A PDF child process, started before its HTML is ready (see render_pdf_within).

    Its start-up (Python, then WeasyPrint's import: about a second) overlaps whatever the
    parent does meanwhile, composing the briefing and rendering its HTML; submit() hands
    the print HTML over and the layout runs while the parent goes on; result() waits. The
    child is killed when the time runs out, and when the job is left early (with-block).
    """

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        command = [sys.executable, "-m", "briefing.output.pdf_worker", str(templates_dir)]
        self.child = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._outcome: tuple[bytes | None, str] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PdfJob:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def submit(self, html: str, seconds: float) -> None:
        """Hand the print HTML over; the layout has seconds from now to finish."""
        self._thread = threading.Thread(
            target=self._communicate, args=(html.encode("utf-8"), seconds), daemon=True
        )
        self._thread.start()

    def result(self) -> tuple[bytes | None, str]:
        """Wait for the PDF; return (PDF or None, why there is none)."""
        assert self._thread is not None, "submit() the HTML first"
        self._thread.join()
        assert self._outcome is not None
        return self._outcome

    def stop(self) -> None:
        """Leave no child behind (interrupted, or done)."""
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        if self._thread is not None:
            self._thread.join()
        # communicate() leaves stdin open when the time ran out before all of it was written.
        for pipe in (self.child.stdin, self.child.stdout, self.child.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def _communicate(self, html: bytes, seconds: float) -> None:
        started = time.monotonic()
        try:
            pdf, errors = self.child.communicate(html, timeout=seconds)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.communicate()
            self._outcome = None, f"it was not made within the time limit of {seconds:g} s"
            return
        except BaseException as exc:  # the parent killed the child (stop): say so, no more
            self._outcome = None, f"making it was stopped ({exc or type(exc).__name__})"
            return
        for line in errors.decode("utf-8", "replace").splitlines():
            logger.warning("PDF: %s", line[:500])
        if self.child.returncode != 0 or not pdf.startswith(b"%PDF"):
            last = (errors.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
            self._outcome = None, f"making it failed (exit {self.child.returncode}: {last[:300]})"
            return
        logger.info("PDF made in %.1f s", time.monotonic() - started)
        self._outcome = pdf, ""


def render_pdf_within(
    briefing: Briefing,
    seconds: float,
    *,
    templates_dir: Path = TEMPLATES_DIR,
    job: PdfJob | None = None,
) -> tuple[bytes | None, str]:
    """Render the PDF in a child process; return (PDF or None, why there is none).

    A layout that takes longer than seconds is stopped: the briefing goes out without its
    PDF rather than late. The child fetches nothing but template assets, like html_to_pdf.
    Pass a PdfJob started earlier to have its start-up overlap other work.
    """
    with job or PdfJob(templates_dir) as running:
        running.submit(render_print_html(briefing, templates_dir=templates_dir), seconds)
        return running.result()
