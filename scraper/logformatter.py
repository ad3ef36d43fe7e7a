"""Log lines for dropped items: the reason and URL, not the whole article's text."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class BriefingLogFormatter(logformatter.LogFormatter):
    """Say why an item was dropped in one line; the default prints the entire item."""

    def dropped(
        self, item: Any, exception: BaseException, response: Any, spider: Any = None
    ) -> logformatter.LogFormatterResult:
        return {
            "level": logging.WARNING,
            "msg": "skipped %(exception)s",
            "args": {"exception": exception},
        }
