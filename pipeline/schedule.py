"""Which sources are due, by their cron expression (or the [schedule] default)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select

from storage.db import ensure_schema, make_engine, session_factory, transaction
from storage.models import Fetch, SourceHealth

from .config import Config, SourceConfig


def trigger_for(config: Config, source: SourceConfig) -> CronTrigger:
    return CronTrigger.from_crontab(source.schedule or config.schedule.cron,
                                    timezone=ZoneInfo(config.schedule.timezone))


def due_sources(config: Config) -> Callable[[list[SourceConfig]], list[SourceConfig]]:
    """A filter: sources whose last fetch is older than their schedule's previous fire time."""

    def pick(sources: list[SourceConfig]) -> list[SourceConfig]:
        engine = make_engine(config.database.url)
        ensure_schema(engine, config.database.auto_upgrade)
        with transaction(session_factory(engine)) as s:
            last = dict(s.execute(select(Fetch.source_id, func.max(Fetch.fetched_at)).group_by(Fetch.source_id)).all())
            # an unchanged fetch leaves no fetch-log row, only its time in source_health
            for sid, at in s.execute(select(SourceHealth.source_id, SourceHealth.last_fetched_at)):
                if at is not None and (last.get(sid) is None or at > last[sid]):
                    last[sid] = at
        engine.dispose()
        now = datetime.now(timezone.utc)
        due = []
        for src in sources:
            previous = last.get(src.id)
            if previous is None:
                due.append(src)
                continue
            if previous.tzinfo is None:
                previous = previous.replace(tzinfo=timezone.utc)
            fire = trigger_for(config, src).get_next_fire_time(None, previous + timedelta(seconds=1))
            if fire is not None and fire <= now:
                due.append(src)
        return due

    return pick
