"""The stages of one run and their transaction boundaries.

crawl    — one transaction per fetch: the fetch log, the page's validators,
           a new body and snapshot when the content changed, and the
           removal count of figures the unchanged page still lacks.
extract  — one transaction per snapshot not yet read by this extractor
           version: fact versions + change events + outbox rows together,
           so a crash loses or duplicates none of them.
conflict — after all pages: disagreements between sources, once each.
health   — sources failing N runs in a row raise one notice; recovery one more.
deliver  — pending outbox rows, one message per batch; a row is marked
           sent only after the channel confirmed.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from alerts import Change, DeliveryFailed, HealthNotice, Notice, make_channel
from crawler import CrawlSource, FetchResult, Validators, polite_settings
from crawler.child import CrawlChild
from extractors import EXTRACTOR_VERSION, Fact
from storage import repo
from storage.db import transaction
from storage.models import ChangeEvent, Delivery, FactKey, Page, Snapshot, Source, Statement

from .config import AlertBase, AppriseAlert, Config, EmailAlert, FileAlert, SourceConfig, WebhookAlert
from .progress import Progress, progress
from .diff import (DiffSettings, Identity, Op, SnapshotContext, Stored, conflicts, diff_snapshot, missing_op,
                   observations)
from .routing import batch_for, matches
from .batch import BatchStore, Job
from .writer import Writer, WriterReport

if TYPE_CHECKING:
    from extractors import Reading

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@dataclass
class RunCounts:
    fetched: int = 0
    changed_pages: int = 0
    unchanged_pages: int = 0
    failed_fetches: int = 0
    extracted: int = 0
    extract_errors: int = 0
    events: Counter[str] = field(default_factory=Counter)
    notified: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    failed_sources: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"fetched": self.fetched, "changed_pages": self.changed_pages, "unchanged_pages": self.unchanged_pages,
                "failed_fetches": self.failed_fetches, "extracted": self.extracted,
                "extract_errors": self.extract_errors, "events": dict(self.events), "notified": self.notified,
                "delivered": self.delivered, "delivery_failures": self.delivery_failures,
                "failed_sources": sorted(self.failed_sources)}


def diff_settings(config: Config) -> DiffSettings:
    d = config.diff
    return DiffSettings(d.removed_after, d.flip_versions, d.flip_window_days, d.notify_extractor_changes)


def crawl_source(src: SourceConfig) -> CrawlSource:
    return CrawlSource(src.id, src.url, src.kind, src.follow, src.max_articles, src.crawl_overrides())


def scrapy_settings(config: Config) -> dict[str, Any]:
    c = config.crawl
    return polite_settings(c.user_agent, c.contact, **c.scrapy_overrides())


def read_fetch(config: Config | None, result: FetchResult) -> Reading | None:
    """A fetched body read once, with its source's region; None for listings, 304s and failures."""
    from extractors import read_page

    if result.outcome != "ok" or result.body is None or result.role == "listing":
        return None
    src = config.source_by_id(result.source_id) if config else None
    try:
        return read_page(result.body, result.url, src.region if src else None, src.province if src else None,
                         result.content_type)
    except Exception:  # noqa: BLE001 - stored anyway; extract_pending records the failure
        log.exception("reading %s failed", result.url)
        return None


class Pipeline:
    def __init__(self, config: Config, factory: sessionmaker[Session], run_id: int,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.started_at = clock()
        self.factory = factory
        self.run_id = run_id
        self.clock = clock
        self.counts = RunCounts()
        self.settings = diff_settings(config)
        self.sources = {s.id: s for s in config.source}
        self.channels = config.channels()
        self.source_ok: dict[str, bool] = {}
        self.source_error: dict[str, str] = {}
        self.source_gone: set[str] = set()
        # unchanged fetches write no fetch-log row (storage grows with changes, not runs): their time
        # and timing go to source_health once, at the end of the run
        self.quiet_fetches: dict[str, tuple[datetime, int | None]] = {}
        self.missing_at = self._pages_with_missing_figures()
        self.progress: Progress = Progress("", stream=io.StringIO())  # silent until the crawl starts
        self.batch = BatchStore(self)

    # ------------------------------------------------------------------ sync

    def sync_sources(self, only: list[SourceConfig]) -> None:
        with transaction(self.factory) as s:
            repo.sync_sources(s, [{"id": src.id, "url": src.url, "kind": src.kind, "region": src.region,
                                   "province": src.province} for src in only], self.clock())

    # ------------------------------------------------------------------ crawl

    def crawl(self, sources: list[SourceConfig], child: CrawlChild | None = None) -> None:
        """Fetch the sources in ``child`` (a crawl process forked early, see crawler.child; else one now)."""
        with transaction(self.factory) as s:
            known = {url: Validators(etag, lm) for url, (etag, lm) in repo.validators(s).items()}
            articles = repo.known_articles(s)
            hashes = repo.body_hashes(s)
        stored = {source_id for source_id, _ in hashes}
        writer = Writer(self.config, self.run_id, self.started_at, eager=any(src.id not in stored for src in sources))

        def on_result(result: FetchResult) -> None:
            """Each fetch the crawl process sends: note it; hand the writer only what it has to write or read."""
            self.note_fetch(result)
            key = (result.source_id, result.url)
            changed = result.body is not None and repo.body_hash(result.body) != hashes.get(key)
            if self._quiet(result, changed, known.get(result.url)):
                return
            writer.put((result, changed))

        child = child or CrawlChild()
        try:
            with child, progress("crawl") as self.progress:
                outcome = child.crawl([crawl_source(src) for src in sources], known, on_result,
                                      scrapy_settings(self.config), known_urls=articles)
            if outcome.callback_error is not None:
                raise outcome.callback_error
            report = writer.finish()
        except BaseException:
            writer.abandon()
            raise
        self._merge(report)
        for src in sources:
            if src.id not in self.source_ok:
                self.source_ok[src.id] = False
                self.source_error.setdefault(src.id, "no response (the crawl did not reach this source)")

    def _quiet(self, result: FetchResult, changed: bool, known: Validators | None) -> bool:
        """A 304, or the same body under the same validators, writes nothing: it is counted here."""
        if result.outcome == "not_modified":
            same = True
        elif result.outcome == "ok" and result.body is not None and not changed and known is not None:
            same = (result.etag or known.etag) == known.etag and (
                result.last_modified or known.last_modified) == known.last_modified
        else:
            same = False
        if not same or (result.source_id, result.url) in self.missing_at:
            return False  # a page still missing a figure counts toward `removed`: the writer does that
        self.counts.unchanged_pages += 1
        self.quiet_fetches[result.source_id] = (result.fetched_at or self.clock(), result.elapsed_ms)
        return True

    def _merge(self, report: WriterReport) -> None:
        """What the writer process did, into this run's counts and health."""
        c = self.counts
        c.changed_pages += report.counts.get("changed_pages", 0)
        c.unchanged_pages += report.counts.get("unchanged_pages", 0)
        c.extracted += report.counts.get("extracted", 0)
        c.notified += report.counts.get("notified", 0)
        c.events.update(report.events)
        self.quiet_fetches.update(report.quiet)
        for source_id, why in report.blocked.items():
            self.note_blocked(source_id, why)

    def on_fetch(self, result: FetchResult) -> None:
        """Store one fetch in one transaction (tests and small runs; the writer process stores batches)."""
        self.note_fetch(result)
        blocked = self.store_batch([(result, None)])
        for source_id, why in blocked.items():
            self.note_blocked(source_id, why)

    def store_batch(self, jobs: list[Job]) -> dict[str, str]:
        """Store fetches in one transaction; returns source → why its page was a wall."""
        try:
            with transaction(self.factory) as s:
                return self.batch.store(s, jobs)
        except BaseException:
            self.batch.pages.forget()
            raise

    def note_fetch(self, result: FetchResult) -> None:
        """What a fetch says about its source's health; no database."""
        self.counts.fetched += 1
        if result.role in ("page", "listing"):
            self.source_ok[result.source_id] = result.outcome in ("ok", "not_modified")
            if result.error:
                self.source_error[result.source_id] = f"{result.url}: {result.error}"
            if result.status in (404, 410) or (result.error or "").startswith("redirected to another host"):
                # the page is gone or moved away: broken now, not after N runs; its facts stay
                self.source_gone.add(result.source_id)
                self.source_error[result.source_id] = f"{result.url}: {result.error or result.status} (the page " \
                                                      "is gone or moved; check the source URL)"
        if result.outcome not in ("ok", "not_modified"):
            self.counts.failed_fetches += 1
        self.progress.advance(item=result.url)

    def note_blocked(self, source_id: str, error: str) -> None:
        self.source_ok[source_id] = False
        self.source_error[source_id] = error
        self.counts.failed_fetches += 1

    def read(self, result: FetchResult) -> Reading | None:
        """Parse a fetched body that may be new; None when there is nothing to read (or reading failed)."""
        return read_fetch(self.config, result)

    def count_missing(self, s: Session, source_id: str, url: str, at: datetime) -> None:
        """An unchanged page still lacks what it stopped stating: one more fetch toward `removed`."""
        for st, fact in repo.statements_at(s, source_id, url):
            if st.removed or st.missing_fetches == 0:
                continue
            stored = Stored(_identity(fact), repo.loads(st.value), st.url, _aware(st.url_first_seen_at),
                            st.removed, st.missing_fetches)
            op = missing_op(stored, self.settings, None)
            self.apply(s, op, fact, st, source_id, url, None, at, "page")

    # ------------------------------------------------------------------ extract

    def extract_pending(self) -> None:
        with transaction(self.factory) as s:
            pending = repo.pending_snapshots(s, EXTRACTOR_VERSION)
        with progress("extract", total=len(pending)) as bar:
            for snapshot_id, read_by in pending:
                cause = "page" if read_by is None else "extractor"
                try:
                    with transaction(self.factory) as s:
                        self.extract_snapshot(s, snapshot_id, cause)
                    self.counts.extracted += 1
                except ExtractionFailed as exc:
                    self.counts.extract_errors += 1
                    log.error("snapshot %s: %s", snapshot_id, exc)
                    with transaction(self.factory) as s:
                        repo.mark_extracted(s, snapshot_id, EXTRACTOR_VERSION, self.clock(), str(exc))
                bar.advance()

    def _pages_with_missing_figures(self) -> set[tuple[str, str]]:
        with transaction(self.factory) as s:
            return repo.pages_with_missing_statements(s)

    def extract_snapshot(self, s: Session, snapshot_id: int, cause: str, facts: list[Fact] | None = None) -> None:
        snap = s.get(Snapshot, snapshot_id)
        assert snap is not None
        source = s.get(Source, snap.source_id)
        page = s.get(Page, snap.page_id)
        assert source is not None and page is not None
        if facts is None:
            from extractors import extract_facts

            body = repo.body_bytes(s, snap.body_sha256)
            try:
                facts = extract_facts(body, url=snap.url, observed_at=snap.fetched_at, region_hint=source.region,
                                      province_hint=source.province, content_type=snap.content_type)
            except Exception as exc:  # noqa: BLE001 - an extractor bug must not stop the run
                raise ExtractionFailed(f"{snap.url}: the extractor failed ({type(exc).__name__}: {exc})") from exc
        now = self.clock()
        observed = observations(facts, source.region)
        rows = repo.statements_of(s, source.id)
        by_key = {fact.key: (st, fact) for st, fact in rows}
        changed = [fact.id for st, fact in rows if fact.key in observed and repo.loads(st.value) !=
                   observed[fact.key].value]
        history = repo.histories(s, source.id, changed, self.settings.flip_versions)
        stored = {fact.key: Stored(_identity(fact), repo.loads(st.value), st.url, st.url_first_seen_at,
                                   st.removed, st.missing_fetches, tuple(history.get(fact.id, ())))
                  for st, fact in rows}
        baselined = source.baseline_run_id is not None
        prefixes = {k: (o.identity.earlier_years_prefix(), o.identity.year) for k, o in observed.items()
                    if o.identity.year is not None and k not in stored} if baselined else {}
        ctx = SnapshotContext(
            url=snap.url, url_first_seen_at=page.first_seen_at, now=now, baselined=baselined, cause=cause,
            # a baseline makes no events, so it needs neither other sources' values nor earlier years
            others=repo.other_statements(s, observed.keys(), source.id) if baselined else {},
            earlier_year=repo.earlier_year_values(s, prefixes), settings=self.settings,
        )
        ops = diff_snapshot(stored, observed, ctx)
        facts_for = self.fact_keys(s, [op for op in ops if op.identity.key not in by_key])
        bulk = repo.BulkRows()
        for op in ops:
            st, held = by_key.get(op.identity.key, (None, None))
            fact: repo.FactIdentity = held if held is not None else facts_for[op.identity.key]
            self.apply(s, op, fact, st, source.id, snap.url, snap.id, now, cause if ctx.baselined else "baseline",
                        first_seen=page.first_seen_at, bulk=bulk)
        repo.insert_bulk(s, bulk)
        repo.mark_extracted(s, snap.id, EXTRACTOR_VERSION, now)

    def fact_keys(self, s: Session, ops: list[Op]) -> dict[str, repo.FactIdentity]:
        """The identities these ops need that this source never stated: existing ones, then the rest created."""
        keys = sorted({op.identity.key for op in ops})
        found = repo.facts_by_key(s, keys)
        missing: dict[str, dict[str, Any]] = {}
        for op in ops:
            key = op.identity.key
            if key in found or key in missing or op.observed is None:
                continue
            i, obs = op.identity, op.observed
            missing[key] = {"key": key, "region": i.region, "province": obs.province, "scheme": i.scheme,
                            "metric": i.metric, "qualifier_key": i.qualifier_key, "year": i.year, "unit": obs.unit}
        if missing:
            found.update(repo.new_fact_keys(s, list(missing.values())))
        return found

    def close_baselines(self) -> None:
        """Sources read for the first time are baselined at the end of the run that read them.

        Not earlier: a run killed half-way through a listing's articles must
        leave the rest to be read as baseline too, not as `added`. And not
        only this run's: a source whose pages were all read by a run that was
        killed before this point is baselined by the next run to get here.
        """
        now = self.clock()
        with transaction(self.factory) as s:
            repo.baseline_sources_with_reads(s, now, self.run_id)

    def apply(self, s: Session, op: Op, fact: repo.FactIdentity, st: Statement | None, source_id: str, url: str,
               snapshot_id: int | None, now: datetime, cause: str, first_seen: datetime | None = None,
               bulk: repo.BulkRows | None = None) -> None:
        """Write one op. New statements and versions go to ``bulk`` when given: one executemany, not N objects."""
        obs = op.observed
        if op.action in ("insert", "update", "touch", "keep") and obs is not None:
            if st is None:
                row = dict(fact_id=fact.id, source_id=source_id, url=url, value=repo.dumps(obs.value),
                           qualifier=obs.qualifier, evidence=obs.evidence, snapshot_id=snapshot_id,
                           url_first_seen_at=first_seen or now, first_seen_at=now, last_seen_at=now,
                           missing_fetches=0, removed=False)
                if bulk is not None:
                    bulk.statements.append(row)
                else:
                    s.add(Statement(**row))
            elif op.action in ("update", "insert"):
                if repo.loads(st.value) != obs.value or st.removed:
                    st.first_seen_at = now
                st.value, st.qualifier, st.evidence = repo.dumps(obs.value), obs.qualifier, obs.evidence
                st.url, st.snapshot_id, st.removed, st.missing_fetches = url, snapshot_id, False, 0
                st.url_first_seen_at, st.last_seen_at = first_seen or st.url_first_seen_at, now
            elif op.action == "touch":
                st.last_seen_at, st.missing_fetches = now, 0
                if st.url == url:
                    st.evidence, st.qualifier, st.snapshot_id = obs.evidence, obs.qualifier, snapshot_id
        elif op.action in ("missing", "remove") and st is not None:
            st.missing_fetches = op.missing_fetches
            if op.action == "remove":
                st.removed = True
        if op.version:
            value = obs.value if obs is not None and op.action != "remove" else None
            version = repo.version_row(fact.id, source_id, value, obs.qualifier if obs else None,
                                       obs.evidence if obs else "", url, snapshot_id, EXTRACTOR_VERSION, now,
                                       self.run_id, cause)
            if bulk is not None:
                bulk.versions.append(version)
            else:
                repo.insert_versions(s, [version])
        if op.event is not None:
            evidence = obs.evidence if obs else (st.evidence if st else "")
            qualifier = obs.qualifier if obs else (st.qualifier if st else None)
            self._event(s, fact, source_id, op.event.kind, op.event.old, op.event.new, qualifier, url, evidence, now,
                        "extractor" if cause == "extractor" else "page", op.event.notify, op.event.suppressed)

    def _event(self, s: Session, fact: repo.FactIdentity, source_id: str, kind: str, old: Any, new: Any,
               qualifier: str | None, url: str, evidence: str, now: datetime, cause: str, notify: bool,
               suppressed: str | None, uid: str | None = None) -> ChangeEvent:
        event = repo.add_event(s, fact, source_id, kind, old, new, qualifier, url, evidence, now, self.run_id,
                               cause, notify, suppressed, uid)
        self.counts.events[kind] += 1
        if notify:
            self.counts.notified += 1
            for name, alert in self.channels.items():
                if matches(alert, event.region, event.province, event.scheme, event.metric, kind,
                           event.old_value, event.new_value):
                    repo.enqueue(s, name, batch_for(alert, name, self.run_id, event.uid), now, event_id=event.id)
        return event

    def after_crawl(self, sources: list[SourceConfig]) -> None:
        """Every stage after fetching; also what a run with nothing to fetch does."""
        self.extract_pending()
        self.close_baselines()
        self.find_conflicts()
        self.update_health(sources)
        self.deliver()

    # ------------------------------------------------------------------ conflicts

    def find_conflicts(self) -> None:
        with transaction(self.factory) as s:
            current = repo.current_statements(s)
            if not current:
                return
            found = conflicts(current, set())
            for c in found:
                if repo.event_uid_exists(s, c.signature[:40]):
                    continue
                fact = s.scalar(_select_fact(c.key))
                st = s.get(Statement, (fact.id, c.source_id)) if fact else None
                if fact is None or st is None:
                    continue
                self._event(s, fact, c.source_id, "conflict", c.old, c.new, st.qualifier, st.url, st.evidence,
                            self.clock(), "page", True, None, uid=c.signature[:40])

    # ------------------------------------------------------------------ health

    def update_health(self, sources: list[SourceConfig]) -> None:
        """One transaction for every source; the common case (ok, and ok before) is one bulk UPDATE."""
        now = self.clock()
        with transaction(self.factory) as s:
            rows = repo.health_rows(s, [src.id for src in sources])
            quiet_ok: list[dict[str, Any]] = []
            first_ok: list[dict[str, Any]] = []  # new sources that answered: inserted in bulk, no ORM objects
            for src in sources:
                fetched_at, elapsed = self.quiet_fetches.get(src.id, (now, None))
                ok = self.source_ok.get(src.id, False)
                row = rows.get(src.id)
                if row is None and ok:
                    first_ok.append({"source_id": src.id, "consecutive_failures": 0, "broken": False,
                                     "last_ok_at": now, "last_status": "ok", "last_error": None,
                                     "last_run_id": self.run_id, "last_fetched_at": fetched_at,
                                     "last_elapsed_ms": elapsed})
                    continue
                if row is None:
                    row = repo.new_health(s, src.id)
                if ok:
                    if not row.broken and row.consecutive_failures == 0 and row.last_status == "ok":
                        quiet_ok.append({"sid": src.id, "at": fetched_at, "ms": elapsed, "run": self.run_id})
                        continue
                    if row.broken:
                        self._health_notice(s, src, "recovered", row.consecutive_failures, None, now)
                    row.consecutive_failures, row.broken, row.last_ok_at = 0, False, now
                    row.last_status, row.last_error, row.last_run_id = "ok", None, self.run_id
                    row.last_fetched_at, row.last_elapsed_ms = fetched_at, elapsed
                    continue
                self.counts.failed_sources.add(src.id)
                row.consecutive_failures += 1
                row.last_status, row.last_error = "failed", self.source_error.get(src.id)
                row.last_run_id, row.last_fetched_at = self.run_id, now
                gone = src.id in self.source_gone
                if not row.broken and (row.consecutive_failures >= self.config.alerts.health_failures or gone):
                    row.broken = True
                    self._health_notice(s, src, "broken", row.consecutive_failures, row.last_error, now)
            s.flush()
            repo.touch_health(s, quiet_ok)
            repo.insert_health(s, first_ok)

    def _health_notice(self, s: Session, src: SourceConfig, state: str, failures: int, error: str | None,
                       now: datetime) -> None:
        notice = HealthNotice(src.id, src.url, state, failures, error, now.isoformat())
        uid = f"health:{src.id}:{state}:{self.run_id}"
        for name, alert in self.channels.items():
            if alert.health:
                repo.enqueue(s, name, f"{name}:run:{self.run_id}", now, notice_uid=uid, notice=notice.as_dict())

    # ------------------------------------------------------------------ deliver

    def deliver(self) -> None:
        now = self.clock()
        with transaction(self.factory) as s:
            due = repo.due_deliveries(s, now, self.channels)
            batches: dict[tuple[str, str], list[int]] = {}
            for d in due:
                batches.setdefault((d.channel, d.batch), []).append(d.id)
        for (channel, batch), ids in batches.items():
            self._deliver_batch(channel, batch, ids)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential: base, 2×base, 4×base … capped, between one attempt and the next."""
        a = self.config.alerts
        return timedelta(seconds=min(a.retry_max_seconds, a.retry_base_seconds * 2 ** (attempts - 1)))

    def _deliver_batch(self, channel: str, batch: str, ids: list[int]) -> None:
        with transaction(self.factory) as s:
            found = [s.get(Delivery, i) for i in ids]
            rows = [r for r in found if r is not None and r.status == "pending"]
            notice = build_notice(s, batch, rows)
        try:
            make_channel_for(self.channels[channel], channel).send(notice)
        except DeliveryFailed as exc:
            self.counts.delivery_failures += 1
            log.warning("delivery %s via %s failed: %s", batch, channel, exc)
            with transaction(self.factory) as s:
                for i in ids:
                    row = s.get(Delivery, i)
                    if row is None:
                        continue
                    row.attempts += 1
                    row.last_error = str(exc)
                    if exc.retry and row.attempts < self.config.alerts.max_attempts:
                        row.next_attempt_at = self.clock() + self.backoff(row.attempts)
                    else:
                        row.status = "failed"
            return
        with transaction(self.factory) as s:
            for i in ids:
                row = s.get(Delivery, i)
                if row is not None:
                    row.status, row.sent_at, row.attempts = "sent", self.clock(), row.attempts + 1
        self.counts.delivered += len(ids)


class ExtractionFailed(Exception):
    pass


def _identity(fact: FactKey) -> Identity:
    return Identity(fact.region, fact.scheme, fact.metric, fact.qualifier_key, fact.year)


def _select_fact(key: str) -> Any:
    from sqlalchemy import select

    return select(FactKey).where(FactKey.key == key)


def delivery_id(batch: str) -> str:
    """Stable across retries: derived from the batch, which never changes once written."""
    return hashlib.sha256(batch.encode()).hexdigest()[:32]


def change_of(event: ChangeEvent) -> Change:
    return Change(
        event_id=event.uid, kind=event.kind, region=event.region or None, province=event.province,
        scheme=event.scheme or None, metric=event.metric, qualifier=event.qualifier, year=event.year,
        old=repo.loads(event.old_value), new=repo.loads(event.new_value), unit=event.unit,
        source_url=event.source_url, evidence=event.evidence, detected_at=_aware(event.detected_at).isoformat(),
    )


def build_notice(s: Session, batch: str, rows: list[Delivery]) -> Notice:
    events = repo.events_by_id(s, [r.event_id for r in rows if r.event_id is not None])
    changes = tuple(change_of(events[r.event_id]) for r in rows if r.event_id is not None and r.event_id in events)
    health = tuple(HealthNotice(**json.loads(r.notice)) for r in rows if r.notice)
    run_ids = {e.run_id for e in events.values()}
    run_id = run_ids.pop() if len(run_ids) == 1 else None
    if run_id is None and ":run:" in batch:
        run_id = int(batch.rsplit(":", 1)[1])
    return Notice(delivery_id=delivery_id(batch), run_id=run_id, changes=changes, health=health)


def make_channel_for(alert: AlertBase, name: str) -> Any:
    if isinstance(alert, WebhookAlert):
        return make_channel("webhook", name=name, url=alert.url, secret_env=alert.secret_env, timeout=alert.timeout)
    if isinstance(alert, EmailAlert):
        return make_channel("email", name=name, smtp=alert.smtp, sender=alert.from_, to=alert.to,
                            password_env=alert.password_env, ca_file=alert.ca_file, timeout=alert.timeout)
    if isinstance(alert, AppriseAlert):
        return make_channel("apprise", name=name, urls=alert.urls, max_chars=alert.max_chars)
    if isinstance(alert, FileAlert):
        return make_channel("file", name=name, path=alert.path)
    raise ValueError(f"unknown alert {alert!r}")
