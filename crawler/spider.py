"""One spider for every configured source.

``page`` sources fetch their URL; ``listing`` sources fetch an index and
follow the article links on the same site whose text or URL matches
``follow``, newest (first listed) first, up to ``max_articles``. Every
request is conditional when the pipeline knows the URL's validators.
Redirects are followed by hand so a redirect to another host can be refused:
a bureau page that now redirects to a portal's home page must fail loudly,
not be read as "every figure removed".
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterator
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure

from .model import CrawlSource, FetchResult, Validators

MAX_REDIRECTS = 5
REQUEST_OVERRIDES = {"download_timeout": "download_timeout", "download_maxsize": "download_maxsize",
                     "max_retry_times": "retries"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class SourceSpider(scrapy.Spider):
    name = "yibao"

    def __init__(self, sources: list[CrawlSource], validators: dict[str, Validators], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.validators = validators

    # ------------------------------------------------------------------ requests

    def make(self, source: CrawlSource, url: str, role: str, rank: int = 0, hops: int = 0) -> scrapy.Request:
        headers: dict[str, str] = {}
        known = self.validators.get(url)
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        if "user_agent" in source.settings:
            headers["User-Agent"] = str(source.settings["user_agent"])
        meta: dict[str, Any] = {"source": source, "role": role, "rank": rank, "hops": hops, "started": time.monotonic(),
                                "dont_redirect": True, "handle_httpstatus_all": True}
        for meta_key, setting in REQUEST_OVERRIDES.items():
            if setting in source.settings:
                meta[meta_key] = source.settings[setting]
        if source.settings.get("obey_robots") is False:
            meta["dont_obey_robotstxt"] = True
        return scrapy.Request(url, headers=headers, meta=meta, callback=self.on_response, errback=self.on_error,
                              dont_filter=True)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        for source in self.sources:
            yield self.make(source, source.url, "listing" if source.kind == "listing" else "page")

    # ------------------------------------------------------------------ responses

    def _result(self, response: Response, outcome: str, **extra: Any) -> FetchResult:
        meta = response.meta
        source: CrawlSource = meta["source"]
        headers = response.headers
        return FetchResult(
            source_id=source.id, url=meta.get("original_url", response.request.url if response.request else response.url),
            outcome=outcome, status=response.status,
            content_type=(headers.get(b"Content-Type") or b"").decode("latin-1") or None,
            etag=(headers.get(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            elapsed_ms=int((time.monotonic() - meta["started"]) * 1000), fetched_at=_now(),
            role=meta["role"], rank=meta["rank"], **extra,
        )

    def on_response(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        source: CrawlSource = meta["source"]
        status = response.status
        if 300 <= status < 400 and status != 304:
            yield from self._redirect(response, source)
            return
        if status == 304:
            yield self._result(response, "not_modified")
            return
        if status >= 400:
            yield self._result(response, "error", error=f"HTTP {status}")
            return
        yield self._result(response, "ok", body=response.body)
        if meta["role"] == "listing":
            yield from self._articles(response, source)

    def _redirect(self, response: Response, source: CrawlSource) -> Iterator[Any]:
        location = (response.headers.get(b"Location") or b"").decode("latin-1")
        target = urljoin(response.url, location) if location else ""
        original = response.meta.get("original_url", response.url)
        if not target:
            yield self._result(response, "error", error=f"HTTP {response.status} without a Location header")
        elif _host(target) != _host(original):
            yield self._result(response, "error",
                               error=f"redirected to another host ({target}); if the page moved, update the source URL")
        elif response.meta["hops"] >= MAX_REDIRECTS:
            yield self._result(response, "error", error=f"more than {MAX_REDIRECTS} redirects")
        else:
            request = self.make(source, target, response.meta["role"], response.meta["rank"], response.meta["hops"] + 1)
            request.meta["original_url"] = original
            yield request

    def _articles(self, response: Response, source: CrawlSource) -> Iterator[scrapy.Request]:
        """Article links of a listing, in listing order, that match `follow` on the same host."""
        rx = source.follow_rx()
        host = _host(response.url)
        seen: set[str] = set()
        try:
            links = LinkExtractor(unique=False).extract_links(response)
        except (AttributeError, ValueError):  # not HTML
            return
        for link in links:
            if _host(link.url) != host or link.url in seen or link.url == response.url:
                continue
            if rx and not (rx.search(link.text or "") or rx.search(link.url)):
                continue
            seen.add(link.url)
            if len(seen) > source.max_articles:
                break
            yield self.make(source, link.url, "article", rank=len(seen) - 1)

    def on_error(self, failure: Failure) -> Iterator[FetchResult]:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        source: CrawlSource = meta["source"]
        error = failure.getErrorMessage() or failure.type.__name__
        outcome = "error"
        if "robots.txt" in error or failure.type.__name__ == "IgnoreRequest":
            error = "forbidden by robots.txt; set obey_robots = false for this source only if the site allows it"
            outcome = "blocked"
        yield FetchResult(source_id=source.id, url=meta.get("original_url", request.url), outcome=outcome,
                          error=f"{failure.type.__name__}: {error}",
                          elapsed_ms=int((time.monotonic() - meta["started"]) * 1000), fetched_at=_now(),
                          role=meta["role"], rank=meta["rank"])
