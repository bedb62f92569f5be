"""The crawler's own view of sources and of what a fetch produced.

The crawler fetches and nothing else: the pipeline hands it these plain
values (the validators and article URLs it remembered) and gets
:class:`FetchResult` objects back through a callback. It never sees the
database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Keys of :attr:`CrawlSource.settings`, the per-source overrides of the polite
#: defaults, each with what it does. Anything else is refused at crawl start, so
#: a typo does not silently fall back to the default.
SOURCE_SETTINGS: dict[str, str] = {
    "obey_robots": "bool: obey robots.txt for this source's requests",
    "user_agent": "str: the User-Agent header for this source's requests",
    "download_timeout": "seconds: give up on a request after this long",
    "download_maxsize": "bytes: refuse a response larger than this",
    "retries": "int: retries after a 5xx, a 408/429 or a timeout",
    "cookies": "bool: keep cookies for this source (a jar of its own)",
    "autothrottle": "bool: let AutoThrottle adapt the delay to this source's host",
    "concurrency_per_host": "int: at most this many requests in flight to the source's host",
    "download_delay": "seconds: at least this long between requests to the source's host",
    "revisit_articles": "bool: re-request (conditionally) articles already seen; false fetches only new links",
}


@dataclass(frozen=True, slots=True)
class CrawlSource:
    id: str
    url: str
    kind: str = "page"  # page | listing
    follow: str | None = None  # listing: regex on link text or URL
    max_articles: int = 20
    settings: dict[str, Any] = field(default_factory=dict)  # per-source overrides, keys of SOURCE_SETTINGS

    def follow_rx(self) -> re.Pattern[str] | None:
        return re.compile(self.follow) if self.follow else None


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last fetch of a URL told us, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class FetchResult:
    """One fetch of one URL. Failures are data: ``outcome``, ``status``, ``error`` and timing.

    ``outcome`` is ``ok`` (a body), ``not_modified`` (a 304 to a conditional
    GET), ``error`` (HTTP ≥ 400, a timeout, a refused redirect, a response
    over the size limit, …) or ``blocked`` (robots.txt forbids it).
    ``elapsed_ms`` is the last attempt's time from leaving the download queue
    to the response (politeness delays excluded); ``attempts`` counts retries.
    ``url`` is always the URL requested; ``final_url`` differs after a
    redirect on the same host.
    """

    source_id: str
    url: str
    outcome: str  # ok | not_modified | error | blocked
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    elapsed_ms: int | None = None
    fetched_at: datetime | None = None
    role: str = "page"  # page | listing | article
    rank: int = 0  # position of an article in its listing (0 = first = newest)
    attempts: int = 1
    final_url: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "not_modified")
