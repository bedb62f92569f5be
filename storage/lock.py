"""One run at a time, across cron, the daemon and a user at a terminal.

The lock is one the operating system or the database server releases when
its holder dies, so a crashed (even SIGKILLed) run never leaves it held:

* SQLite: ``flock`` on a file next to the database.
* PostgreSQL: a session-level advisory lock on a dedicated connection.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

ADVISORY_KEY = 0x59494241  # "YIBA"


class LockHeld(Exception):
    """Another run holds the lock."""


class RunLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._fd: int | None = None
        self._conn: Connection | None = None

    @property
    def lock_path(self) -> Path | None:
        db = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not db or db == ":memory:":
            return None
        return Path(db).expanduser().resolve().with_name(Path(db).name + ".lock")

    def acquire(self) -> None:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
            conn.commit()
            if not got:
                conn.close()
                raise LockHeld("another `yibao run` is using this PostgreSQL database; wait for it to finish")
            self._conn = conn
            return
        path = self.lock_path
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            raise LockHeld(f"another `yibao run` (pid {holder or '?'}) is using {self.engine.url.database}; "
                           "wait for it to finish") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
