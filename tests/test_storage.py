"""Storage on SQLite and PostgreSQL: schema by Alembic, bodies once, transactions, the run lock."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from pipeline.demo import SECRET_ENV, demo_config, manifest
from storage import repo
from storage.db import current_revision, ensure_schema, head_revision, make_engine, session_factory, transaction
from storage.lock import LockHeld, RunLock
from storage.models import Body, ChangeEvent, Delivery, Snapshot, Source

from .conftest import yibao

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    ensure_schema(eng)
    yield eng
    eng.dispose()


def _fetch(body: bytes | None, run_id: int, etag: str = '"a"') -> repo.PageFetch:
    return repo.PageFetch("src", "http://x/p.html", 200 if body else 304, etag, None, "text/html", body, NOW,
                          run_id, NOW)


def test_schema_is_created_by_alembic_at_head(engine):
    assert current_revision(engine) == head_revision(engine) is not None


def test_same_body_is_stored_once_and_makes_no_new_snapshot(engine):
    factory = session_factory(engine)
    with transaction(factory) as s:
        run = repo.start_run(s, NOW).id
        repo.upsert_source(s, "src", "http://x/p.html", "page", "潍坊市", "山东省", NOW)
    for body in (b"<p>v1</p>", b"<p>v1</p>", None, b"<p>v2</p>", b"<p>v2</p>"):
        with transaction(factory) as s:
            repo.observe_page(s, _fetch(body, run))
    with transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(Body)) == 2
        assert s.scalar(select(func.count()).select_from(Snapshot)) == 2
        page = repo.get_page(s, "src", "http://x/p.html")
        assert page is not None and page.etag == '"a"'
        assert repo.body_bytes(s, page.body_sha256 or "") == b"<p>v2</p>"


def test_sync_sources_inserts_the_new_updates_the_changed_and_keeps_the_rest(engine):
    factory = session_factory(engine)
    later = datetime(2026, 2, 1, tzinfo=timezone.utc)

    def wanted(*rows: tuple[str, str, str | None]) -> list[dict[str, str | None]]:
        return [{"id": i, "url": url, "kind": "page", "region": region, "province": None} for i, url, region in rows]

    with transaction(factory) as s:
        repo.sync_sources(s, wanted(("a", "http://x/a", "潍坊市"), ("b", "http://x/b", None)), NOW)
        repo.start_run(s, NOW)
    with transaction(factory) as s:
        repo.baseline_sources_with_reads(s, NOW, 1)  # nothing read yet: nobody is baselined
        repo.sync_sources(s, wanted(("a", "http://x/a", "潍坊市"), ("b", "http://x/b2", "临沂市"),
                                    ("c", "http://x/c", None)), later)
    with transaction(factory) as s:
        rows = {r.id: r for r in s.scalars(select(Source))}
    assert sorted(rows) == ["a", "b", "c"]
    assert (rows["b"].url, rows["b"].region) == ("http://x/b2", "临沂市")
    assert rows["a"].created_at == rows["b"].created_at == NOW and rows["c"].created_at == later
    assert all(r.baseline_run_id is None for r in rows.values())


def test_a_failed_transaction_leaves_no_event_and_no_outbox_row(engine):
    factory = session_factory(engine)
    with transaction(factory) as s:
        repo.upsert_source(s, "src", "http://x", "page", None, None, NOW)
    with pytest.raises(RuntimeError):
        with transaction(factory) as s:
            fact = repo.fact_key(s, "k", "潍坊市", "山东省", "flexible", "base_min", "", 2025, "CNY/month")
            event = repo.add_event(s, fact, "src", "changed", 1, 2, None, "http://x", "e", NOW, None, "page", True,
                                   None)
            repo.enqueue(s, "hook", "hook:run:1", NOW, event_id=event.id)
            raise RuntimeError("crash between writes")
    with transaction(factory) as s:
        assert s.scalar(select(func.count()).select_from(ChangeEvent)) == 0
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0


def test_second_lock_is_refused_and_released_after(engine):
    with RunLock(engine):
        with pytest.raises(LockHeld):
            RunLock(engine).acquire()
    with RunLock(engine):
        pass


def test_pipeline_runs_on_this_database(db_url, tmp_path, demo_site, receiver):
    config = tmp_path / "yibao.toml"
    text = demo_config(demo_site.base, tmp_path / "unused.db", receiver.url, tmp_path / "a.jsonl", manifest())
    text = text.replace(f'url = "sqlite:///{tmp_path / "unused.db"}"', f"url = {json.dumps(db_url)}", 1)
    config.write_text(text, encoding="utf-8")
    assert yibao("--config", str(config), "run", env={SECRET_ENV: "test-secret"}).returncode == 0
    demo_site.version = "v2"
    done = yibao("--config", str(config), "run", "-v", env={SECRET_ENV: "test-secret"})
    assert done.returncode == 0, done.stderr
    assert "changed" in done.stdout
    assert len(receiver.posts) == 1 and receiver.posts[0]["body"]["changes"]


def test_bodies_written_as_zlib_before_zstandard_still_read_back(engine):
    """A database from before the switch holds zlib streams, whole and against a base: both still read."""
    import zlib

    page_v1, page_v2 = "<p>缴费基数下限4416元</p>".encode() * 50, "<p>缴费基数下限4588元</p>".encode() * 50
    deflater = zlib.compressobj(6, zdict=page_v1[-32768:])
    old_delta = deflater.compress(page_v2) + deflater.flush()
    factory = session_factory(engine)
    with transaction(factory) as s:
        s.add(Body(sha256="v1", data=zlib.compress(page_v1, 6), size=len(page_v1), stored_at=NOW, depth=0))
        s.add(Body(sha256="v2", data=old_delta, size=len(page_v2), stored_at=NOW, base_sha256="v1", depth=1))
    with transaction(factory) as s:
        assert repo.body_bytes(s, "v1") == page_v1 and repo.body_bytes(s, "v2") == page_v2
        row = repo.body_row(s, page_v1 + b"<p>new</p>", "v2", NOW)  # a new version against an old zlib body
        assert row["data"][:4] == b"\x28\xb5\x2f\xfd" and row["base_sha256"] == "v2" and row["depth"] == 2
        s.add(Body(**row))
    with transaction(factory) as s:
        assert repo.body_bytes(s, row["sha256"]) == page_v1 + b"<p>new</p>"
