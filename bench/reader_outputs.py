"""What subscribers receive, measured on the demo: PDF pages, line lengths, PDF/UA, the mail.

    python bench/reader_outputs.py [DEMO_WORKDIR]

Without a folder it runs `briefing demo` into a temporary one. Prints, per archived day,
the PDF's pages, whether it is tagged, its characters per body line (pdftotext's layout),
the PDF/UA-1 findings of whichever checker is installed (`page-validation` and `pdfua`
from PyPI; neither is a dependency), and for the mail in the outbox: the HTML part's
size, the plain-text lines longer than 76 characters (URLs excepted) and the headers
RFC 8058 and RFC 2919 ask for.
"""

from __future__ import annotations

import email
import importlib.util
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from email import policy
from email.message import EmailMessage
from pathlib import Path
from xml.etree import ElementTree

from pypdf import PdfReader

XHTML = "{http://www.w3.org/1999/xhtml}"


def body_line_lengths(pdf: Path) -> list[int]:
    """Return the length of every full line of running text (the last of a block excluded)."""
    if not shutil.which("pdftotext"):
        return []
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    root = ElementTree.fromstring(out)
    lengths = []
    for block in root.iter(f"{XHTML}block"):
        lines = [
            " ".join(word.text or "" for word in line.iter(f"{XHTML}word"))
            for line in block.iter(f"{XHTML}line")
        ]
        if len(lines) >= 3:  # a paragraph, not a heading or a list line
            lengths += [len(line) for line in lines[:-1]]
    return lengths


def pdfua_findings(pdf: Path) -> str:
    """Return what the installed PDF/UA-1 checkers say, or that none is installed."""
    said = []
    if importlib.util.find_spec("page"):
        import page  # type: ignore[import-not-found]

        report = page.validate_pdf(str(pdf), profile="ua1")
        said.append(
            f"page-validation: {report.rules.failed} rules / {report.checks.failed} checks failed"
        )
    if shutil.which("pdfua"):
        out = subprocess.run(["pdfua", "check", str(pdf)], capture_output=True, text=True).stdout
        counts = re.findall(r"\[(ERROR|WARN)\s*\]", out)
        said.append(f"pdfua: {counts.count('ERROR')} errors, {counts.count('WARN')} warnings")
    return "; ".join(said) or "no PDF/UA checker installed (pip install page-validation pdfua)"


def describe_pdf(pdf: Path) -> None:
    reader = PdfReader(pdf)
    tagged = "/StructTreeRoot" in reader.trailer["/Root"]
    lengths = body_line_lengths(pdf)
    if lengths:
        deciles = statistics.quantiles(lengths, n=10)
        shape = (
            f"median {statistics.median(lengths):.0f}, p10 {deciles[0]:.0f}, p90 {deciles[-1]:.0f}"
        )
    else:
        shape = "not measured (pdftotext missing)"
    print(f"  {pdf.parent.relative_to(pdf.parents[3])}: {len(reader.pages)} pages, tagged {tagged}")
    print(f"    characters per body line: {shape} ({len(lengths)} lines)")
    print(f"    PDF/UA-1: {pdfua_findings(pdf)}")


def describe_mail(eml: Path) -> None:
    message: EmailMessage = email.message_from_bytes(eml.read_bytes(), policy=policy.default)  # type: ignore[assignment]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    lines = text.splitlines()
    long = [line for line in lines if len(line) > 76 and "://" not in line]
    print(f"  {eml.name}")
    print(f"    subject: {message['Subject']}")
    over = sum(len(line) > 76 for line in lines)
    print(f"    HTML part: {len(html.encode()) / 1024:.1f} KB")
    print(
        f"    text part: {len(lines)} lines, {over} over 76 characters, {len(long)} if URLs aside"
    )
    for header in ("List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"):
        print(f"    {header}: {'yes' if message[header] else 'missing'}")


def main() -> None:
    given = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as scratch:
        workdir = given or Path(scratch) / "demo"
        if given is None:
            briefing = Path(sys.executable).with_name("briefing")
            subprocess.run(
                [str(briefing), "demo", "--workdir", str(workdir)], check=True, capture_output=True
            )
        print("PDF editions")
        for pdf in sorted((workdir / "archive").glob("*/*/*/briefing.pdf")):
            describe_pdf(pdf)
        print("mail")
        for eml in sorted((workdir / "outbox").glob("*.eml")):
            describe_mail(eml)


if __name__ == "__main__":
    main()
