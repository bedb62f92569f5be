"""Fetch only: Scrapy spiders for the configured sources, polite and incremental.

The crawler never imports storage: the pipeline passes in what it knows
(validators for conditional GET, the article URLs already seen) and a
callback that receives each :class:`~crawler.model.FetchResult`.
"""
from .model import SOURCE_SETTINGS, CrawlSource, FetchResult, Validators
from .runner import CrawlOutcome, agent_string, crawl, polite_settings, resolve_sources

__all__ = ["SOURCE_SETTINGS", "CrawlOutcome", "CrawlSource", "FetchResult", "Validators", "agent_string", "crawl",
           "polite_settings", "resolve_sources"]
