"""The crawler's own view of sources and of what a fetch produced.

The crawler fetches and nothing else: the pipeline hands it these plain
values (and the validators it remembered) and gets :class:`FetchResult`
objects back through a callback. It never sees the database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CrawlSource:
    id: str
    url: str
    kind: str = "page"  # page | listing
    follow: str | None = None  # listing: regex on link text or URL
    max_articles: int = 20
    settings: dict[str, Any] = field(default_factory=dict)  # per-source Scrapy overrides

    def follow_rx(self) -> re.Pattern[str] | None:
        return re.compile(self.follow) if self.follow else None


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last fetch of a URL told us, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class FetchResult:
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
    rank: int = 0  # position of an article in its listing (0 = first)

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "not_modified")
