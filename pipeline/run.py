"""One run, end to end: lock → crawl → extract → conflicts → health → deliver.

Exit codes (README): 0 the run completed and every source answered; 1 the
run completed but some sources failed; 2 the run itself failed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from storage import repo
from storage.db import checkpoint, ensure_schema, make_engine, session_factory, transaction
from storage.lock import LockHeld, RunLock

from .config import Config, SourceConfig
from .stages import Pipeline, RunCounts, utcnow

if TYPE_CHECKING:
    from crawler.child import CrawlChild

log = logging.getLogger(__name__)

EXIT_OK, EXIT_SOURCES_FAILED, EXIT_RUN_FAILED = 0, 1, 2


class RunFailed(Exception):
    """The run could not complete; the message is one line saying why and what to do."""


@dataclass
class RunReport:
    run_id: int
    counts: RunCounts
    status: str

    @property
    def exit_code(self) -> int:
        return EXIT_SOURCES_FAILED if self.counts.failed_sources else EXIT_OK

    def summary_line(self) -> str:
        c = self.counts
        events = ", ".join(f"{k} {v}" for k, v in sorted(c.events.items())) or "no changes"
        return (f"run {self.run_id}: {c.fetched} fetched ({c.changed_pages} new, {c.unchanged_pages} unchanged, "
                f"{c.failed_fetches} failed), {c.extracted} extracted, {events}; {c.delivered} delivered"
                + (f"; failed sources: {', '.join(sorted(c.failed_sources))}" if c.failed_sources else ""))


def select_sources(config: Config, only: list[str] | None) -> list[SourceConfig]:
    if not only:
        return list(config.source)
    known = {s.id: s for s in config.source}
    missing = [i for i in only if i not in known]
    if missing:
        raise RunFailed(f"unknown source {', '.join(missing)}; configured: {', '.join(known) or 'none'}")
    return [known[i] for i in only]


def run_once(config: Config, only: list[str] | None = None,
             due: Callable[[list[SourceConfig]], list[SourceConfig]] | None = None,
             crawl_child: CrawlChild | None = None) -> RunReport:
    """One run; ``crawl_child``: a crawl process the caller forked before importing the storage (see
    crawler.child), so Scrapy was loading meanwhile."""
    sources = select_sources(config, only)
    if due is not None:
        sources = due(sources)
    engine = make_engine(config.database.url)
    try:
        ensure_schema(engine, config.database.auto_upgrade)
        with RunLock(engine):
            try:
                return _run_locked(config, sources, engine, crawl_child)
            finally:
                checkpoint(engine)
    except LockHeld as exc:
        raise RunFailed(str(exc)) from None
    finally:
        engine.dispose()


def _run_locked(config: Config, sources: list[SourceConfig], engine: object,
                crawl_child: CrawlChild | None) -> RunReport:
    factory = session_factory(engine)  # type: ignore[arg-type]
    with transaction(factory) as s:
        run_id = repo.start_run(s, utcnow()).id
    pipe = Pipeline(config, factory, run_id)
    status = "failed"
    try:
        pipe.sync_sources(sources)
        if sources:
            pipe.crawl(sources, crawl_child)
        pipe.after_crawl(sources)
        status = "partial" if pipe.counts.failed_sources else "ok"
    finally:
        with transaction(factory) as s:
            repo.finish_run(s, run_id, status, pipe.counts.as_dict(), utcnow())
    return RunReport(run_id, pipe.counts, status)
