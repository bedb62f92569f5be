"""`yibao schedule`: the daemon. APScheduler fires; each tick is a `yibao run` in a child process.

* **Jobs** — one per distinct cron expression (a source's ``schedule``, else
  ``[schedule] cron``), running every source on it in one run, so sources
  that share a time share one run and one digest.
* **Persisted** — in the run database (APScheduler's SQLAlchemyJobStore, table
  ``yibao_scheduler_jobs``), so a tick missed while the daemon was down runs
  when it comes back, once (coalesced), if it is no later than
  ``misfire_grace_seconds``. The config file is the truth about which jobs
  exist: at start, jobs it no longer names are dropped and changed ones
  replaced; unchanged ones keep their stored next run time. One daemon per
  database.
* **One run at a time** — ticks queue on a single worker; a tick that finds
  the run lock held (cron, a user at a terminal) logs and skips.
* **A child process per tick** — Scrapy's reactor cannot restart. The child is
  ``yibao run --due -v --source …``: ``--due`` makes a catch-up tick after a
  manual run a no-op.
* **SIGTERM / SIGINT** — no new ticks; a running child gets SIGTERM and
  ``shutdown_grace_seconds`` to finish (each fetch and each snapshot is its
  own transaction, so a kill loses no half-written state), then SIGKILL; exit 0.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from storage.db import ensure_schema, make_engine
from storage.lock import LockHeld, RunLock

from .config import Config

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "yibao_scheduler_jobs"
JOB_PREFIX = "yibao-run:"
TICK_REF = "pipeline.daemon:tick"

_current: Daemon | None = None  # the daemon of this process; persisted jobs name `tick`, not an object


@dataclass(frozen=True)
class PlannedJob:
    job_id: str
    cron: str
    source_ids: tuple[str, ...]


def plan(config: Config) -> list[PlannedJob]:
    """One job per distinct cron expression, with its sources in config order."""
    groups: dict[str, list[str]] = {}
    for src in config.source:
        groups.setdefault(src.schedule or config.schedule.cron, []).append(src.id)
    return [PlannedJob(JOB_PREFIX + cron, cron, tuple(ids)) for cron, ids in groups.items()]


def trigger(config: Config, cron: str) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(config.schedule.timezone))


def tick(*source_ids: str) -> str:
    """The job target APScheduler stores by name: run the sources through this process's daemon."""
    if _current is None:
        log.error("tick for %s: no daemon in this process", ", ".join(source_ids))
        return "no daemon"
    return _current.tick(list(source_ids))


class Daemon:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.engine = make_engine(config.database.url)
        self.stopping = threading.Event()
        self._child: subprocess.Popen[str] | None = None
        self._child_lock = threading.Lock()
        sched = config.schedule
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=JOBSTORE_TABLE)},
            executors={"default": ThreadPoolExecutor(1)},  # ticks queue: one run at a time
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": sched.misfire_grace_seconds},
            timezone=ZoneInfo(sched.timezone),
        )

    # ------------------------------------------------------------------ jobs

    def open(self) -> None:
        """Open the job store and make its jobs match the config; no tick fires yet."""
        ensure_schema(self.engine, self.config.database.auto_upgrade)
        self.scheduler.start(paused=True)
        self.reconcile()

    def start(self) -> None:
        """Open, then let ticks fire (missed ones first)."""
        global _current
        self.open()
        _current = self
        self.scheduler.resume()
        for job in self.scheduler.get_jobs():
            log.info("job %s (%s): next run %s", job.id, ", ".join(job.args), job.next_run_time)

    def reconcile(self) -> None:
        wanted = {p.job_id: p for p in plan(self.config)}
        grace = self.config.schedule.misfire_grace_seconds
        for job in self.scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                log.info("job %s: no longer configured, removed", job.id)
                job.remove()
        for p in wanted.values():
            trig = trigger(self.config, p.cron)
            job = self.scheduler.get_job(p.job_id)
            if job is not None and repr(job.trigger) == repr(trig) and tuple(job.args) == p.source_ids \
                    and job.misfire_grace_time == grace:
                continue  # unchanged: keep its stored next run time, so a missed tick still runs
            self.scheduler.add_job(TICK_REF, trig, args=list(p.source_ids), id=p.job_id, name=p.cron,
                                   replace_existing=True, misfire_grace_time=grace, coalesce=True, max_instances=1)

    # ------------------------------------------------------------------ ticks

    def command(self, source_ids: list[str]) -> list[str]:
        cmd = [sys.executable, "-m", "pipeline.cli"]
        if self.config.path is not None:
            cmd += ["--config", str(Path(self.config.path).resolve())]
        cmd += ["run", "--due", "-v"]
        for sid in source_ids:
            cmd += ["--source", sid]
        return cmd

    def lock_held(self) -> str | None:
        """Why a run cannot start now (another holds the run lock), or None."""
        lock = RunLock(self.engine)
        try:
            lock.acquire()
        except LockHeld as exc:
            return str(exc)
        lock.release()
        return None

    def tick(self, source_ids: list[str]) -> str:
        """Run `yibao run` for these sources in a child process; "skipped", "stopping" or "exit N"."""
        names = ", ".join(source_ids)
        held = self.lock_held()
        if held:
            log.warning("tick for %s skipped: %s", names, held)
            return "skipped"
        with self._child_lock:  # stop() sets `stopping` before it looks for a child: no child escapes it
            if self.stopping.is_set():
                return "stopping"
            child = subprocess.Popen(self.command(source_ids), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)  # our signals reach it, not the terminal's
            self._child = child
        log.info("tick for %s: yibao run pid %s", names, child.pid)
        try:
            out, err = child.communicate(timeout=self.config.schedule.max_run_seconds)
        except subprocess.TimeoutExpired:
            log.error("tick for %s: run pid %s took longer than %s s; stopping it", names, child.pid,
                      self.config.schedule.max_run_seconds)
            self._end(child)
            out, err = child.communicate()
        finally:
            with self._child_lock:
                self._child = None
        self._report(names, child.returncode, out, err)
        return f"exit {child.returncode}"

    @staticmethod
    def _report(names: str, code: int, out: str, err: str) -> None:
        text = " | ".join(line for line in (out + err).splitlines() if line.strip()) or "no output"
        if code == 0:
            log.info("tick for %s: %s", names, text)
        elif code == 1:
            log.warning("tick for %s: some sources failed: %s", names, text)
        elif "another `yibao run`" in err:
            log.warning("tick for %s skipped: %s", names, text)  # lost the race for the lock
        else:
            log.error("tick for %s: the run failed (exit %s): %s", names, code, text)

    def _end(self, child: subprocess.Popen[str]) -> None:
        """SIGTERM (Scrapy stops its crawl gracefully, the run finishes its stages), then SIGKILL."""
        if child.poll() is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=self.config.schedule.shutdown_grace_seconds)
        except subprocess.TimeoutExpired:
            log.error("run pid %s did not stop within %s s; killing it", child.pid,
                      self.config.schedule.shutdown_grace_seconds)
            child.kill()
            child.wait()

    # ------------------------------------------------------------------ lifetime

    def stop(self) -> None:
        """No new ticks; end a running child; wait for the worker; close the job store."""
        global _current
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()
        with self._child_lock:
            child = self._child
        if child is not None:
            log.info("stopping run pid %s", child.pid)
            self._end(child)
        if self.scheduler.running:
            # APScheduler looks for due jobs once more after shutdown() sets it stopped; with no
            # job store attached that look finds nothing, so it cannot spend a missed tick.
            self.scheduler.remove_jobstore("default")
            self.scheduler.shutdown(wait=True)
        self.engine.dispose()
        if _current is self:
            _current = None

    def serve(self) -> int:
        """Run until SIGTERM or SIGINT; 0 after a clean shutdown."""
        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("received %s: shutting down", signal.Signals(signum).name)
            self.stopping.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            log.info("scheduler started: %d job(s), times in %s", len(self.scheduler.get_jobs()),
                     self.config.schedule.timezone)
            while not self.stopping.wait(1.0):
                pass
        finally:
            self.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)
        log.info("scheduler stopped")
        return 0


def describe(config: Config, now: datetime | None = None) -> list[str]:
    """The planned jobs with their next fire time: what `yibao schedule --list` prints."""
    now = now or datetime.now(timezone.utc)
    lines = []
    for p in plan(config):
        nxt: Any = trigger(config, p.cron).get_next_fire_time(None, now)
        lines.append(f"{p.cron}\t{config.schedule.timezone}\tnext {nxt.isoformat() if nxt else '-'}\t"
                     f"{', '.join(p.source_ids)}")
    return lines
