"""Run one crawl of the given sources, handing each fetch to a callback.

Scrapy's reactor cannot be restarted, so :func:`crawl` runs once per
process; the daemon runs each tick in a child process, and the tests run
each crawl through ``python -m crawler`` (see :mod:`crawler.jsonl`).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable
from urllib.parse import urlsplit

from .model import SOURCE_SETTINGS, CrawlSource, FetchResult, Validators

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/yibao-watch/yibao-watch"
#: per-source switch → the Scrapy setting that must be on for any request to use it
SWITCHES = {"obey_robots": "ROBOTSTXT_OBEY", "cookies": "COOKIES_ENABLED", "autothrottle": "AUTOTHROTTLE_ENABLED"}
DEFAULT_MAX_SIZE = 4 * 1024 * 1024


def _version() -> str:
    try:
        return version("yibao-watch")
    except PackageNotFoundError:
        return "0"


DEFAULT_USER_AGENT = f"yibao-watch/{_version()} (+{PROJECT_URL})"


def agent_string(agent: str | None = None, contact: str | None = None) -> str:
    """The project's name and version, and the contact (URL or e-mail) a web team can reach us at."""
    agent = agent or DEFAULT_USER_AGENT
    if contact and contact not in agent:
        agent = f"{agent[:-1]}; {contact})" if agent.endswith(")") else f"{agent} (+{contact})"
    return agent


def polite_settings(user_agent: str | None = None, contact: str | None = None, **overrides: Any) -> dict[str, Any]:
    """Scrapy settings that a bureau's web team would not complain about.

    robots.txt obeyed, AutoThrottle on, no telnet console or remote control,
    at most 2 requests in flight per host and half a second between them, no
    cookies, a 4 MB size limit (the largest bureau page in the corpus is
    ~100 KB), 30 s timeouts, 2 retries on 5xx, 408, 429 and timeouts,
    redirects followed by the spider (never to another host). Scrapy setting
    names as keywords override.
    """
    settings: dict[str, Any] = {
        "USER_AGENT": agent_string(user_agent, contact),
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": "yibao-watch",
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0.5,
        "COOKIES_ENABLED": False,
        "DOWNLOAD_MAXSIZE": DEFAULT_MAX_SIZE,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": 30,
        "DNS_TIMEOUT": 30,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "REDIRECT_ENABLED": False,
        "METAREFRESH_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's RemoteControl: an HTTP server on localhost that runs Python code sent to it, its
        # port and token written to ~/.local/state/scrapy/job_files (left behind when a run is killed).
        # Not for a cron job on a shared server; it also cost 0.12 s of imports (aiohttp) every run.
        "REMOTE_CONTROL_ENABLED": False,
        # Scrapy checks that a generator callback returns no value by reading its source (inspect + ast),
        # cached under a weak reference to the bound method — which dies with its request, so it re-read
        # SourceSpider.on_response hundreds of times a run: 18% of a no-change rerun's crawl (py-spy).
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        # A response yields one FetchResult (a listing also its article requests), handled synchronously by
        # the item_scraped signal: nothing to overlap. Scrapy's default of 100 starts 101 asyncio tasks per
        # response to process that output "in parallel" — a second of CPU per 1000 pages for nothing.
        "CONCURRENT_ITEMS": 1,
        "LOG_LEVEL": "CRITICAL",  # failures are reported as data, one line each, not as tracebacks
        "LOG_ENABLED": True,
    }
    settings.update(overrides)
    return settings


def resolve_sources(sources: Sequence[CrawlSource], settings: Mapping[str, Any]
                    ) -> tuple[list[CrawlSource], dict[str, Any]]:
    """Per-source overrides made concrete: each source's switches resolved, the crawl's settings to match.

    Scrapy turns robots.txt, cookies and AutoThrottle on or off for a whole
    crawl; a request can only opt out. So a feature is on for the crawl when
    any source wants it, and every source that does not opts out. Host limits
    go to DOWNLOAD_SLOTS; two sources on one host get the politer of their
    values (the lower concurrency, the longer delay).
    """
    merged = dict(settings)
    for src in sources:
        unknown = sorted(set(src.settings) - set(SOURCE_SETTINGS))
        if unknown:
            raise ValueError(f"source {src.id}: unknown crawl setting {', '.join(unknown)}; "
                             f"valid: {', '.join(SOURCE_SETTINGS)}")
    resolved = [replace(src, settings={**{key: bool(settings.get(name, False)) for key, name in SWITCHES.items()},
                                       **src.settings}) for src in sources]
    for key, name in SWITCHES.items():
        merged[name] = bool(settings.get(name, False)) or any(src.settings[key] for src in resolved)
    merged["DOWNLOAD_SLOTS"] = _slots(resolved, merged)
    return resolved, merged


# Scrapy imports every component before asking it whether it is switched on, so a feature turned off by
# its setting still costs its imports on every run: the RemoteControl extension imports aiohttp (88 ms),
# the cookies middleware tldextract (31 ms), the telnet console twisted.conch. Listing one as None does
# not help (Scrapy 2.19 imports the keys of EXTENSIONS to normalise them); left out of the *_BASE dict,
# which Scrapy takes as it is, it is never imported.
COMPONENTS_OF_FEATURES = {
    "REMOTE_CONTROL_ENABLED": ("EXTENSIONS_BASE", "scrapy.extensions.remote_control.RemoteControl"),
    "TELNETCONSOLE_ENABLED": ("EXTENSIONS_BASE", "scrapy.extensions.telnet.TelnetConsole"),
    "COOKIES_ENABLED": ("DOWNLOADER_MIDDLEWARES_BASE", "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"),
    "HTTPCACHE_ENABLED": ("DOWNLOADER_MIDDLEWARES_BASE",
                          "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware"),
}


def without_unused_components(settings: Mapping[str, Any], defaults: Any) -> dict[str, Any]:
    """The settings with the components of features set to off left out of Scrapy's defaults (``defaults``:
    scrapy.settings.default_settings). A feature the settings do not mention keeps Scrapy's default."""
    out = dict(settings)
    for feature, (base, path) in COMPONENTS_OF_FEATURES.items():
        if feature in out and not out[feature]:
            components = dict(out.get(base) or getattr(defaults, base))
            components.pop(path, None)
            out[base] = components
    return out


def _slots(sources: Sequence[CrawlSource], settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    slots: dict[str, dict[str, Any]] = {k: dict(v) for k, v in dict(settings.get("DOWNLOAD_SLOTS") or {}).items()}
    for src in sources:
        host = (urlsplit(src.url).hostname or "").lower()
        if "concurrency_per_host" in src.settings:
            entry = slots.setdefault(host, {})
            entry["concurrency"] = min(int(src.settings["concurrency_per_host"]), entry.get("concurrency", 1 << 30))
        if "download_delay" in src.settings:
            entry = slots.setdefault(host, {})
            entry["delay"] = max(float(src.settings["download_delay"]), entry.get("delay", 0.0))
        if not src.settings["autothrottle"] and settings.get("AUTOTHROTTLE_ENABLED"):
            # AutoThrottle starts new slots at its start delay; without it this host keeps the plain delay
            slots.setdefault(host, {}).setdefault("delay", float(settings.get("DOWNLOAD_DELAY", 0)))
    return slots


@dataclass
class CrawlOutcome:
    results: int = 0
    callback_error: BaseException | None = None
    close_reason: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


#: single components Scrapy loads by these settings' paths when a crawl starts
_COMPONENT_SETTINGS = ("SCHEDULER", "DUPEFILTER_CLASS", "STATS_CLASS", "ROBOTSTXT_PARSER", "SCHEDULER_PRIORITY_QUEUE",
                       "SCHEDULER_MEMORY_QUEUE", "DNS_RESOLVER", "DOWNLOADER", "REQUEST_FINGERPRINTER_CLASS",
                       "LOG_FORMATTER", "ITEM_PROCESSOR", "TWISTED_REACTOR")


def preload() -> None:
    """Import what :func:`crawl` will: Scrapy, Twisted, the spider and the components the polite settings list.

    A forked crawl process (crawler.child) does this while its parent opens
    the database; the components alone were 0.07 s of imports between the
    job's arrival and the first request (TLS context factory, robots.txt
    parser, middlewares). Imports only: nothing is built or installed.
    """
    import scrapy.crawler  # noqa: F401
    from scrapy.settings import default_settings
    from scrapy.utils.misc import load_object

    from . import spider  # noqa: F401

    settings = without_unused_components(polite_settings(), default_settings)
    paths: list[str] = []
    for base in ("DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE", "EXTENSIONS_BASE"):
        paths += [p for p in (settings.get(base) or getattr(default_settings, base)) if isinstance(p, str)]
    paths += [default_settings.DOWNLOAD_HANDLERS_BASE[scheme] for scheme in ("http", "https")]
    paths += [getattr(default_settings, name) for name in _COMPONENT_SETTINGS if hasattr(default_settings, name)]
    for path in paths:
        try:
            load_object(path)
        except Exception:  # noqa: BLE001 - the crawl loads it again and reports what is wrong
            log.debug("preloading %s failed", path, exc_info=True)


def crawl(
    sources: list[CrawlSource],
    validators: Mapping[str, Validators],
    on_result: Callable[[FetchResult], None],
    settings: dict[str, Any] | None = None,
    known_urls: Mapping[str, Sequence[str]] | None = None,
) -> CrawlOutcome:
    """Fetch every source once; ``on_result`` runs for each fetch, in the reactor thread.

    ``validators`` maps a URL to the ETag / Last-Modified of its last fetch;
    ``known_urls`` maps a listing source's id to the article URLs already
    seen, newest first. When the callback raises (a full disk, a broken
    database) the crawl stops at once and the error is returned, so the
    caller can fail the run with nothing half-written: each callback owns its
    own transaction. Runs once per process (Scrapy's reactor cannot restart).
    """
    # Scrapy and Twisted (a quarter of a second of imports) load here, not with the package: the
    # pipeline forks its writer before calling this, so the writer starts while the crawl's process imports.
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.exceptions import CloseSpider
    from scrapy.settings import default_settings

    from .spider import SourceSpider

    outcome = CrawlOutcome()
    resolved, merged = resolve_sources(sources, settings or polite_settings())
    level = merged.get("LOG_LEVEL", "ERROR")
    process = CrawlerProcess({**without_unused_components(merged, default_settings), "LOG_INSTALL_ROOT_HANDLER": False})
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
            crawler.engine.close_spider(spider, "callback_error")
            raise CloseSpider("callback_error") from exc

    def closed(spider: SourceSpider, reason: str) -> None:
        outcome.close_reason = reason
        outcome.stats = dict(crawler.stats.get_stats()) if crawler.stats else {}

    crawler.signals.connect(scraped, signal=signals.item_scraped)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.crawl(crawler, sources=resolved, validators=validators, known_urls=known_urls or {})
    process.start()
    return outcome
