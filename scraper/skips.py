"""Why a URL was skipped: one reason per failure kind, logged and counted in the stats."""

from __future__ import annotations

import logging

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionLost, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

log = logging.getLogger(__name__)
SKIP_PREFIX = "briefing/skipped/"

_BY_EXCEPTION: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((DownloadCancelledError,), "too_large"),
    ((CannotResolveHostError,), "dns"),
    ((DownloadConnectionRefusedError,), "connection_refused"),
    (
        (
            DownloadFailedError,
            ResponseDataLossError,
            ConnectionLost,
            ResponseFailed,
            ResponseNeverReceived,
        ),
        "connection_lost",
    ),
)


def reason_for_failure(failure: Failure) -> str:
    """Map a download failure to a short, stable reason name."""
    if isinstance(failure.value, HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(IgnoreRequest):
        message = str(failure.value).lower()
        if "robots" in message:
            return "robots_txt"
        if "redirect" in message:
            return "redirect_loop"
        if "already stored" in message:
            return "already_stored"
        return "ignored"
    for kinds, reason in _BY_EXCEPTION:
        if failure.check(*kinds):
            return reason
    if "maxsize" in str(failure.value).lower() or "max size" in str(failure.value).lower():
        return "too_large"
    return failure.type.__name__ if failure.type else "error"
