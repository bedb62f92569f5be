"""Real parts for tests: fixture web servers, a webhook receiver, SQLite files, PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from pipeline.demo import charsets, manifest, site_root
from pipeline.demo.receiver import Receiver
from pipeline.demo.server import SiteServer

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PG_URL = os.environ.get("YIBAO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def shared_dir() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"{SHARED} is absent: the shared corpus is not part of this checkout")
    return SHARED


@pytest.fixture
def demo_site() -> Iterator[SiteServer]:
    server = SiteServer(site_root(), charsets(manifest())).start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(secret="test-secret").start()
    yield r
    r.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'yibao.db'}"


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: skip, saying why
        return f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__}: {exc})"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards."""
    why = _pg_available()
    if why:
        pytest.skip(why)
    import psycopg

    schema = f"yibao_test_{uuid.uuid4().hex[:10]}"
    raw = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'yibao.db'}"
    return str(request.getfixturevalue("pg_url"))


def yibao(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process, as cron would."""
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=ROOT)


def rows_in(db: Path, model: Any) -> list[Any]:
    """Every row of a model's table in a SQLite file, by id: what a run left behind."""
    from sqlalchemy import select

    from storage.db import make_engine, session_factory

    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(model).order_by(model.id)))
    engine.dispose()
    return rows
