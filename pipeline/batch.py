"""Storing a batch of fetches in one transaction: the hot path of every run.

Per page the work is small — look up the page, maybe store a body and a
snapshot, maybe read it — but done one statement at a time it cost more than
the crawl (17 statements and 6 ms a page). Here each step is one statement
for the whole batch: pages come from a cache filled once, bodies, snapshots,
fetch-log rows and fact versions are written with executemany, and a
source's first reading (its baseline, which makes no events) is written in
bulk too. Readings that can make events go through
:meth:`~pipeline.stages.Pipeline.extract_snapshot` one by one, in order,
because one source's new statement decides whether the next source's equal
figure is news.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from crawler import FetchResult
from extractors import EXTRACTOR_VERSION
from storage import repo
from storage.models import Body, Fetch, Page, Snapshot, Source

from .diff import Identity, SnapshotContext, diff_snapshot, observations
from .diff import Stored as StoredStatement

if TYPE_CHECKING:
    from extractors import Reading

    from .stages import Pipeline

Job = tuple[FetchResult, "Reading | None"]


@dataclass(slots=True)
class PageRow:
    id: int
    body_sha256: str | None
    etag: str | None
    last_modified: str | None
    first_seen_at: datetime


class PageCache:
    """(source, URL) → what we hold for that page; filled once per source, kept current by the batches."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], PageRow] = {}
        self.loaded: set[str] = set()

    def load(self, s: Session, source_ids: set[str]) -> None:
        todo = sorted(source_ids - self.loaded)
        for i in range(0, len(todo), 500):
            chunk = todo[i:i + 500]
            for r in s.execute(select(Page.id, Page.source_id, Page.url, Page.body_sha256, Page.etag,
                                      Page.last_modified, Page.first_seen_at).where(Page.source_id.in_(chunk))):
                self.rows[(r.source_id, r.url)] = PageRow(r.id, r.body_sha256, r.etag, r.last_modified,
                                                          r.first_seen_at)
        self.loaded.update(todo)

    def forget(self) -> None:
        """After a rollback the cache may hold rows that were never committed."""
        self.rows.clear()
        self.loaded.clear()


@dataclass(slots=True)
class Stored:
    """One fetch after the batch wrote it."""

    result: FetchResult
    reading: Reading | None
    outcome: str  # new | unchanged | not_modified | error | blocked
    error: str | None
    page: PageRow | None = None
    snapshot_id: int | None = None
    previous_sha: str | None = None  # the body the page had before this fetch


def stored_statement(st: Any, fact: Any) -> StoredStatement:
    """A statement as the diff sees it."""
    return StoredStatement(Identity(fact.region, fact.scheme, fact.metric, fact.qualifier_key, fact.year),
                           repo.loads(st.value), st.url, st.url_first_seen_at, st.removed, st.missing_fetches)


class BatchStore:
    def __init__(self, pipe: Pipeline) -> None:
        self.pipe = pipe
        self.pages = PageCache()

    def store(self, s: Session, jobs: list[Job]) -> dict[str, str]:
        """Write a batch of fetches; returns source → why its page was a wall."""
        pipe = self.pipe
        items = [self._classify(result, reading) for result, reading in jobs]
        self.pages.load(s, {i.result.source_id for i in items})
        self._new_pages(s, [i for i in items if i.outcome in ("ok", "not_modified")])
        changed = self._changed(items)
        self._bodies(s, changed)
        self._snapshots(s, changed)
        self._page_updates(s, items)
        self._fetch_log(s, items)
        for item in items:
            r = item.result
            if item.outcome in ("unchanged", "not_modified"):
                pipe.counts.unchanged_pages += 1
                pipe.quiet_fetches[r.source_id] = (r.fetched_at or pipe.clock(), r.elapsed_ms)
                if (r.source_id, r.url) in pipe.missing_at:
                    pipe.count_missing(s, r.source_id, r.url, r.fetched_at or pipe.clock())
        self._read(s, changed)
        return {i.result.source_id: i.error or "" for i in items if i.outcome == "blocked"}

    # ------------------------------------------------------------------ steps

    def _classify(self, result: FetchResult, reading: Reading | None) -> Stored:
        outcome, error = result.outcome, result.error
        if reading is None and outcome == "ok":
            reading = self.pipe.read(result)
        if reading is not None and reading.wall:
            outcome, error = "blocked", f"the server sent {reading.wall}, not the page"
        return Stored(result, reading, outcome, error)

    def _new_pages(self, s: Session, items: list[Stored]) -> None:
        pipe, rows, seen = self.pipe, [], set()
        for item in items:
            r = item.result
            key = (r.source_id, r.url)
            if key not in self.pages.rows and key not in seen:
                seen.add(key)
                rows.append({"source_id": r.source_id, "url": r.url, "role": r.role, "rank": r.rank,
                             "first_seen_at": pipe.started_at, "ok_fetches_since_change": 0})
        if rows:
            page = Page.table().c
            for new in s.execute(insert(Page.table()).returning(page.id, page.source_id, page.url,
                                                                  sort_by_parameter_order=True), rows):
                self.pages.rows[(new.source_id, new.url)] = PageRow(new.id, None, None, None, pipe.started_at)
        for item in items:
            item.page = self.pages.rows[(item.result.source_id, item.result.url)]

    def _changed(self, items: list[Stored]) -> list[Stored]:
        out = []
        for item in items:
            r = item.result
            if item.outcome == "not_modified" or (item.outcome == "ok" and r.body is None):
                item.outcome = "not_modified"
            elif item.outcome == "ok":
                assert item.page is not None and r.body is not None
                sha = repo.body_hash(r.body)
                if sha == item.page.body_sha256:
                    item.outcome = "unchanged"
                else:
                    item.outcome = "new"
                    item.previous_sha = item.page.body_sha256
                    item.page.body_sha256 = sha
                    out.append(item)
        return out

    def _bodies(self, s: Session, items: list[Stored]) -> None:
        wanted = {i.page.body_sha256: i for i in items if i.page and i.result.body is not None}
        if not wanted:
            return
        have = set(s.scalars(select(Body.sha256).where(Body.sha256.in_(list(wanted)))))
        rows = []
        for sha, item in wanted.items():
            if sha not in have and item.result.body is not None:
                rows.append(repo.body_row(s, item.result.body, item.previous_sha, self.pipe.clock()))
        if rows:
            s.execute(insert(Body.table()), rows)  # Core, not the ORM bulk path: see Base.table

    def _snapshots(self, s: Session, items: list[Stored]) -> None:
        if not items:
            return
        rows = []
        for i in items:
            r, page = i.result, i.page
            assert page is not None
            rows.append({"page_id": page.id, "source_id": r.source_id, "url": r.url, "status": r.status or 200,
                         "etag": r.etag, "last_modified": r.last_modified, "content_type": r.content_type,
                         "body_sha256": page.body_sha256, "fetched_at": r.fetched_at or self.pipe.clock(),
                         "run_id": self.pipe.run_id})
        table = Snapshot.table()
        ids = s.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).all()
        for item, snapshot_id in zip(items, ids):
            item.snapshot_id = snapshot_id
            self.pipe.counts.changed_pages += 1

    def _page_updates(self, s: Session, items: list[Stored]) -> None:
        """Only pages whose body or validators changed are written: an unchanged fetch writes nothing."""
        rows = []
        for item in items:
            page, r = item.page, item.result
            if page is None or item.outcome not in ("new", "unchanged", "not_modified"):
                continue
            etag = r.etag or page.etag
            last_modified = r.last_modified or page.last_modified
            if item.outcome == "new" or etag != page.etag or last_modified != page.last_modified:
                page.etag, page.last_modified = etag, last_modified
                rows.append({"pid": page.id, "sha": page.body_sha256, "snap": item.snapshot_id, "etag": etag,
                             "lm": last_modified, "status": r.status, "at": r.fetched_at or self.pipe.clock(),
                             "new": item.outcome == "new"})
        new = [{"id": r["pid"], "body_sha256": r["sha"], "snapshot_id": r["snap"], "etag": r["etag"],
                "last_modified": r["lm"], "last_status": r["status"], "last_fetched_at": r["at"],
                "ok_fetches_since_change": 0} for r in rows if r["new"]]
        same = [{"id": r["pid"], "etag": r["etag"], "last_modified": r["lm"], "last_status": r["status"],
                 "last_fetched_at": r["at"]} for r in rows if not r["new"]]
        for group in (new, same):  # ORM bulk UPDATE by primary key: one executemany each
            if group:
                s.execute(update(Page), group)

    def _fetch_log(self, s: Session, items: list[Stored]) -> None:
        rows = [{"run_id": self.pipe.run_id, "source_id": i.result.source_id, "url": i.result.url,
                 "outcome": i.outcome, "status": i.result.status, "error": i.error,
                 "elapsed_ms": i.result.elapsed_ms, "fetched_at": i.result.fetched_at or self.pipe.clock()}
                for i in items if i.outcome not in ("unchanged", "not_modified")]
        if rows:
            s.execute(insert(Fetch.table()), rows)

    # ------------------------------------------------------------------ reading

    def _read(self, s: Session, items: list[Stored]) -> None:
        """Facts of the new pages: baselines in bulk, the rest one by one (they may make events)."""
        pages = [i for i in items if i.reading is not None and i.result.role == "page" and i.snapshot_id]
        if not pages:
            return
        # Core rows of the three columns read here: the ORM made 1000 Source objects on a first run for nothing
        sources = {src.id: src for src in s.execute(select(Source.id, Source.baseline_run_id, Source.region).where(
            Source.id.in_(sorted({i.result.source_id for i in pages}))))}
        baseline = [i for i in pages if sources[i.result.source_id].baseline_run_id is None]
        for item in pages:
            if item not in baseline:
                assert item.snapshot_id is not None and item.reading is not None
                self.pipe.extract_snapshot(s, item.snapshot_id, "page", facts=item.reading.facts)
                self.pipe.counts.extracted += 1
        if baseline:
            self._baselines(s, baseline, sources)

    def _baselines(self, s: Session, items: list[Stored], sources: dict[str, Any]) -> None:
        """A source's first reading makes no events: its statements and versions are written at once."""
        pipe = self.pipe
        now = pipe.clock()
        held = {sid: {fact.key: (stored_statement(st, fact), st, fact) for st, fact in rows}
                for sid, rows in repo.statements_by_source(s, sorted({i.result.source_id for i in items})).items()}
        planned: list[tuple[Stored, list[Any], dict[str, Any]]] = []
        needed: list[Any] = []
        for item in items:
            r, src = item.result, sources[item.result.source_id]
            assert item.reading is not None and item.page is not None
            observed = observations(item.reading.facts, src.region)
            stored = held.get(r.source_id, {})
            ctx = SnapshotContext(url=r.url, url_first_seen_at=item.page.first_seen_at, now=now, baselined=False,
                                  settings=pipe.settings)
            ops = diff_snapshot({k: v[0] for k, v in stored.items()}, observed, ctx)
            planned.append((item, ops, stored))
            needed += [op for op in ops if op.identity.key not in stored]
        facts = pipe.fact_keys(s, needed)
        bulk = repo.BulkRows()
        for item, ops, stored in planned:
            r = item.result
            for op in ops:
                held_row = stored.get(op.identity.key)
                st, fact = (held_row[1], held_row[2]) if held_row else (None, facts[op.identity.key])
                pipe.apply(s, op, fact, st, r.source_id, r.url, item.snapshot_id, now, "baseline",
                           first_seen=item.page.first_seen_at if item.page else None, bulk=bulk)
        repo.insert_bulk(s, bulk)
        repo.mark_extracted_many(s, [i.snapshot_id for i, _, _ in planned if i.snapshot_id], EXTRACTOR_VERSION, now)
        pipe.counts.extracted += len(planned)
