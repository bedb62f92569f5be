"""Fetch only: Scrapy spiders for the configured sources, polite and incremental.

The crawler never imports storage: the pipeline passes in what it knows
(validators for conditional GET) and a callback that receives each
:class:`~crawler.model.FetchResult`.
"""
from .model import CrawlSource, FetchResult, Validators
from .runner import CrawlOutcome, crawl, polite_settings

__all__ = ["CrawlOutcome", "CrawlSource", "FetchResult", "Validators", "crawl", "polite_settings"]
