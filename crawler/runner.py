"""Run one crawl of the given sources, handing each fetch to a callback.

Scrapy's reactor cannot be restarted, so :func:`crawl` runs once per
process; the daemon runs each tick in a child process.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import CloseSpider

from .model import CrawlSource, FetchResult, Validators
from .spider import SourceSpider

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "yibao-watch/0.1 (+https://github.com/yibao-watch/yibao-watch)"


def polite_settings(user_agent: str | None = None, contact: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Scrapy settings that a bureau's web team would not complain about."""
    agent = user_agent or DEFAULT_USER_AGENT
    if contact and contact not in agent:
        agent = f"{agent.rstrip(')')}; {contact})" if agent.endswith(")") else f"{agent} (+{contact})"
    settings: dict[str, Any] = {
        "USER_AGENT": agent,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0.5,
        "COOKIES_ENABLED": False,
        "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": 30,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "LOG_ENABLED": True,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    }
    settings.update(overrides)
    return settings


@dataclass
class CrawlOutcome:
    results: int = 0
    callback_error: BaseException | None = None
    close_reason: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def crawl(
    sources: list[CrawlSource],
    validators: dict[str, Validators],
    on_result: Callable[[FetchResult], None],
    settings: dict[str, Any] | None = None,
) -> CrawlOutcome:
    """Fetch every source once; ``on_result`` runs for each fetch, in the reactor thread.

    When the callback raises (a full disk, a broken database) the crawl stops
    at once and the error is returned, so the caller can fail the run with
    nothing half-written: each callback owns its own transaction.
    """
    outcome = CrawlOutcome()
    level = (settings or {}).get("LOG_LEVEL", "ERROR")
    process = CrawlerProcess({**(settings or polite_settings()), "LOG_INSTALL_ROOT_HANDLER": False})
    # Scrapy sets its loggers up in CrawlerProcess(); quiet them after, so cron stays silent.
    for name in ("scrapy", "twisted", "py.warnings", "filelock", "protego"):
        logging.getLogger(name).setLevel(level)
    crawler = process.create_crawler(SourceSpider)

    def scraped(item: Any, response: Any, spider: SourceSpider) -> None:
        if outcome.callback_error is not None:
            return
        try:
            on_result(item)
            outcome.results += 1
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller
            outcome.callback_error = exc
            crawler.engine.close_spider(spider, "callback_error")  # type: ignore[union-attr]
            raise CloseSpider("callback_error") from exc

    def closed(spider: SourceSpider, reason: str) -> None:
        outcome.close_reason = reason
        outcome.stats = dict(crawler.stats.get_stats()) if crawler.stats else {}

    crawler.signals.connect(scraped, signal=signals.item_scraped)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, sources=sources, validators=validators)
    process.start()
    return outcome
