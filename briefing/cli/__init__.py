"""The `briefing` command line: thin wrappers over the library, one error boundary."""

from briefing.cli.main import app

__all__ = ["app"]
