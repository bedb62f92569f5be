"""Pure extraction: page bytes → medical-insurance payment facts (see ../shared/FACTS.md).

Nothing here does I/O, reads the clock or knows about storage, crawling or
alerts; the same call serves Scrapy, ``yibao extract`` and the tests.
"""
from .extract import EXTRACTOR_VERSION, Reading, extract_facts, read_page
from .vocab import CORE_METRICS, METRICS, SCHEMES, Fact

__all__ = ["EXTRACTOR_VERSION", "Reading", "read_page", "CORE_METRICS", "METRICS", "SCHEMES", "Fact", "extract_facts"]
