"""Engines, sessions and the schema's version.

SQLite is the embedded default (WAL, foreign keys on, a busy timeout so a
reader never fails a writer); PostgreSQL is for teams. The schema is created
and upgraded only by Alembic, so the two never drift.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

#: The newest migration in storage/migrations. A run checks the database
#: against it without importing Alembic (a third of a second per run);
#: tests/test_versioning.py asserts it equals Alembic's head.
SCHEMA_REVISION = "0004"


class StorageError(Exception):
    """A database problem the user can act on; the message says how."""


class SchemaOutOfDate(StorageError):
    pass


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def normal_url(url: str) -> str:
    """postgresql:// means psycopg 3 here; a bare path means a SQLite file."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normal_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"database url {url!r} is not a URL: {exc}; use sqlite:///PATH or postgresql://…") from exc
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StorageError(f"no driver for {parsed.get_backend_name()}: pip install 'yibao-watch[postgres]'") from exc


def checkpoint(engine: Engine) -> None:
    """Fold SQLite's write-ahead log back into the database file, so a cron job leaves one file, not two."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    except OperationalError as exc:  # a reader holds the log: it is folded on a later run
        log.debug("wal checkpoint skipped: %s", exc)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that flush only when told: autoflush before every query cost more than the queries."""
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. The caller owns it."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --------------------------------------------------------------------------- migrations


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage").joinpath("migrations")))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise StorageError(f"cannot open the database {engine.url!r}: {exc.orig}") from exc


def _stamped_revision(engine: Engine) -> str | None:
    """The revision the database says it is at, read without Alembic; None when it cannot tell."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except Exception:  # noqa: BLE001 - no table yet, or another problem: let Alembic look
        return None
    return rows[0][0] if len(rows) == 1 else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine, auto_upgrade: bool = True) -> None:
    """Create or upgrade the schema, or refuse with the command that would."""
    if _stamped_revision(engine) == SCHEMA_REVISION:
        return
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    if not auto_upgrade:
        raise SchemaOutOfDate(
            f"the database is at schema {current or 'empty'}, this version needs {head}: run `yibao db upgrade`"
        )
    log.info("upgrading database schema %s -> %s", current, head)
    upgrade(engine)
