"""Reading and writing the tables. Every function takes a Session and never commits.

The caller owns the transaction (SQLAlchemy's session basics; sqlite-utils'
``atomic``): the pipeline wraps each fetched page, and each extracted
snapshot with its versions, events and outbox rows, in one.
"""
from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Protocol, Sequence

try:  # the standard library's from Python 3.14
    from compression import zstd
except ImportError:
    from backports import zstd

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from .models import (Body, ChangeEvent, Delivery, FactKey, FactVersion, Fetch, Page, Run, Snapshot, Source,
                     SourceHealth, Statement)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# --------------------------------------------------------------------------- runs and sources


def start_run(s: Session, now: datetime) -> Run:
    run = Run(started_at=now, status="running")
    s.add(run)
    s.flush()
    return run


def finish_run(s: Session, run_id: int, status: str, summary: dict[str, Any], now: datetime) -> None:
    s.execute(update(Run).where(Run.id == run_id).values(status=status, summary=dumps(summary), finished_at=now))


def upsert_source(s: Session, source_id: str, url: str, kind: str, region: str | None, province: str | None,
                  now: datetime) -> Source:
    src = s.get(Source, source_id)
    if src is None:
        src = Source(id=source_id, url=url, kind=kind, region=region, province=province, created_at=now)
        s.add(src)
    else:
        src.url, src.kind, src.region, src.province = url, kind, region, province
    return src


SOURCE_FIELDS = ("url", "kind", "region", "province")


def sync_sources(s: Session, wanted: list[dict[str, Any]], now: datetime) -> None:
    """Make the sources table say what the configuration says: new sources inserted, changed ones updated.

    ``wanted``: one dict per configured source (id, url, kind, region,
    province). Three statements whatever the number of sources — one
    SELECT, one INSERT, one UPDATE — where a get-then-write per source cost
    0.3 s of every run of 1000 sources, before the crawl could start.
    """
    table = Source.table()
    held = {r.id: r for r in s.execute(select(table.c.id, *(table.c[f] for f in SOURCE_FIELDS)))}
    new = [{**w, "created_at": now} for w in wanted if w["id"] not in held]
    changed = [w for w in wanted if w["id"] in held
               and any(getattr(held[w["id"]], f) != w[f] for f in SOURCE_FIELDS)]
    if new:
        s.execute(insert(table), new)
    if changed:
        s.execute(update(Source), changed)  # ORM bulk UPDATE by primary key: one executemany


# --------------------------------------------------------------------------- pages, bodies, snapshots


def body_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Bodies are Zstandard frames: 2.5× faster to write than zlib level 6 (the writer compressed 13 MB of
# pages per 1000 sources on a first run: 0.19 s against 0.06 s), and a page's next version, compressed
# with the whole previous one as its dictionary (zlib's dictionary holds only the last 32 KiB), costs a
# third of zlib's bytes. Rows written before are zlib streams and stay readable: a frame says which.
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_LEVEL = 3
_ZLIB_WINDOW = 32768  # zlib's dictionary held the last 32 KiB of the base


def compress(data: bytes, base: bytes | None = None) -> bytes:
    """Page bytes as one Zstandard frame; against ``base`` (the page's previous body) when given."""
    frame: bytes = zstd.compress(data, _ZSTD_LEVEL, zstd_dict=zstd.ZstdDict(base, is_raw=True) if base else None)
    return frame


def decompress(data: bytes, base: bytes | None = None) -> bytes:
    """The inverse of :func:`compress`, and of the zlib streams written before it."""
    if data[:4] == _ZSTD_MAGIC:
        page: bytes = zstd.decompress(data, zstd_dict=zstd.ZstdDict(base, is_raw=True) if base else None)
        return page
    if base is None:
        return zlib.decompress(data)
    inflater = zlib.decompressobj(zdict=base[-_ZLIB_WINDOW:])
    return inflater.decompress(data) + inflater.flush()


def store_body(s: Session, data: bytes, now: datetime) -> str:
    """Insert a body once per content hash; return the hash."""
    sha = body_hash(data)
    if s.get(Body, sha) is None:
        s.add(Body(sha256=sha, data=compress(data), size=len(data), stored_at=now))
    return sha


MAX_DELTA_DEPTH = 8  # a body is stored whole at least every 9 versions of a page


def body_bytes(s: Session, sha: str) -> bytes:
    """A page body, resolving its chain of dictionary-compressed versions."""
    body = s.get(Body, sha)
    if body is None:
        raise LookupError(f"body {sha} is missing from the database")
    if body.base_sha256 is None:
        return decompress(body.data)
    return decompress(body.data, body_bytes(s, body.base_sha256))


def body_row(s: Session, data: bytes, previous_sha: str | None, now: datetime) -> dict[str, Any]:
    """A bodies row for new page bytes: against the page's previous body when the chain allows."""
    row: dict[str, Any] = {"sha256": body_hash(data), "size": len(data), "stored_at": now, "base_sha256": None,
                           "depth": 0}
    previous = s.get(Body, previous_sha) if previous_sha else None
    if previous is not None and previous.depth < MAX_DELTA_DEPTH:
        row.update(data=compress(data, body_bytes(s, previous.sha256)), base_sha256=previous.sha256,
                   depth=previous.depth + 1)
    else:
        row["data"] = compress(data)
    return row


def validators(s: Session) -> dict[str, tuple[str | None, str | None]]:
    """URL → (ETag, Last-Modified) for conditional GETs; only for URLs whose body we still hold.

    Listing pages are always fetched whole: a 304 would hide the article
    links, and an article a crashed run never reached would stay unread.
    """
    rows = s.execute(select(Page.url, Page.etag, Page.last_modified)
                     .where(Page.body_sha256.is_not(None), Page.role != "listing"))
    return {url: (etag, lm) for url, etag, lm in rows if etag or lm}


def body_hashes(s: Session) -> dict[tuple[str, str], str]:
    """(source, URL) → the hash of the body we hold: a fetch whose body hashes the same needs no reading."""
    rows = s.execute(select(Page.source_id, Page.url, Page.body_sha256).where(Page.body_sha256.is_not(None)))
    return {(sid, url): sha for sid, url, sha in rows if sha is not None}


def known_articles(s: Session) -> dict[str, list[str]]:
    """Source id → the article URLs its listing led to, newest first (what a listing remembers)."""
    rows = s.execute(select(Page.source_id, Page.url).where(Page.role == "article", Page.body_sha256.is_not(None))
                     .order_by(Page.first_seen_at.desc(), Page.rank))
    out: dict[str, list[str]] = {}
    for source_id, url in rows:
        out.setdefault(source_id, []).append(url)
    return out


def get_page(s: Session, source_id: str, url: str) -> Page | None:
    return s.scalar(select(Page).where(Page.source_id == source_id, Page.url == url))


def ensure_page(s: Session, source_id: str, url: str, first_seen: datetime, role: str = "page",
                rank: int = 0) -> Page:
    page = get_page(s, source_id, url)
    if page is None:
        page = Page(source_id=source_id, url=url, role=role, rank=rank, first_seen_at=first_seen,
                    ok_fetches_since_change=0)
        s.add(page)
        s.flush()
    return page


@dataclass(frozen=True, slots=True)
class PageFetch:
    source_id: str
    url: str
    status: int | None
    etag: str | None
    last_modified: str | None
    content_type: str | None
    body: bytes | None  # None for a 304
    fetched_at: datetime
    run_id: int
    run_started_at: datetime
    role: str = "page"
    rank: int = 0


def observe_page(s: Session, f: PageFetch) -> tuple[Page, Snapshot | None]:
    """Record a successful fetch; a new snapshot only when the body's hash is new for this URL."""
    page = ensure_page(s, f.source_id, f.url, f.run_started_at, f.role, f.rank)
    page.last_fetched_at = f.fetched_at
    page.last_status = f.status
    if f.etag:
        page.etag = f.etag
    if f.last_modified:
        page.last_modified = f.last_modified
    if f.body is None:
        page.ok_fetches_since_change += 1
        return page, None
    sha = body_hash(f.body)
    if sha == page.body_sha256:
        page.ok_fetches_since_change += 1
        return page, None
    if s.get(Body, sha) is None:
        s.add(Body(**body_row(s, f.body, page.body_sha256, f.fetched_at)))
    snap = Snapshot(page_id=page.id, source_id=f.source_id, url=f.url, status=f.status or 200, etag=f.etag,
                    last_modified=f.last_modified, content_type=f.content_type, body_sha256=sha,
                    fetched_at=f.fetched_at, run_id=f.run_id)
    s.add(snap)
    s.flush()
    page.body_sha256, page.snapshot_id, page.ok_fetches_since_change = sha, snap.id, 0
    return page, snap


def record_fetch(s: Session, run_id: int, source_id: str, url: str, outcome: str, status: int | None,
                 error: str | None, elapsed_ms: int | None, at: datetime) -> None:
    s.add(Fetch(run_id=run_id, source_id=source_id, url=url, outcome=outcome, status=status, error=error,
                elapsed_ms=elapsed_ms, fetched_at=at))


def pending_snapshots(s: Session, extractor_version: int) -> list[tuple[int, int | None]]:
    """(snapshot id, version that read it) of every page's current snapshot not yet read by this version."""
    rows = s.execute(
        select(Snapshot.id, Snapshot.extractor_version)
        .join(Page, Page.snapshot_id == Snapshot.id)
        .where((Snapshot.extractor_version.is_(None)) | (Snapshot.extractor_version < extractor_version))
        .where(Page.role != "listing")
        # older articles first, so the newest statement of a figure is read last and wins
        .order_by(Page.first_seen_at, Page.rank.desc(), Snapshot.fetched_at, Snapshot.id)
    )
    return [(sid, ver) for sid, ver in rows]


def baseline_sources_with_reads(s: Session, now: datetime, run_id: int) -> None:
    """Baseline every source not yet baselined of which at least one snapshot has been read.

    One UPDATE, not an ORM object per source: a first run of 1000 sources
    spent 0.08 s here, at the end of the run, where nothing else overlaps it.
    """
    read = select(Snapshot.source_id).where(Snapshot.extractor_version.is_not(None))
    sources = Source.table()
    s.execute(update(sources).where(sources.c.baseline_run_id.is_(None), sources.c.id.in_(read))
              .values(baselined_at=now, baseline_run_id=run_id))


def mark_extracted_many(s: Session, snapshot_ids: list[int], version: int, now: datetime) -> None:
    if snapshot_ids:
        # ORM bulk UPDATE by primary key: one executemany
        s.execute(update(Snapshot), [{"id": i, "extractor_version": version, "extracted_at": now}
                                     for i in snapshot_ids])


def mark_extracted(s: Session, snapshot_id: int, version: int, now: datetime, error: str | None = None) -> None:
    s.execute(update(Snapshot).where(Snapshot.id == snapshot_id)
              .values(extractor_version=version, extracted_at=now, extract_error=error))


# --------------------------------------------------------------------------- facts and statements


def fact_key(s: Session, key: str, region: str, province: str | None, scheme: str, metric: str,
             qualifier_key: str, year: int | None, unit: str) -> FactKey:
    fact = s.scalar(select(FactKey).where(FactKey.key == key))
    if fact is None:
        fact = FactKey(key=key, region=region, province=province, scheme=scheme, metric=metric,
                       qualifier_key=qualifier_key, year=year, unit=unit)
        s.add(fact)
        s.flush()
    elif province and not fact.province:
        fact.province = province
    return fact


def pages_with_missing_statements(s: Session) -> set[tuple[str, str]]:
    """(source, URL) pairs whose page no longer states a figure it did: their fetches count toward `removed`."""
    rows = s.execute(select(Statement.source_id, Statement.url)
                     .where(Statement.missing_fetches > 0, Statement.removed.is_(False)).distinct())
    return {(sid, url) for sid, url in rows}


def statements_of(s: Session, source_id: str) -> list[tuple[Statement, FactKey]]:
    rows = s.execute(select(Statement, FactKey).join(FactKey, FactKey.id == Statement.fact_id)
                     .where(Statement.source_id == source_id))
    return [(st, fact) for st, fact in rows]


def statements_by_source(s: Session, source_ids: list[str]) -> dict[str, list[tuple[Statement, FactKey]]]:
    """source → its (statement, fact) pairs, for many sources in one query per 500."""
    out: dict[str, list[tuple[Statement, FactKey]]] = {}
    for chunk in _chunks(source_ids, 500):
        rows = s.execute(select(Statement, FactKey).join(FactKey, FactKey.id == Statement.fact_id)
                         .where(Statement.source_id.in_(chunk)))
        for st, fact in rows:
            out.setdefault(st.source_id, []).append((st, fact))
    return out


def statements_at(s: Session, source_id: str, url: str) -> list[tuple[Statement, FactKey]]:
    rows = s.execute(select(Statement, FactKey).join(FactKey, FactKey.id == Statement.fact_id)
                     .where(Statement.source_id == source_id, Statement.url == url))
    return [(st, fact) for st, fact in rows]


def other_statements(s: Session, keys: Iterable[str], source_id: str) -> dict[str, list[tuple[str, Any]]]:
    """key → the distinct values other sources state now (one source named per value)."""
    keys = list(keys)
    out: dict[str, list[tuple[str, Any]]] = {}
    for chunk in _chunks(keys, 500):
        rows = s.execute(select(FactKey.key, Statement.value, func.min(Statement.source_id))
                         .join(Statement, Statement.fact_id == FactKey.id)
                         .where(FactKey.key.in_(chunk), Statement.source_id != source_id,
                                Statement.removed.is_(False))
                         .group_by(FactKey.key, Statement.value))
        for key, value, sid in rows:
            out.setdefault(key, []).append((sid, loads(value)))
    return out


def earlier_year_values(s: Session, prefixes: dict[str, tuple[str, int]]) -> dict[str, Any]:
    """key → the value of the same figure for the latest earlier year (any source); one query."""
    if not prefixes:
        return {}
    regions = sorted({prefix.split("|", 1)[0] for prefix, _ in prefixes.values()})
    metrics = sorted({prefix.split("|")[2] for prefix, _ in prefixes.values()})
    rows = s.execute(select(FactKey.key, FactKey.year, Statement.value, func.max(Statement.last_seen_at))
                     .join(Statement, Statement.fact_id == FactKey.id)
                     .where(FactKey.region.in_(regions), FactKey.metric.in_(metrics), FactKey.year.is_not(None),
                            Statement.removed.is_(False))
                     .group_by(FactKey.key, FactKey.year, Statement.value))
    by_prefix: dict[str, list[tuple[int, datetime, str]]] = {}
    for key, year, value, seen in rows:
        if year is None:
            continue
        by_prefix.setdefault(key.rsplit("|", 1)[0] + "|", []).append((year, seen, value))
    out: dict[str, Any] = {}
    for key, (prefix, year) in prefixes.items():
        earlier = [row for row in by_prefix.get(prefix, []) if row[0] < year]
        if earlier:
            out[key] = loads(max(earlier, key=lambda r: (r[0], r[1]))[2])
    return out


def histories(s: Session, source_id: str, fact_ids: list[int], limit: int) -> dict[int, list[tuple[Any, datetime]]]:
    """This source's earlier values of these facts, newest first, the current one excluded."""
    out: dict[int, list[tuple[Any, datetime]]] = {}
    if not fact_ids or limit <= 0:
        return out
    rows = s.execute(select(FactVersion.fact_id, FactVersion.value, FactVersion.observed_at)
                     .where(FactVersion.source_id == source_id, FactVersion.fact_id.in_(fact_ids))
                     .order_by(FactVersion.fact_id, FactVersion.id.desc()))
    seen: dict[int, int] = {}
    for fact_id, value, at in rows:
        n = seen.get(fact_id, 0)
        seen[fact_id] = n + 1
        if 1 <= n <= limit and value is not None:
            out.setdefault(fact_id, []).append((loads(value), at))
    return out


class FactIdentity(Protocol):
    """What a version, statement or event needs of its fact: a FactKey, or a Core row of the facts table."""

    @property
    def id(self) -> int: ...
    @property
    def region(self) -> str: ...
    @property
    def province(self) -> str | None: ...
    @property
    def scheme(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def year(self) -> int | None: ...
    @property
    def unit(self) -> str: ...


def facts_by_key(s: Session, keys: list[str]) -> dict[str, FactIdentity]:
    """Core rows, not ORM objects: a first run loads 11 identities a page, and an ORM instance costs 10× a row."""
    out: dict[str, FactIdentity] = {}
    facts = FactKey.table()
    for chunk in _chunks(keys, 500):
        out.update({f.key: f for f in s.execute(select(facts).where(facts.c.key.in_(chunk)))})
    return out


def new_fact_keys(s: Session, rows: list[dict[str, Any]]) -> dict[str, FactIdentity]:
    """Insert fact identities not seen before, all at once (a Core insert: see Base.table); returns them by key.

    RETURNING hands back the new rows (SQLite ≥ 3.35, PostgreSQL), instead of selecting them again by key.
    """
    facts = FactKey.table()
    return {f.key: f for f in s.execute(insert(facts).returning(*facts.c), rows)}


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def version_row(fact_id: int, source_id: str, value: Any, qualifier: str | None, evidence: str, url: str,
                snapshot_id: int | None, extractor_version: int, at: datetime, run_id: int | None,
                cause: str) -> dict[str, Any]:
    return dict(fact_id=fact_id, source_id=source_id, value=None if value is None else dumps(value),
                qualifier=qualifier, evidence=evidence, url=url, snapshot_id=snapshot_id,
                extractor_version=extractor_version, observed_at=at, run_id=run_id, cause=cause)


def insert_versions(s: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        s.execute(insert(FactVersion.table()), rows)


@dataclass
class BulkRows:
    """Rows of one snapshot written with executemany, not one ORM object each (a baseline writes hundreds)."""

    statements: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)


def insert_bulk(s: Session, bulk: BulkRows) -> None:
    if bulk.statements:
        s.execute(insert(Statement.table()), bulk.statements)
    insert_versions(s, bulk.versions)


def add_event(s: Session, fact: FactIdentity, source_id: str, kind: str, old: Any, new: Any, qualifier: str | None,
              url: str, evidence: str, at: datetime, run_id: int | None, cause: str, notify: bool,
              suppressed: str | None, uid: str | None = None) -> ChangeEvent:
    event = ChangeEvent(
        uid=uid or uuid.uuid4().hex, run_id=run_id, fact_id=fact.id, source_id=source_id, kind=kind,
        old_value=None if old is None else dumps(old), new_value=None if new is None else dumps(new),
        region=fact.region, province=fact.province, scheme=fact.scheme, metric=fact.metric, qualifier=qualifier,
        year=fact.year, unit=fact.unit, source_url=url, evidence=evidence, detected_at=at, cause=cause,
        notify=notify, suppressed=suppressed,
    )
    s.add(event)
    s.flush()
    return event


def event_uid_exists(s: Session, uid: str) -> bool:
    return s.scalar(select(func.count()).select_from(ChangeEvent).where(ChangeEvent.uid == uid)) != 0


def current_statements(s: Session) -> dict[str, list[tuple[str, Any, datetime]]]:
    """key → [(source, value, value_since)] for keys whose sources state two or more different values.

    Values are stored canonical (``dumps``), so different texts are the only
    candidates for a disagreement; the database drops the agreeing keys
    instead of this process loading every statement of every run (0.27 s of
    a no-change rerun of 1000 sources under cProfile).
    """
    multi = (select(Statement.fact_id).where(Statement.removed.is_(False)).group_by(Statement.fact_id)
             .having(func.count(func.distinct(Statement.value)) > 1))
    rows = s.execute(select(FactKey.key, Statement.source_id, Statement.value, Statement.first_seen_at)
                     .join(Statement, Statement.fact_id == FactKey.id)
                     .where(Statement.fact_id.in_(multi), Statement.removed.is_(False)))
    out: dict[str, list[tuple[str, Any, datetime]]] = {}
    for key, sid, value, since in rows:
        out.setdefault(key, []).append((sid, loads(value), since))
    return out


# --------------------------------------------------------------------------- outbox


def enqueue(s: Session, channel: str, batch: str, now: datetime, event_id: int | None = None,
            notice_uid: str | None = None, notice: dict[str, Any] | None = None) -> None:
    s.add(Delivery(event_id=event_id, notice_uid=notice_uid, notice=None if notice is None else dumps(notice),
                   channel=channel, batch=batch, status="pending", attempts=0, next_attempt_at=now, created_at=now))


def due_deliveries(s: Session, now: datetime, channels: Iterable[str]) -> list[Delivery]:
    return list(s.scalars(select(Delivery).where(Delivery.status == "pending", Delivery.next_attempt_at <= now,
                                                 Delivery.channel.in_(list(channels)))
                          .order_by(Delivery.channel, Delivery.batch, Delivery.id)))


def events_by_id(s: Session, ids: Iterable[int]) -> dict[int, ChangeEvent]:
    ids = list(ids)
    if not ids:
        return {}
    return {e.id: e for e in s.scalars(select(ChangeEvent).where(ChangeEvent.id.in_(ids)))}


def health_rows(s: Session, source_ids: list[str]) -> dict[str, SourceHealth]:
    """The health rows these sources have (a new source has none yet); one query per 500 sources."""
    rows: dict[str, SourceHealth] = {}
    for chunk in _chunks(source_ids, 500):
        rows.update({h.source_id: h for h in s.scalars(select(SourceHealth).where(SourceHealth.source_id.in_(chunk)))})
    return rows


def new_health(s: Session, source_id: str) -> SourceHealth:
    row = SourceHealth(source_id=source_id, consecutive_failures=0, broken=False)
    s.add(row)
    return row


def insert_health(s: Session, rows: list[dict[str, Any]]) -> None:
    """New sources' first health rows in one executemany (a first run has one per source)."""
    if rows:
        s.execute(insert(SourceHealth.table()), rows)


def touch_health(s: Session, rows: list[dict[str, Any]]) -> None:
    """Record a run of healthy sources in one executemany: {sid, at, ms, run}."""
    if not rows:
        return
    s.execute(update(SourceHealth), [{"source_id": r["sid"], "last_fetched_at": r["at"], "last_elapsed_ms": r["ms"],
                                      "last_run_id": r["run"], "last_ok_at": r["at"]} for r in rows])
