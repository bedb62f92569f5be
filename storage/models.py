"""Tables, in the git-history way.

* ``bodies`` hold each distinct page body once, by content hash, compressed.
* ``pages`` remember every URL a source led to, with its validators (ETag,
  Last-Modified) and current body; ``snapshots`` record each *new* body a URL
  served. An unchanged fetch adds no snapshot and no body: storage grows
  with changes, not with runs.
* ``facts`` are identities — (region, scheme, metric, qualifier key, year);
  ``statements`` are what each source currently says about one;
  ``fact_versions`` are the append-only history of statements.
* ``change_events`` and the ``deliveries`` outbox (one row per event and
  channel) are written in the same transaction as the versions they describe.
"""
from __future__ import annotations

from datetime import datetime

from datetime import timezone
from typing import Any, Callable, cast

from sqlalchemy import (Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    @classmethod
    def table(cls) -> Table:
        """The Core table, for bulk writes: the ORM's bulk path cost twice the time for the same rows."""
        return cast(Table, cls.__table__)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are UTC and aware on every backend (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """The type's processor, remembering its last value: a batch writes the run's one ``now`` into
        tens of thousands of rows, and SQLite's string formatting of it was a tenth of the writer's CPU."""
        inner = super().bind_processor(dialect)
        if inner is None:
            return None
        last: list[tuple[Any, Any]] = [(object(), None)]

        def process(value: Any) -> Any:
            seen, out = last[0]  # one tuple, read and replaced whole: safe across threads
            if value is seen:
                return out
            out = inner(value)
            last[0] = (value, out)
            return out

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value
        return stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)


TS = UTCDateTime()


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(TS)
    finished_at: Mapped[datetime | None] = mapped_column(TS)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | partial | failed
    summary: Mapped[str | None] = mapped_column(Text)  # JSON counts


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(64))
    province: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TS)
    baselined_at: Mapped[datetime | None] = mapped_column(TS)  # first successful extraction
    baseline_run_id: Mapped[int | None] = mapped_column(Integer)  # the run whose pages are the baseline


class Body(Base):
    __tablename__ = "bodies"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # a Zstandard frame (zlib in rows written before 2026-12)
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(TS)
    # A page's next version is compressed with its previous one as the dictionary: a
    # changed figure costs a few hundred bytes, not the whole page again. Chains stay short.
    base_sha256: Mapped[str | None] = mapped_column(String(64))
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("source_id", "url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), default="page")  # page | listing | article
    rank: Mapped[int] = mapped_column(Integer, default=0)  # position in its listing when first seen (0 = newest)
    first_seen_at: Mapped[datetime] = mapped_column(TS)  # the start of the run that first saw it
    last_fetched_at: Mapped[datetime | None] = mapped_column(TS)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str | None] = mapped_column(ForeignKey("bodies.sha256"))
    snapshot_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the current snapshot
    last_status: Mapped[int | None] = mapped_column(Integer)
    ok_fetches_since_change: Mapped[int] = mapped_column(Integer, default=0)


class Snapshot(Base):
    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(ForeignKey("bodies.sha256"))
    fetched_at: Mapped[datetime] = mapped_column(TS)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    extractor_version: Mapped[int | None] = mapped_column(Integer)  # None until read
    extracted_at: Mapped[datetime | None] = mapped_column(TS)
    extract_error: Mapped[str | None] = mapped_column(Text)


class Fetch(Base):
    """One fetch outcome per URL per run: failures are data."""

    __tablename__ = "fetches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # new | unchanged | not_modified | error | blocked
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(TS)


class FactKey(Base):
    __tablename__ = "facts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    region: Mapped[str] = mapped_column(String(64), default="")
    province: Mapped[str | None] = mapped_column(String(64))
    scheme: Mapped[str] = mapped_column(String(16), default="")
    metric: Mapped[str] = mapped_column(String(32))
    qualifier_key: Mapped[str] = mapped_column(Text, default="")
    year: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    __table_args__ = (Index("ix_facts_region_metric", "region", "metric"),)


class Statement(Base):
    """What one source currently says about one fact."""

    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_source_url", "source_id", "url"),)
    fact_id: Mapped[int] = mapped_column(ForeignKey("facts.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)  # JSON: a number, a string or a sorted list of them
    qualifier: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    snapshot_id: Mapped[int | None] = mapped_column(Integer)
    url_first_seen_at: Mapped[datetime] = mapped_column(TS)  # precedence: the newest article wins
    first_seen_at: Mapped[datetime] = mapped_column(TS)
    last_seen_at: Mapped[datetime] = mapped_column(TS)
    missing_fetches: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)


class FactVersion(Base):
    __tablename__ = "fact_versions"
    __table_args__ = (Index("ix_fact_versions_fact_source", "fact_id", "source_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("facts.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    value: Mapped[str | None] = mapped_column(Text)  # None: the source stopped stating it
    qualifier: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text)
    snapshot_id: Mapped[int | None] = mapped_column(Integer)
    extractor_version: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(TS)
    run_id: Mapped[int | None] = mapped_column(Integer)
    cause: Mapped[str] = mapped_column(String(16))  # baseline | page | extractor


class ChangeEvent(Base):
    __tablename__ = "change_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)  # stable id sent to receivers
    run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("facts.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # added | changed | new_period | removed | conflict
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(String(64), default="")
    province: Mapped[str | None] = mapped_column(String(64))
    scheme: Mapped[str] = mapped_column(String(16), default="")
    metric: Mapped[str] = mapped_column(String(32))
    qualifier: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    source_url: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    detected_at: Mapped[datetime] = mapped_column(TS, index=True)
    cause: Mapped[str] = mapped_column(String(16), default="page")  # page | extractor
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    suppressed: Mapped[str | None] = mapped_column(Text)  # why no alert: flip-back, extractor, same-as-last-year


class Delivery(Base):
    """The outbox: one row per (event or notice, channel)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_id", "channel"), UniqueConstraint("notice_uid", "channel"),
                      Index("ix_deliveries_due", "status", "next_attempt_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("change_events.id", ondelete="CASCADE"))
    notice_uid: Mapped[str | None] = mapped_column(String(80))  # source-health notices have no event
    notice: Mapped[str | None] = mapped_column(Text)  # JSON payload of a notice
    channel: Mapped[str] = mapped_column(String(100), index=True)
    batch: Mapped[str] = mapped_column(String(80))  # rows sent together share a batch, and its delivery id
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS)


class SourceHealth(Base):
    __tablename__ = "source_health"
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_ok_at: Mapped[datetime | None] = mapped_column(TS)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
    broken: Mapped[bool] = mapped_column(Boolean, default=False)  # a 'broken' notice was raised
    # An unchanged fetch writes no fetch-log row; its time and timing are kept here.
    last_fetched_at: Mapped[datetime | None] = mapped_column(TS)
    last_elapsed_ms: Mapped[int | None] = mapped_column(Integer)
