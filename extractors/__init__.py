"""Pure extraction: page bytes → medical-insurance payment facts (see ../shared/FACTS.md).

Nothing here does I/O, reads the clock or knows about storage, crawling or
alerts; the same call serves Scrapy, ``yibao extract`` and the tests.

The grammar is imported on first use (PEP 562): a process that only needs
the vocabulary — the crawl's, which hands pages to reader processes — does
not pay for compiling it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .vocab import CORE_METRICS, EXTRACTOR_VERSION, METRICS, SCHEMES, Fact

if TYPE_CHECKING:
    from .extract import Reading, extract_facts, read_page

__all__ = ["EXTRACTOR_VERSION", "Reading", "read_page", "CORE_METRICS", "METRICS", "SCHEMES", "Fact", "extract_facts"]
_LAZY = {"Reading", "read_page", "extract_facts"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import extract

        return getattr(extract, name)
    raise AttributeError(f"module 'extractors' has no attribute {name!r}")
