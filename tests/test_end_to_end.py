"""The walking skeleton, end to end: real HTTP site, real SQLite file, real webhook receiver.

Run 1 on v1 of the demo site is the baseline (no alerts); run 2 on v2 must
report exactly the figure edits listed in expected_changes.yaml and nothing
for the wording-only edits.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from sqlalchemy import select

from extractors.keys import qualifier_key
from pipeline.demo import SECRET_ENV, demo_config, manifest, site_root
from storage.db import make_engine, session_factory
from storage.models import ChangeEvent, Delivery

from .conftest import rows_in, yibao


def _events(db: Path) -> list[ChangeEvent]:
    return rows_in(db, ChangeEvent)


def _same_qualifier(metric: str, expected: str | None, actual: str | None) -> bool:
    want, got = qualifier_key(metric, expected), qualifier_key(metric, actual)
    return want == got or (bool(want) and want in got)


def _matches(exp: dict, ev: ChangeEvent) -> bool:
    return (ev.kind == exp["kind"] and ev.region == exp["region"] and (ev.scheme or None) == exp["scheme"]
            and ev.metric == exp["metric"] and ev.year == exp["year"]
            and _same_qualifier(ev.metric, exp["qualifier"], ev.qualifier)
            and (json.loads(ev.old_value) if ev.old_value else None) == exp["old"]
            and (json.loads(ev.new_value) if ev.new_value else None) == exp["new"])


def test_demo_site_two_runs_report_exactly_the_figure_edits(tmp_path, demo_site, receiver):
    db = tmp_path / "e2e.db"
    config = tmp_path / "yibao.toml"
    alerts_file = tmp_path / "alerts.jsonl"
    config.write_text(demo_config(demo_site.base, db, receiver.url, alerts_file, manifest()), encoding="utf-8")
    env = {SECRET_ENV: "test-secret"}

    first = yibao("--config", str(config), "run", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "", "a baseline run with nothing changed or failed must be silent for cron"
    assert _events(db) == []
    assert receiver.attempts == []

    demo_site.version = "v2"
    second = yibao("--config", str(config), "run", env=env)
    assert second.returncode == 0, second.stderr

    expected = yaml.safe_load((site_root() / "expected_changes.yaml").read_text("utf-8"))
    events = [e for e in _events(db) if e.notify]
    unmatched = [e for e in expected if not any(_matches(e, ev) for ev in events)]
    extra = [(ev.kind, ev.region, ev.metric, ev.qualifier, ev.old_value, ev.new_value) for ev in events
             if not any(_matches(e, ev) for e in expected)]
    assert unmatched == [] and extra == [], f"missing: {unmatched}\nunexpected: {extra}"
    assert len(events) == len(expected)

    # one signed POST for the run, carrying every event once
    assert len(receiver.posts) == 1 and all(a["signature_ok"] for a in receiver.attempts)
    body = receiver.posts[0]["body"]
    assert body["run_id"] == 2
    assert sorted(c["event_id"] for c in body["changes"]) == sorted(e.uid for e in events)
    keys = {"event_id", "kind", "region", "province", "scheme", "metric", "qualifier", "year", "old", "new", "unit",
            "source_url", "evidence", "detected_at"}
    assert all(set(c) == keys for c in body["changes"])
    # the file channel got the same notice
    lines = [json.loads(line) for line in alerts_file.read_text("utf-8").splitlines()]
    assert len(lines) == 1 and len(lines[0]["changes"]) == len(events)

    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as s:
        statuses = {d.status for d in s.scalars(select(Delivery))}
    engine.dispose()
    assert statuses == {"sent"}

    # a third run with nothing changed: no events, no deliveries, silent
    third = yibao("--config", str(config), "run", env=env)
    assert third.returncode == 0 and third.stdout == ""
    assert len([e for e in _events(db) if e.notify]) == len(expected)
    assert len(receiver.posts) == 1


def test_export_writes_csv_with_bom(tmp_path, demo_site, receiver):
    db = tmp_path / "x.db"
    config = tmp_path / "yibao.toml"
    config.write_text(demo_config(demo_site.base, db, receiver.url, tmp_path / "a.jsonl", manifest()), "utf-8")
    assert yibao("--config", str(config), "run", env={SECRET_ENV: "s"}).returncode == 0
    out = tmp_path / "current.csv"
    done = yibao("--config", str(config), "export", "--what", "current", "-o", str(out))
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("region,province,scheme,metric,qualifier,year,value,unit")
    assert "潍坊市" in text and "淄博市" in text and "洛阳市" in text


def test_a_run_with_a_failed_source_exits_1_and_says_so_on_stdout(tmp_path, demo_site, receiver):
    """The console script's exit (no heap teardown after a run) keeps the status and flushes the summary."""
    db = tmp_path / "f.db"
    config = tmp_path / "yibao.toml"
    text = demo_config(demo_site.base, db, receiver.url, tmp_path / "a.jsonl", manifest())
    text += (f'\n[[source]]\nid = "gone"\nurl = "{demo_site.base}/no-such-page.html"\n'
             'region = "潍坊市"\nprovince = "山东省"\nkind = "page"\n')
    config.write_text(text, "utf-8")
    done = yibao("--config", str(config), "run", env={SECRET_ENV: "s"})
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("run 1:") and "failed" in done.stdout and done.stdout.endswith("\n")
