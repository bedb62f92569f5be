"""Run `yibao run` in this process and SIGKILL it at a chosen point — a real crash, not a mock.

    python tests/crash_driver.py CONFIG commit:7:before   # die inside the 7th transaction, before it commits
    python tests/crash_driver.py CONFIG commit:7:after    # die right after the 7th commit
    python tests/crash_driver.py CONFIG send:1:after      # die after the 1st alert was sent, before it is recorded
    python tests/crash_driver.py CONFIG count             # run to the end, print how many commits it made

Only this test driver patches anything; the production code runs unchanged. A run is
several processes (the crawl, the writer, its readers): commits are counted across all
of them through a file, and the kill takes the whole process group, as `kill -9` of a
cron job's group would.
"""
from __future__ import annotations

import os
import signal
import sys

from sqlalchemy.orm import Session

from alerts import channels
from pipeline import cli


COUNTER = os.environ.get("YIBAO_CRASH_COUNTER", "")


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.killpg(os.getpgid(0), signal.SIGKILL)


def _next_commit() -> int:
    """The number of this commit among all the run's processes (O_APPEND writes are atomic)."""
    fd = os.open(COUNTER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)
    return os.path.getsize(COUNTER)


def main() -> None:
    config, point = sys.argv[1], sys.argv[2]
    calls = {"commit": 0, "send": 0}
    real_commit = Session.commit

    if point == "count":
        def counting_commit(self: Session) -> None:
            _next_commit()
            real_commit(self)

        Session.commit = counting_commit  # type: ignore[method-assign]
        try:
            cli.main(["--config", config, "run"], standalone_mode=False)
        except SystemExit:
            pass
        print(f"commits={os.path.getsize(COUNTER) if os.path.exists(COUNTER) else 0}")
        return

    what, nth, when = point.split(":")
    n = int(nth)
    if what == "commit":
        def commit(self: Session) -> None:
            number = _next_commit()
            if number == n and when == "before":
                self.flush()  # the writes reach the database, uncommitted
                _die()
            real_commit(self)
            if number == n and when == "after":
                _die()

        Session.commit = commit  # type: ignore[method-assign]
    elif what == "send":
        real_send = channels.WebhookChannel.send

        def send(self: channels.WebhookChannel, notice: channels.Notice) -> None:
            real_send(self, notice)
            calls["send"] += 1
            if calls["send"] == n:
                _die()

        channels.WebhookChannel.send = send  # type: ignore[method-assign]
    cli.main(["--config", config, "run"])


if __name__ == "__main__":
    main()
