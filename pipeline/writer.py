"""The writer: a child process that stores and reads fetched pages while the crawl goes on.

Scrapy's reactor and the extractor are both CPU-bound Python; in one process
they take turns, and a run costs crawl + extraction + database. The run's
process (which receives each :class:`~crawler.FetchResult` from the crawl
process, see crawler.child) hands the new ones to this process instead,
which stores them and has its readers extract a changed page at once, so the
crawl, the extraction and the store overlap on the cores.

Writes are grouped: every fetch waiting in the queue (up to ``BATCH``) is
stored in one transaction. That is as safe as one transaction per page — a
batch commits whole or not at all, and a page whose batch was lost is
fetched and stored again by the next run — and much cheaper in commits.
"""
from __future__ import annotations

import collections
import gc
import itertools
import logging
import multiprocessing
import os
import queue
import signal
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, Iterator

from crawler import FetchResult
from crawler.child import die_with, name_process

from storage.db import make_engine, session_factory

from .config import Config

log = logging.getLogger(__name__)
Job = tuple[FetchResult, Any]  # a fetch, and its extractors.Reading (or None)
BATCH = 64
CHUNK = 16  # fetches a reader takes at a time (see _Reading)
POLL_SECONDS = 1.0


class WriterFailed(Exception):
    """The writer process stopped; the message says why."""


@dataclass
class WriterReport:
    counts: dict[str, Any] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    quiet: dict[str, tuple[datetime, int | None]] = field(default_factory=dict)
    error: str | None = None


READERS = max(1, os.cpu_count() or 1)
_config_for_readers: Config | None = None


def _read_jobs(jobs: list[tuple[FetchResult, bool]]) -> list[Any]:
    """In a reader process: parse the bodies that changed (pure CPU, no database); only readings go back."""
    from .stages import read_fetch

    return [read_fetch(_config_for_readers, result) if wanted else None for result, wanted in jobs]


class _Reading:
    """Fetches read by the pool, in crawl order, as (fetch, reading) jobs.

    Fetches go to the readers ``CHUNK`` at a time and only the readings come
    back (the fetch waits here): with one pool message per page in each
    direction, the pool's own threads cost the writer a quarter of its CPU
    (writer CPU / crawl CPU 1.03–1.18 with one page a task, 0.72–0.81 with 16).
    """

    def __init__(self, readers: Any, incoming: Iterator[tuple[FetchResult, bool]]) -> None:
        self.sent: collections.deque[FetchResult] = collections.deque()
        self.ready: collections.deque[Any] = collections.deque()
        self.readings = readers.imap(_read_jobs, self._chunks(incoming))

    def _chunks(self, incoming: Iterator[tuple[FetchResult, bool]]) -> Iterator[list[tuple[FetchResult, bool]]]:
        while chunk := list(itertools.islice(incoming, CHUNK)):
            self.sent.extend(result for result, _ in chunk)  # before the pool sees them: no reading comes first
            yield chunk

    def next(self, timeout: float) -> Job:
        """The next (fetch, reading); multiprocessing.TimeoutError while none is ready, StopIteration at the end."""
        if not self.ready:
            self.ready.extend(self.readings.next(timeout=timeout))
        return self.sent.popleft(), self.ready.popleft()


def _incoming(jobs: multiprocessing.Queue[Any], parent: int) -> Iterator[tuple[FetchResult, bool]]:
    """Fetches from the crawl until its sentinel; stops early when the parent is gone (it was killed)."""
    while True:
        try:
            item = jobs.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:
                return
            continue
        if item is None:
            return
        yield item


def writer_main(config: Config, run_id: int, started_at: datetime, jobs: multiprocessing.Queue[Any],
                results: Connection, parent: int, eager: bool = False) -> None:
    """Read changed pages in a pool of reader processes and store them, in order, in batches.

    ``eager``: some source has never been read, so pages will come — the
    readers are started (and the grammar compiled) at once, while the crawl's
    process is still importing Scrapy, not when the first page arrives: that
    took the first run's readers 0.6 s longer to start.
    """
    global _config_for_readers
    from .stages import Pipeline  # the stages import this module

    die_with(parent)
    name_process("yibao-writer")
    # a Ctrl-C reaches the whole process group: the run's process stops the crawl, and this one still stores
    # what was fetched (its readers inherit this)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _config_for_readers = config
    engine = make_engine(config.database.url)
    pipe = Pipeline(config, session_factory(engine), run_id)
    pipe.started_at = started_at
    report = WriterReport()
    readers = None
    try:
        incoming = _incoming(jobs, parent)
        first = None if eager else next(incoming, None)  # a rerun may find nothing changed: no readers then
        if first is not None:
            incoming = itertools.chain([first], incoming)
        if eager or first is not None:
            readers = _start_readers()
            done = _store_all(pipe, _Reading(readers, incoming), report, parent)
        else:
            done = os.getppid() == parent
        if not done:
            return
        c = pipe.counts
        report.counts = {"changed_pages": c.changed_pages, "unchanged_pages": c.unchanged_pages,
                         "extracted": c.extracted, "notified": c.notified}
        report.events = dict(c.events)
        report.quiet = pipe.quiet_fetches
        results.send(report)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        log.exception("the writer failed")
        results.send(WriterReport(error=f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from exc
    finally:
        if readers is not None:
            readers.terminate()
        engine.dispose()


def _start_readers() -> Any:
    from extractors.extract import warm_up

    warm_up()  # before forking, so every reader starts warm
    # what exists now lives as long as the run: out of the collector's sight, full collections neither walk it
    # (37 ms each in a reader) nor touch its pages, which the readers then share instead of copying
    gc.freeze()
    return multiprocessing.get_context("fork").Pool(READERS, _reader_started, (os.getpid(),))


def _reader_started(writer: int) -> None:
    die_with(writer)
    name_process("yibao-reader")


def _store_all(pipe: Any, read: _Reading, report: WriterReport, parent: int) -> bool:
    """Store read fetches in batches: a full batch, or whatever arrived when the flow pauses."""
    batch: list[Job] = []
    while True:
        try:
            batch.append(read.next(timeout=0.05))
            if len(batch) < BATCH:
                continue
        except multiprocessing.TimeoutError:
            if not batch:
                continue
        except StopIteration:
            if batch:
                report.blocked.update(pipe.store_batch(batch))
            return os.getppid() == parent  # False: the run's process is gone, nobody to report to
        report.blocked.update(pipe.store_batch(batch))  # only once their batch committed
        batch = []


class Writer:
    """The parent's handle: feed it fetches, then collect what it did."""

    def __init__(self, config: Config, run_id: int, started_at: datetime, eager: bool = False) -> None:
        ctx = multiprocessing.get_context("fork")
        self.jobs: multiprocessing.Queue[Any] = ctx.Queue(maxsize=4 * BATCH)
        self._receive, send = ctx.Pipe(duplex=False)
        # not a daemon: it starts reader processes of its own; it exits when the run's process is gone
        self.process = ctx.Process(target=writer_main, name="yibao-writer", daemon=False,
                                   args=(config, run_id, started_at, self.jobs, send, os.getpid(), eager))
        self.process.start()
        send.close()

    def put(self, result: tuple[FetchResult, bool] | None) -> None:
        while True:
            if not self.process.is_alive():
                raise WriterFailed(self._failure())
            try:
                self.jobs.put(result, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _failure(self) -> str:
        if self._receive.poll(0):
            report: WriterReport = self._receive.recv()
            return f"the writer failed: {report.error}"
        return f"the writer process stopped (exit code {self.process.exitcode})"

    def finish(self) -> WriterReport:
        self.put(None)
        while not self._receive.poll(POLL_SECONDS):
            if not self.process.is_alive():
                raise WriterFailed(self._failure())
        report: WriterReport = self._receive.recv()
        self.process.join(timeout=30)
        if report.error:
            raise WriterFailed(f"the writer failed: {report.error}")
        return report

    def abandon(self) -> None:
        """The crawl failed: stop the writer; what it committed stays, the rest is redone next run."""
        # fetches still buffered for a writer that will never read them must not hold this process at exit
        self.jobs.cancel_join_thread()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)


