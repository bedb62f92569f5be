"""One crawl in a child process, forked before the pipeline opens its database.

``yibao run`` spends its first second importing: SQLAlchemy and the
pipeline (~0.3 s) to take the run lock and read what it knows, then Scrapy
and Twisted (~0.45 s) to crawl. In one process those come one after the
other while the second core waits. Forked first, the child imports Scrapy
while the parent opens the database, then receives the job (sources,
validators, settings) over a pipe and sends back every
:class:`~crawler.model.FetchResult` — the caller's callback still runs in
the caller's process, so the crawl never touches the database.

The child is its own process group, so a Ctrl-C or SIGTERM reaches the
parent only; the parent forwards it once, and Scrapy stops gracefully (a
second one forces it, as Scrapy does). It dies with its parent
(``PR_SET_PDEATHSIG``): a SIGKILLed run leaves no crawl behind.
"""
from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from types import FrameType, TracebackType
from typing import Any, Callable

from .model import CrawlSource, FetchResult, Validators
from .runner import CrawlOutcome

log = logging.getLogger(__name__)


class CrawlProcessFailed(Exception):
    """The crawl's process stopped before it reported the end of its crawl."""


def die_with(parent: int) -> None:
    """Be killed when ``parent`` dies, not a poll later: a forked child may share the run lock.

    The run lock (``flock``, or PostgreSQL's session on an inherited socket) is
    held until every process sharing it is gone, so a child that outlived a
    SIGKILLed run by a second would make the next run find the lock taken.
    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere the children notice by polling.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def name_process(name: str) -> None:
    """Name this process in ``ps``/``top`` (and for the benchmark's per-process CPU): yibao-crawl, yibao-writer…

    Linux only (``prctl(PR_SET_NAME)``, 15 bytes at most); elsewhere nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(15, name.encode()[:15], 0, 0, 0)  # 15 = PR_SET_NAME
    except (OSError, AttributeError):
        pass


@dataclass
class _Job:
    sources: list[CrawlSource]
    validators: Mapping[str, Validators]
    settings: dict[str, Any] | None
    known_urls: Mapping[str, Sequence[str]] | None


@dataclass
class _Done:
    outcome: CrawlOutcome


@dataclass
class _Failed:
    """crawl() raised in the child (a setting Scrapy rejects, a bug): the parent raises the same error."""

    error: BaseException


def _serve(conn: Connection, parent: int) -> None:
    """The child: import Scrapy now, crawl when the job comes, send each fetch back."""
    die_with(parent)
    name_process("yibao-crawl")
    os.setpgid(0, 0)
    if hasattr(signal, "SIGTTOU"):  # a background group writing to a terminal with `stty tostop` is stopped
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    from .runner import crawl, preload

    preload()
    gc.freeze()  # Scrapy's modules live as long as the process: no full collection needs to walk them
    try:
        job = conn.recv()
    except EOFError:  # the run ended before it crawled (nothing due, the lock taken, a bad config)
        return
    try:
        outcome = crawl(job.sources, job.validators, conn.send, job.settings, job.known_urls)
    except Exception as exc:  # noqa: BLE001 - told to the parent, which fails the run with it
        _send_failure(conn, exc)
        return
    if outcome.callback_error is not None:  # the parent is gone or stopped listening: nobody to tell
        return
    conn.send(_Done(replace(outcome, callback_error=None)))


def _send_failure(conn: Connection, exc: Exception) -> None:
    try:
        conn.send(_Failed(exc))
    except Exception:  # noqa: BLE001 - an exception that does not pickle goes as its text
        conn.send(_Failed(RuntimeError(f"{type(exc).__name__}: {exc}")))


class CrawlChild:
    """The parent's handle: ``with CrawlChild() as child: … child.crawl(…)``; one crawl per child."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, theirs = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, name="yibao-crawl", args=(theirs, os.getpid()), daemon=True)
        self.process.start()
        theirs.close()
        assert self.process.pid is not None
        self.pid: int = self.process.pid
        self._used = False

    def __enter__(self) -> CrawlChild:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def crawl(self, sources: list[CrawlSource], validators: Mapping[str, Validators],
              on_result: Callable[[FetchResult], None], settings: dict[str, Any] | None = None,
              known_urls: Mapping[str, Sequence[str]] | None = None) -> CrawlOutcome:
        """:func:`crawler.crawl` in the child; ``on_result`` runs here, for each fetch, in order.

        When ``on_result`` raises, the child is killed at once (it holds
        nothing worth a graceful stop) and the error is returned as
        ``callback_error``, as :func:`crawler.crawl` does.
        """
        if self._used:
            raise RuntimeError("a CrawlChild crawls once (Scrapy's reactor cannot restart)")
        self._used = True
        self._conn.send(_Job(sources, dict(validators), settings, dict(known_urls or {})))
        forwarded = _forward_signals(self.pid)
        try:
            return self._receive(on_result)
        finally:
            forwarded()

    def _receive(self, on_result: Callable[[FetchResult], None]) -> CrawlOutcome:
        results = 0
        while True:
            try:
                message = self._conn.recv()
            except EOFError:
                self.process.join(timeout=5)
                raise CrawlProcessFailed(f"the crawl process stopped (exit code {self.process.exitcode}) after "
                                         f"{results} fetches; the sources it did not reach are retried next run"
                                         ) from None
            if isinstance(message, _Done):
                self.process.join(timeout=30)
                return message.outcome
            if isinstance(message, _Failed):
                self.process.join(timeout=30)
                raise message.error
            try:
                on_result(message)
                results += 1
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller, as crawler.crawl does
                self.close()
                return CrawlOutcome(results=results, callback_error=exc, close_reason="callback_error")

    def close(self) -> None:
        """Stop the child if it still runs: it holds no state, so a kill loses nothing."""
        self._conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)


def _forward_signals(pid: int) -> Callable[[], None]:
    """While the child crawls, SIGTERM and SIGINT here become a SIGTERM there; returns the undo."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signal handlers can only be set there; the caller's own handling stays

    def forward(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping the crawl", signal.Signals(signum).name)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}

    def undo() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    return undo

