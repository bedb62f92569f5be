"""One spider for every configured source.

``page`` sources fetch their URL; ``listing`` sources fetch an index and
follow the article links on the same host whose text or URL matches
``follow``, in listing order (newest first), up to ``max_articles``.
Articles already seen (``known_urls``, from the pipeline) are re-requested
conditionally, or skipped when the source sets ``revisit_articles = false``;
when the index itself answers 304 the remembered articles stand in for its
links. Every request is conditional when the pipeline knows the URL's
validators.

Redirects are followed by hand so a redirect to another host can be refused:
a bureau page that now redirects to a portal's home page must fail loudly,
not be read as "every figure removed".
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, AsyncIterator, Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure

from .errors import describe_failure
from .model import CrawlSource, FetchResult, Validators

MAX_REDIRECTS = 5
#: request meta key → CrawlSource.settings key, for overrides Scrapy reads per request
REQUEST_OVERRIDES = {"download_timeout": "download_timeout", "download_maxsize": "download_maxsize",
                     "max_retry_times": "retries"}
#: CrawlSource.settings switch → the meta key that turns the feature off for one request
SWITCH_OFF_META = {"obey_robots": "dont_obey_robotstxt", "cookies": "dont_merge_cookies",
                   "autothrottle": "autothrottle_dont_adjust_delay"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _header(response: Response, name: bytes) -> str | None:
    return (response.headers.get(name) or b"").decode("latin-1") or None


class SourceSpider(scrapy.Spider):
    name = "yibao"

    def __init__(self, sources: list[CrawlSource], validators: Mapping[str, Validators],
                 known_urls: Mapping[str, Sequence[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources = sources
        self.validators = validators
        self.known_urls = known_urls or {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        spider: SourceSpider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._reached_downloader, signal=signals.request_reached_downloader)
        return spider

    def _reached_downloader(self, request: scrapy.Request, spider: scrapy.Spider) -> None:
        # Timing starts when the request leaves the politeness queue, so a slow host
        # is told apart from a long wait behind our own delay; each retry restarts it.
        request.meta["sent"] = time.monotonic()

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"yibao/{key}")

    # ------------------------------------------------------------------ requests

    def make(self, source: CrawlSource, url: str, role: str, rank: int = 0, hops: int = 0,
             original: str | None = None) -> scrapy.Request:
        headers: dict[str, str] = {}
        # The pipeline files a fetch under the URL it asked for, so a redirect target is asked
        # with the validators of the original URL: conditional GET keeps working through a move.
        known = self.validators.get(original or url)
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        if source.settings.get("user_agent"):
            headers["User-Agent"] = str(source.settings["user_agent"])
        meta: dict[str, Any] = {"source": source, "role": role, "rank": rank, "hops": hops,
                                "original_url": original or url, "started": time.monotonic(),
                                "dont_redirect": True, "handle_httpstatus_all": True}
        for meta_key, setting in REQUEST_OVERRIDES.items():
            if source.settings.get(setting) is not None:
                meta[meta_key] = source.settings[setting]
        for setting, off in SWITCH_OFF_META.items():
            if source.settings.get(setting) is False:
                meta[off] = True
        if source.settings.get("cookies"):
            meta["cookiejar"] = source.id  # one jar per source: no cookie crosses sources
        return scrapy.Request(url, headers=headers, meta=meta, callback=self.on_response, errback=self.on_error,
                              dont_filter=True)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.sources:
            yield self.make(source, source.url, "listing" if source.kind == "listing" else "page")

    # ------------------------------------------------------------------ responses

    def _timing(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        started = meta.get("sent", meta["started"])
        return {"elapsed_ms": int((time.monotonic() - started) * 1000), "attempts": int(meta.get("retry_times", 0)) + 1,
                "fetched_at": _now(), "role": meta["role"], "rank": meta["rank"]}

    def _result(self, response: Response, outcome: str, **extra: Any) -> FetchResult:
        meta = response.meta
        source: CrawlSource = meta["source"]
        original = meta["original_url"]
        return FetchResult(
            source_id=source.id, url=original, outcome=outcome, status=response.status,
            content_type=_header(response, b"Content-Type"), etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            final_url=response.url if response.url != original else None, **self._timing(meta), **extra,
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
            if meta["role"] == "listing":
                yield from self._follow(source, self._remembered(source))
            return
        if status >= 400:
            phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            yield self._result(response, "error", error=f"HTTP {status} {phrase}".rstrip())
            return
        yield self._result(response, "ok", body=response.body)
        if meta["role"] == "listing":
            yield from self._follow(source, self.article_links(response, source))

    def _redirect(self, response: Response, source: CrawlSource) -> Iterator[Any]:
        location = _header(response, b"Location") or ""
        target = urljoin(response.url, location) if location else ""
        original = response.meta["original_url"]
        if not target:
            yield self._result(response, "error", error=f"HTTP {response.status} without a Location header")
        elif _host(target) != _host(original):
            yield self._result(response, "error",
                               error=f"redirected to another host ({target}); if the page moved, update the source URL")
        elif response.meta["hops"] >= MAX_REDIRECTS:
            yield self._result(response, "error", error=f"more than {MAX_REDIRECTS} redirects")
        else:
            yield self.make(source, target, response.meta["role"], response.meta["rank"], response.meta["hops"] + 1,
                            original)

    # ------------------------------------------------------------------ listings

    def _remembered(self, source: CrawlSource) -> list[str]:
        """A 304 index has no links to read: its articles are the ones remembered, newest first."""
        return list(self.known_urls.get(source.id, ()))[: source.max_articles]

    def _follow(self, source: CrawlSource, window: list[str]) -> Iterator[scrapy.Request]:
        known = set(self.known_urls.get(source.id, ()))
        revisit = source.settings.get("revisit_articles", True)
        for rank, url in enumerate(window):
            if url in known and not revisit:
                self._count("articles_skipped")
                continue
            self._count("articles_revisited" if url in known else "articles_new")
            yield self.make(source, url, "article", rank=rank)

    @staticmethod
    def article_links(response: Response, source: CrawlSource) -> list[str]:
        """The listing's article URLs in listing order that match `follow` on the same host, at most max_articles."""
        if not isinstance(response, TextResponse):
            return []
        rx = source.follow_rx()
        host = _host(response.url)
        here = urldefrag(response.url)[0]
        found: list[str] = []
        for link in LinkExtractor(unique=False).extract_links(response):
            url = urldefrag(link.url)[0]
            if _host(url) != host or url == here or url in found:
                continue
            if rx and not (rx.search(link.text or "") or rx.search(url)):
                continue
            found.append(url)
            if len(found) >= source.max_articles:
                break
        return found

    # ------------------------------------------------------------------ failures

    def on_error(self, failure: Failure) -> Iterator[FetchResult]:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        source: CrawlSource = meta["source"]
        outcome, error = describe_failure(failure, meta, self.settings)
        yield FetchResult(source_id=source.id, url=meta["original_url"], outcome=outcome, error=error,
                          final_url=request.url if request.url != meta["original_url"] else None,
                          **self._timing(meta))
