"""A failed download in words a user can act on: (outcome, error message).

Scrapy reports failures as exception types; the fetch log and the health
notices want one line that says what happened and what to change.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

Describe = Callable[[Mapping[str, Any], BaseSettings], str]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.3g} MB"


def _timeout(meta: Mapping[str, Any], settings: BaseSettings) -> str:
    seconds = float(meta.get("download_timeout") or settings.getfloat("DOWNLOAD_TIMEOUT"))
    tries = int(meta.get("retry_times", 0)) + 1
    return f"no answer within {seconds:g} s ({tries} attempt{'s' if tries > 1 else ''}); " \
           "raise download_timeout for this source if the site is just slow"


def _too_big(meta: Mapping[str, Any], settings: BaseSettings) -> str:
    limit = int(meta.get("download_maxsize") or settings.getint("DOWNLOAD_MAXSIZE"))
    return f"the response is larger than the download size limit ({_mb(limit)}); " \
           "raise max_size_mb for this source if the page really is this big"


def _says(text: str) -> Describe:
    return lambda meta, settings: text


# exception class name → message maker; names, so no import depends on the Scrapy version
MESSAGES: dict[str, Describe] = {
    "DownloadTimeoutError": _timeout,
    "TimeoutError": _timeout,
    "DownloadCancelledError": _too_big,
    "CancelledError": _too_big,
    "DownloadConnectionRefusedError": _says("connection refused"),
    "ConnectionRefusedError": _says("connection refused"),
    "CannotResolveHostError": _says("cannot resolve the host name; check the URL"),
    "DNSLookupError": _says("cannot resolve the host name; check the URL"),
}


def describe_failure(failure: Failure, meta: Mapping[str, Any], settings: BaseSettings) -> tuple[str, str]:
    name = failure.type.__name__ if failure.type else "Error"
    message = failure.getErrorMessage() or name
    if name == "IgnoreRequest" and "robots.txt" in message:
        return "blocked", ("IgnoreRequest: forbidden by robots.txt; set obey_robots = false for this source "
                           "only if the site allows it")
    maker = MESSAGES.get(name)
    return "error", f"{name}: {maker(meta, settings) if maker else message}"
