"""Looking at and testing the outbox from the command line."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import func, select

from alerts import Change, Notice
from storage.db import ensure_schema, make_engine, session_factory, transaction
from storage.models import Delivery

from .config import Config
from .stages import make_channel_for


def status_lines(config: Config) -> list[str]:
    engine = make_engine(config.database.url)
    ensure_schema(engine, config.database.auto_upgrade)
    with transaction(session_factory(engine)) as s:
        rows = s.execute(select(Delivery.channel, Delivery.status, func.count(), func.max(Delivery.last_error))
                         .group_by(Delivery.channel, Delivery.status).order_by(Delivery.channel)).all()
    engine.dispose()
    if not rows:
        return ["no deliveries yet"]
    lines = [f"{'channel':<24}{'status':<10}{'count':>6}  last error"]
    for channel, status, count, error in rows:
        lines.append(f"{channel:<24}{status:<10}{count:>6}  {error or ''}")
    return lines


def sample_notice() -> Notice:
    now = datetime.now(timezone.utc).isoformat()
    change = Change(event_id="test-" + uuid.uuid4().hex[:12], kind="changed", region="潍坊市", province="山东省",
                    scheme="flexible", metric="base_max", qualifier=None, year=2025, old=21207, new=22080,
                    unit="CNY/month", source_url="https://example.invalid/yibao-watch-test",
                    evidence="（测试）缴费基数上限由21207元调整为22080元。", detected_at=now)
    return Notice(delivery_id="test-" + uuid.uuid4().hex, run_id=None, changes=(change,), test=True)


def send_test(config: Config, channel: str) -> None:
    channels = config.channels()
    if channel not in channels:
        raise KeyError(f"no alert channel named {channel!r}; configured: {', '.join(channels) or 'none'}")
    make_channel_for(channels[channel], channel).send(sample_notice())
