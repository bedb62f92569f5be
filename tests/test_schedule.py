"""`yibao schedule`: jobs per cron expression, kept in the database, one run at a time, a child per tick.

Real parts only: the demo site on 127.0.0.1, a SQLite file, APScheduler's
SQLAlchemy job store in it, `yibao run` as a child process, SIGTERM to a
real daemon process.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_MISSED
from click.testing import CliRunner
from sqlalchemy import func, select, text

from pipeline.cli import main
from pipeline.config import ConfigError, load_config, parse_config
from pipeline.daemon import JOB_PREFIX, JOBSTORE_TABLE, Daemon, plan
from storage.db import ensure_schema, make_engine, session_factory
from storage.lock import RunLock
from storage.models import Fetch, Run

from .conftest import ROOT, rows_in

PAGE = "/wf/shebao/flexible-2025.html"
CRON = "30 7 * * *"


def write_config(tmp_path: Path, base: str, *, path: str = PAGE, grace: int = 600, cron: str = CRON,
                 extra_sources: str = "", db_url: str | None = None) -> Path:
    config = tmp_path / "yibao.toml"
    config.write_text(f"""
[database]
url = "{db_url or f'sqlite:///{tmp_path / "yibao.db"}'}"

[crawl]
download_delay = 0
autothrottle = false
download_timeout = 10
retries = 0

[schedule]
cron = "{cron}"
misfire_grace_seconds = {grace}
shutdown_grace_seconds = 20

[[source]]
id = "wf"
url = "{base}{path}"
region = "潍坊市"
province = "山东省"
{extra_sources}
""", encoding="utf-8")
    return config


def stored_jobs(db_url: str) -> dict[str, float | None]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE}")).all()
    engine.dispose()
    return {job_id: next_run for job_id, next_run in rows}


def fetches(db: Path) -> list[Fetch]:
    return rows_in(db, Fetch)


def persist_missed_tick(config_path: Path, ago: timedelta) -> None:
    """What a daemon that was down at its tick leaves in the job store: a next run time in the past."""
    daemon = Daemon(load_config(config_path))
    daemon.open()
    daemon.scheduler.modify_job(JOB_PREFIX + CRON, next_run_time=datetime.now(timezone.utc) - ago)
    daemon.stop()


# ---------------------------------------------------------------------------------------------- the plan


def test_one_job_per_cron_expression_with_its_sources():
    config = parse_config({"source": [
        {"id": "a", "url": "http://a.example/"},
        {"id": "b", "url": "http://b.example/", "schedule": "0 9 * * 1"},
        {"id": "c", "url": "http://c.example/"},
    ]})
    jobs = {p.cron: p.source_ids for p in plan(config)}
    assert jobs == {CRON: ("a", "c"), "0 9 * * 1": ("b",)}, "sources sharing a time share one run"


def test_a_bad_cron_expression_or_zone_fails_at_load(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nid = "a"\nurl = "http://a.example/"\nschedule = "daily at 7"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.toml: \[\[source\]\] #1 \(id = \"a\"\) key 'schedule': "
                                          r"'daily at 7' is not a cron expression"):
        load_config(bad)
    bad.write_text('[schedule]\ntimezone = "Beijing"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown time zone 'Beijing'; use an IANA name"):
        load_config(bad)


def test_schedule_list_prints_each_job_and_its_next_run(tmp_path):
    config = write_config(tmp_path, "http://127.0.0.1:9",
                          extra_sources='[[source]]\nid = "weekly"\nurl = "http://x.example/"\nschedule = "0 9 * * 1"\n')
    done = CliRunner().invoke(main, ["--config", str(config), "schedule", "--list"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{CRON}\tAsia/Shanghai\tnext ") and lines[0].endswith("\twf")
    assert "T07:30:00+08:00" in lines[0] and lines[1].endswith("\tweekly")


# ---------------------------------------------------------------------------------------------- the job store


def test_jobs_are_kept_in_the_database_and_survive_a_restart(tmp_path, db_url):
    """SQLite and PostgreSQL: the job store is a table in the run database."""
    config_path = write_config(tmp_path, "http://127.0.0.1:9", db_url=db_url)
    first = Daemon(load_config(config_path))
    first.start()
    first.stop()
    jobs = stored_jobs(db_url)
    assert list(jobs) == [JOB_PREFIX + CRON]
    # a restart with the same config keeps the stored next run time (so a missed tick is not forgotten)
    persist_missed_tick(config_path, timedelta(minutes=5))
    missed = stored_jobs(db_url)[JOB_PREFIX + CRON]
    again = Daemon(load_config(config_path))
    again.open()
    again.stop()
    assert stored_jobs(db_url)[JOB_PREFIX + CRON] == missed
    # a changed schedule replaces the job; a cron expression no source uses any more is dropped
    write_config(tmp_path, "http://127.0.0.1:9", cron="0 8 * * *", db_url=db_url)
    changed = Daemon(load_config(config_path))
    changed.start()
    changed.stop()
    assert list(stored_jobs(db_url)) == [JOB_PREFIX + "0 8 * * *"]


# ---------------------------------------------------------------------------------------------- ticks


def test_a_tick_finding_a_run_in_progress_logs_and_skips(tmp_path, caplog):
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9"))
    daemon = Daemon(config)
    ensure_schema(daemon.engine)
    caplog.set_level(logging.INFO, logger="pipeline.daemon")
    with RunLock(make_engine(config.database.url)):
        assert daemon.tick(["wf"]) == "skipped"
    assert any("tick for wf skipped: another `yibao run`" in r.getMessage() for r in caplog.records)
    assert fetches(tmp_path / "yibao.db") == []
    daemon.engine.dispose()


def test_a_tick_runs_yibao_run_in_a_child_process(tmp_path, demo_site, caplog):
    config = load_config(write_config(tmp_path, demo_site.base))
    daemon = Daemon(config)
    caplog.set_level(logging.INFO, logger="pipeline.daemon")
    assert daemon.tick(["wf"]) == "exit 0"
    rows = fetches(tmp_path / "yibao.db")
    assert [(f.source_id, f.outcome, f.status) for f in rows] == [("wf", "new", 200)]
    assert any("tick for wf: run 1:" in r.getMessage() for r in caplog.records), "the child's -v summary is logged"
    # the tick runs `yibao run --due`: the source was fetched after the last 07:30, so it is not due again
    assert daemon.tick(["wf"]) == "exit 0"
    assert len(fetches(tmp_path / "yibao.db")) == 1
    daemon.engine.dispose()


def test_a_tick_missed_by_more_than_the_grace_does_not_run(tmp_path, demo_site):
    config_path = write_config(tmp_path, demo_site.base, grace=5)
    persist_missed_tick(config_path, timedelta(minutes=2))
    daemon = Daemon(load_config(config_path))
    missed = threading.Event()
    daemon.scheduler.add_listener(lambda event: missed.set(), EVENT_JOB_MISSED)
    daemon.start()
    try:
        assert missed.wait(10), "APScheduler reports the tick as missed"
    finally:
        daemon.stop()
    assert fetches(tmp_path / "yibao.db") == []
    assert demo_site.requests == []


def test_the_daemon_runs_a_missed_tick_on_restart_and_stops_cleanly_on_sigterm(tmp_path, demo_site):
    """Missed within the grace → it runs at start; SIGTERM mid-run → the child is stopped, the daemon exits 0."""
    reached = threading.Event()

    def slow(h: Any) -> bool:
        if h.path != "/slow.html":
            return False
        reached.set()
        time.sleep(2)
        demo_site._send(h, 200, "<html><body>医保缴费基数上限为22080元</body></html>".encode(),
                        "text/html; charset=utf-8", None, None)
        return True

    demo_site.routes.append(slow)
    config_path = write_config(tmp_path, demo_site.base, path="/slow.html")
    persist_missed_tick(config_path, timedelta(minutes=5))
    started = time.monotonic()
    daemon = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--config", str(config_path), "schedule"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
    try:
        assert reached.wait(30), "the missed tick ran: its child fetched the page"
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    for said in ("tick for wf: yibao run pid", "received SIGTERM: shutting down", "stopping run pid",
                 "scheduler stopped"):
        assert said in err, err
    assert time.monotonic() - started < 30
    engine = make_engine(f"sqlite:///{tmp_path / 'yibao.db'}")
    with session_factory(engine)() as s:
        runs = list(s.scalars(select(Run)))
        assert len(runs) == 1 and runs[0].finished_at is not None, "the child finished its run before exiting"
        assert s.scalar(select(func.count()).select_from(Fetch)) <= 1
    engine.dispose()
    assert _lock_free(engine), "the run lock was released"


def _lock_free(engine: Any) -> bool:
    lock = RunLock(engine)
    lock.acquire()
    lock.release()
    return True


def test_the_example_sources_load_and_cover_ten_cities():
    config = load_config(ROOT / "sources.example.toml")
    municipalities = ("北京市", "天津市", "上海市", "重庆市")
    cities = {s.region for s in config.source if s.region and (s.region != s.province or s.region in municipalities)}
    assert len(cities) >= 10, sorted(cities)
    text = (ROOT / "sources.example.toml").read_text("utf-8")
    blocks = text.split("\n[[source]]\n")[1:]
    assert len(blocks) == len(config.source)
    assert all("unchecked" in block.split("\nid = ")[0] for block in blocks), "each URL says it was not checked"
    assert {p.cron for p in plan(config)} == {CRON, "0 8 * * 1"}
