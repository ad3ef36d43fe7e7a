"""Print the figures the reliability tests measured, after the test summary."""

from __future__ import annotations

from typing import Any

from reliability_support import FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, text in FIGURES:
            terminalreporter.write_line(f"{name}: {text}")
