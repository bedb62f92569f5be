"""The floor of any Scrapy-based pipeline: fetch N URLs and parse each with lxml.html.fromstring, nothing else.

    python benchmarks/bare_scrapy.py --urls urls.txt [--concurrency 16] [--per-host 16]

Same crawl settings as the benchmark's yibao config (robots.txt obeyed,
no delay, no AutoThrottle, no cookies, no redirects followed, 16 requests in
flight, 16 per host, no telnet console, no RemoteControl server; the components of
those features not even imported, as in yibao). No conditional requests: every run fetches every page in
full. Prints one line, ``pages=N parsed=N errors=N``.
"""
from __future__ import annotations

import argparse
from typing import Any, AsyncIterator

import lxml.html
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.settings import default_settings


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls: list[str], counts: dict[str, int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.counts = counts

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response: Any, **kwargs: Any) -> None:
        self.counts["pages"] += 1
        root = lxml.html.fromstring(response.body)
        if root is not None:
            self.counts["parsed"] += 1

    def failed(self, failure: Any) -> None:
        self.counts["errors"] += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--urls", required=True, help="a file with one URL a line")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--per-host", type=int, default=16)
    args = ap.parse_args()
    with open(args.urls, encoding="utf-8") as fh:
        urls = [line.strip() for line in fh if line.strip()]
    counts = {"pages": 0, "parsed": 0, "errors": 0}
    process = CrawlerProcess({
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.per_host,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "REDIRECT_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "USER_AGENT": "bare-scrapy-bench",
        # as yibao does (crawler.runner.COMPONENTS_OF_FEATURES): the components of the features switched off
        # above are left out, so Scrapy does not import them (aiohttp, tldextract, twisted.conch: ~0.12 s)
        "EXTENSIONS_BASE": {k: v for k, v in default_settings.EXTENSIONS_BASE.items()
                            if k.rsplit(".", 1)[-1] not in ("RemoteControl", "TelnetConsole")},
        "DOWNLOADER_MIDDLEWARES_BASE": {k: v for k, v in default_settings.DOWNLOADER_MIDDLEWARES_BASE.items()
                                        if k.rsplit(".", 1)[-1] not in ("CookiesMiddleware", "HttpCacheMiddleware")},
    })
    process.crawl(BareSpider, urls=urls, counts=counts)
    process.start()
    print(f"pages={counts['pages']} parsed={counts['parsed']} errors={counts['errors']}")


if __name__ == "__main__":
    main()
