"""Drive the real pipeline stages in-process, without Scrapy: a run is a set of fetched bodies.

Everything after the network is the production code path — Pipeline.on_fetch,
extraction, the diff, conflicts, health, baselines — on a real database.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from crawler import FetchResult
from pipeline.config import Config, parse_config
from pipeline.stages import Pipeline
from storage import repo
from storage.db import ensure_schema, make_engine, session_factory, transaction
from storage.models import Body, ChangeEvent, Snapshot


class World:
    def __init__(self, db_url: str, sources: list[dict[str, Any]], diff: dict[str, Any] | None = None,
                 alerts: list[dict[str, Any]] | None = None, outbox: dict[str, Any] | None = None) -> None:
        self.config: Config = parse_config({"database": {"url": db_url}, "source": sources, "diff": diff or {},
                                            "alert": alerts or [], "alerts": outbox or {}})
        self.engine = make_engine(db_url)
        ensure_schema(self.engine)
        self.factory = session_factory(self.engine)
        self.now = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)

    def close(self) -> None:
        self.engine.dispose()

    def clock(self) -> datetime:
        return self.now

    def run(self, bodies: dict[str, bytes | str | int | None], advance: timedelta = timedelta(days=1),
            content_type: str | None = "text/html") -> Pipeline:
        """One run: {source_id: page body | None for a 304 | an HTTP error status}. Sources not named fail."""
        self.now += advance
        with transaction(self.factory) as s:
            run_id = repo.start_run(s, self.now).id
        pipe = Pipeline(self.config, self.factory, run_id, clock=self.clock)
        pipe.sync_sources(list(self.config.source))
        for src in self.config.source:
            if src.id not in bodies:
                pipe.source_ok[src.id] = False
                continue
            body = bodies[src.id]
            if isinstance(body, int):
                result = FetchResult(src.id, src.url, "error", status=body, error=f"HTTP {body}",
                                     fetched_at=self.now)
            elif body is None:
                result = FetchResult(src.id, src.url, "not_modified", status=304, fetched_at=self.now)
            else:
                raw = body.encode("utf-8") if isinstance(body, str) else body
                result = FetchResult(src.id, src.url, "ok", status=200, body=raw,
                                     content_type=f"{content_type or 'text/plain'}; charset=utf-8", etag=None,
                                     fetched_at=self.now)
            pipe.on_fetch(result)
        pipe.after_crawl(list(self.config.source))
        with transaction(self.factory) as s:
            repo.finish_run(s, run_id, "ok", pipe.counts.as_dict(), self.now)
        return pipe

    def events(self, notify_only: bool = False) -> list[ChangeEvent]:
        with transaction(self.factory) as s:
            q = select(ChangeEvent).order_by(ChangeEvent.id)
            if notify_only:
                q = q.where(ChangeEvent.notify.is_(True))
            return list(s.scalars(q))

    def count(self, model: type) -> int:
        with transaction(self.factory) as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

    def bodies(self) -> int:
        return self.count(Body)

    def snapshots(self) -> int:
        return self.count(Snapshot)


def page(title: str, *paragraphs: str, footer: str = "主办单位：某市医疗保障局 电话：0000-1234567",
         sidebar: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    side = f'<div class="side"><h3>相关推荐</h3><ul>{sidebar}</ul></div>' if sidebar else ""
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f'<div class="nav"><a href="/">首页</a> &gt; <a href="/yb/">医保</a></div>{side}'
            f'<div class="article"><h1>{title}</h1>{body}</div>'
            f'<div class="footer"><p>{footer}</p></div></body></html>')
