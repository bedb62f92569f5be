"""The versioned store and the change rules, on SQLite and PostgreSQL (issue 5)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text, update

from extractors.keys import qualifier_key
from storage.db import SchemaOutOfDate, current_revision, ensure_schema, head_revision, make_engine, upgrade
from storage.models import Base, ChangeEvent, FactVersion, Snapshot, Statement

from .conftest import yibao
from .harness import World, page

WF = {"id": "wf", "url": "http://wf.example/a.html", "region": "潍坊市", "province": "山东省"}
WF2 = {"id": "wf-bureau", "url": "http://ybj.wf.example/b.html", "region": "潍坊市", "province": "山东省"}


def flex(base_max: int = 21207, ltc: int = 4, rate_words: str = "无个人账户、带生育", year: int = 2025,
         extra: str = "") -> str:
    return page(
        f"{year}潍坊灵活就业医保缴费标准",
        f"{year}年度灵活就业人员缴费基数最低档4416元、社会平均工资档7360元、最高档{base_max}元。",
        f"医疗险费率：6%（无个人账户、无生育）或7%（{rate_words}）。",
        f"长期护理保险每月{ltc}元，大额医疗保险每年150元。",
        extra,
    )


def summary(events: list[ChangeEvent]) -> list[tuple]:
    return sorted((e.kind, e.metric, e.year, json.loads(e.old_value) if e.old_value else None,
                   json.loads(e.new_value) if e.new_value else None, e.notify) for e in events)


@pytest.fixture
def world(db_url):
    worlds: list[World] = []

    def make(sources=(WF,), **kw):
        w = World(db_url, list(sources), **kw)
        worlds.append(w)
        return w

    yield make
    for w in worlds:
        w.close()


# --------------------------------------------------------------------------- migrations


def test_models_and_migrations_do_not_drift(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_the_revision_runs_check_is_alembics_head(sqlite_url):
    from storage.db import SCHEMA_REVISION

    assert head_revision(make_engine(sqlite_url)) == SCHEMA_REVISION


def test_out_of_date_database_is_refused_or_upgraded(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with pytest.raises(SchemaOutOfDate, match="yibao db upgrade"):
        ensure_schema(engine, auto_upgrade=False)
    ensure_schema(engine, auto_upgrade=True)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


def test_run_refuses_old_schema_with_the_command_to_run(tmp_path):
    db = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine, "0001")
    engine.dispose()
    cfg = tmp_path / "yibao.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{db}"\nauto_upgrade = false\n', encoding="utf-8")
    done = yibao("--config", str(cfg), "run")
    assert done.returncode == 2 and "yibao db upgrade" in done.stderr
    assert yibao("--config", str(cfg), "db", "upgrade").returncode == 0
    assert yibao("--config", str(cfg), "run").returncode == 0


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url):
    engine = make_engine(sqlite_url)
    ensure_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


# --------------------------------------------------------------------------- snapshots


def test_thirty_unchanged_runs_add_no_body_rows(world):
    w = world()
    w.run({"wf": flex()})
    bodies, snaps, versions = w.bodies(), w.snapshots(), w.count(FactVersion)
    for i in range(30):
        w.run({"wf": flex() if i % 2 else None})  # identical bodies and 304s alternate
    assert (w.bodies(), w.snapshots(), w.count(FactVersion)) == (bodies, snaps, versions)
    assert w.events() == []


def test_snapshot_records_what_the_fetch_said(world):
    w = world()
    w.run({"wf": flex()})
    with w.factory() as s:
        snap = s.scalars(select(Snapshot)).one()
    assert snap.source_id == "wf" and snap.url == WF["url"] and snap.status == 200
    assert snap.extractor_version is not None and snap.fetched_at is not None


# --------------------------------------------------------------------------- identity


def test_same_option_in_other_words_is_one_key():
    assert qualifier_key("rate", "无个人账户、带生育") == qualifier_key("rate", "不建个人账户，含生育")
    assert qualifier_key("rate", "有个人账户、无生育") == qualifier_key("rate", "建立个人账户、不含生育保险")
    assert qualifier_key("rate", "无个人账户、带生育") != qualifier_key("rate", "有个人账户、带生育")
    assert qualifier_key("surcharge", "长护") == qualifier_key("surcharge", "长期护理保险")


def test_rewording_and_boilerplate_make_no_event(world):
    w = world()
    w.run({"wf": flex()})
    reworded = page(
        "2025年潍坊市灵活就业人员医疗保险缴费指南",
        "各位参保人：2025年度灵活就业人员可选的缴费基数有三档，分别是最低档4416元、社会平均工资档7360元、最高档21207元。",
        "费率可选6%（无个人账户、无生育）或7%（不建个人账户，含生育）。",
        "另需缴纳长期护理保险每月4元；大额医疗保险每年150元。",
        "请广大参保人员相互转告。",
        footer="版权所有 潍坊市医疗保障局 联系电话 0536-9999999", sidebar="<li><a href='/x'>淄博基数4500元</a></li>",
    )
    w.run({"wf": reworded})
    assert w.events() == []


# --------------------------------------------------------------------------- change kinds


def test_first_run_is_baseline(world):
    w = world()
    w.run({"wf": flex()})
    assert w.events() == []
    assert w.count(Statement) > 5


def test_changed_carries_old_and_new(world):
    w = world()
    w.run({"wf": flex()})
    w.run({"wf": flex(base_max=22080)})
    assert summary(w.events()) == [("changed", "base_max", 2025, 21207, 22080, True)]


def test_added_is_a_new_key_in_a_baselined_source(world):
    w = world()
    w.run({"wf": flex()})
    w.run({"wf": flex(extra="灵活就业人员应于每月20日前完成当月医保缴费。")})
    assert summary(w.events()) == [("added", "deadline", None, None, "monthly:20", True)]


def test_new_period_against_previous_year_and_silent_repeat(world):
    w = world()
    w.run({"wf": page(
        "潍坊灵活就业医保缴费标准",
        "2025年度灵活就业人员缴费基数最低档4416元、社会平均工资档7360元、最高档21207元。",
        "医疗险费率：6%（无个人账户、无生育）或7%（无个人账户、带生育）。",
        "长期护理保险每月4元，大额医疗保险每年150元。")})
    both_years = page(
        "潍坊灵活就业医保缴费标准",
        "2025年度灵活就业人员缴费基数最低档4416元、社会平均工资档7360元、最高档21207元。",
        "医疗险费率：6%（无个人账户、无生育）或7%（无个人账户、带生育）。",
        "长期护理保险每月4元，大额医疗保险每年150元。",
        "2026年度灵活就业人员缴费基数最低档4416元、社会平均工资档7360元、最高档22080元。",
    )
    w.run({"wf": both_years})
    events = summary(w.events())
    assert ("new_period", "base_max", 2026, 21207, 22080, True) in events
    # every other 2026 figure repeats 2025's: recorded, not alerted
    repeats = [e for e in events if e[0] == "new_period" and e[1] != "base_max"]
    assert repeats and all(e[5] is False for e in repeats)


@pytest.mark.parametrize("n", [2, 3])
def test_removed_after_n_consecutive_successful_fetches(world, n):
    w = world(diff={"removed_after": n})
    w.run({"wf": flex(extra="灵活就业人员应于每月20日前完成当月医保缴费。")})
    w.run({"wf": flex()})  # the deadline is gone: fetch 1
    for i in range(n - 2):
        w.run({"wf": None})  # unchanged page, 304: one more successful fetch each
    assert w.events() == []
    w.run({"wf": 500})  # a failed fetch does not count
    assert w.events() == []
    w.run({"wf": None})
    assert summary(w.events()) == [("removed", "deadline", None, "monthly:20", None, True)]


def test_removed_count_resets_when_the_figure_returns(world):
    w = world(diff={"removed_after": 2})
    with_deadline = flex(extra="灵活就业人员应于每月20日前完成当月医保缴费。")
    w.run({"wf": with_deadline})
    w.run({"wf": flex()})
    w.run({"wf": with_deadline})
    w.run({"wf": flex()})
    assert w.events() == []


def test_conflict_between_sources_is_reported_once(world):
    w = world(sources=(WF, WF2))
    w.run({"wf": flex(), "wf-bureau": flex()})
    w.run({"wf": flex(), "wf-bureau": flex(ltc=5)})
    first = summary(w.events())
    assert ("changed", "surcharge", 2025, 4, 5, True) in first
    assert ("conflict", "surcharge", 2025, 4, 5, True) in first
    w.run({"wf": None, "wf-bureau": None})
    assert summary(w.events()) == first  # the same disagreement is not reported again


def test_change_reported_by_one_source_is_not_repeated_by_the_next(world):
    w = world(sources=(WF, WF2))
    w.run({"wf": flex(), "wf-bureau": flex()})
    w.run({"wf": flex(base_max=22080), "wf-bureau": flex(base_max=22080)})
    assert summary(w.events()) == [("changed", "base_max", 2025, 21207, 22080, True)]


def test_flip_back_within_window_does_not_alert_again(world):
    w = world(diff={"flip_versions": 3, "flip_window_days": 30})
    w.run({"wf": flex()})
    w.run({"wf": flex(base_max=22080)})
    w.run({"wf": flex()})  # back to 21207, seen two versions ago
    events = summary(w.events())
    assert ("changed", "base_max", 2025, 21207, 22080, True) in events
    assert ("changed", "base_max", 2025, 22080, 21207, False) in events


def test_flip_back_after_the_window_alerts(world):
    w = world(diff={"flip_versions": 3, "flip_window_days": 10})
    w.run({"wf": flex()})
    w.run({"wf": flex(base_max=22080)})
    w.run({"wf": flex()}, advance=timedelta(days=40))
    assert ("changed", "base_max", 2025, 22080, 21207, True) in summary(w.events())


# --------------------------------------------------------------------------- re-extraction


def _pretend_an_older_extractor_read_it(w: World, wrong_base_max: int) -> None:
    """What a version bump looks like in the database: snapshots read by version 0, a value it read wrong."""
    with w.factory() as s:
        s.execute(update(Snapshot).values(extractor_version=0))
        for st in s.scalars(select(Statement)):
            if json.loads(st.value) == 21207:
                st.value = json.dumps(wrong_base_max)
        s.commit()


@pytest.mark.parametrize("notify", [False, True])
def test_new_extractor_rereads_stored_pages_without_fetching(world, notify):
    w = world(diff={"notify_extractor_changes": notify})
    w.run({"wf": flex()})
    _pretend_an_older_extractor_read_it(w, 20000)
    snaps = w.snapshots()
    w.run({})  # no fetch at all: the source fails this run, its stored page is re-read
    assert w.snapshots() == snaps
    events = w.events()
    assert [(e.kind, e.cause, e.notify) for e in events] == [("changed", "extractor", notify)]
    assert json.loads(events[0].new_value) == 21207


def test_a_changed_page_costs_its_difference_not_its_size(world):
    """Version 2 of a page is stored against version 1 as the dictionary, and reads back exactly."""
    from storage import repo
    from storage.models import Body

    w = world()
    first = flex()
    w.run({"wf": first})
    w.run({"wf": flex(base_max=22080)})
    with w.factory() as s:
        bodies = sorted(s.scalars(select(Body)), key=lambda b: b.depth)
        assert [b.depth for b in bodies] == [0, 1]
        whole, delta = bodies
        assert delta.base_sha256 == whole.sha256
        assert len(delta.data) < len(whole.data) / 4
        assert whole.data[:4] == delta.data[:4] == b"\x28\xb5\x2f\xfd", "Zstandard frames"
        assert repo.body_bytes(s, delta.sha256) == flex(base_max=22080).encode("utf-8")
        assert repo.body_bytes(s, whole.sha256) == first.encode("utf-8")
