"""The one root of every error a user can cause or meet: each knows its exit code and label.

The command line catches `BriefingError` at one boundary and prints `label: message` on one
line; library code raises the most specific class and never prints.
"""

from __future__ import annotations


class BriefingError(Exception):
    """Something the user can fix or must know about; never a bug."""

    exit_code = 1
    label = "error"


class UsageError(BriefingError):
    """A command-line mistake: a bad option value or argument."""

    exit_code = 2
    label = "usage error"


class ConfigError(BriefingError):
    """A configuration file that cannot be used; the message names the key."""

    exit_code = 2
    label = "config error"


class StoreError(BriefingError):
    """The store cannot be opened, migrated or written."""

    label = "store error"


class LockHeld(BriefingError):
    """Another process holds a lock on the store (a daemon or a run)."""

    label = "busy"


class MailError(BriefingError):
    """A message cannot be built or handed over."""

    label = "mail error"


class ArchiveError(BriefingError):
    """An archived briefing is missing, unreadable or cannot be written."""

    label = "archive error"


class ScheduleError(BriefingError):
    """The daemon's schedule cannot be set up or a scheduled stage failed."""

    label = "schedule error"


class SearchError(BriefingError):
    """A search query cannot be run."""

    label = "search error"


class ExportError(BriefingError):
    """An export cannot be written."""

    label = "export error"


class DeskError(BriefingError):
    """An editorial correction or approval that cannot be made (unknown story, sent edition)."""

    label = "desk error"


class RunError(ScheduleError):
    """A stage of the daily run (group, build, send) failed or left work undone."""

    label = "run error"
