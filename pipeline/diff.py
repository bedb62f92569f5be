"""Stored statements × a new snapshot's facts → what changed. Pure: no database, no clock.

Identity is meaning, not wording: a fact's key is (region, scheme, metric,
normalised qualifier, year), so rewording a page yields no event. A source's
first extraction is its baseline and yields none either. The kinds:

* ``added`` — a key the source never stated (and no other source states).
* ``changed`` — same key, new value; ``old`` and ``new`` carried.
* ``new_period`` — a key for a new year whose value differs from the latest
  earlier year's (``old`` = that value); a repeat of last year's value is
  recorded but not alerted.
* ``removed`` — a key absent from the page that stated it for N consecutive
  successful fetches.
* ``conflict`` — two sources state different values for one key (decided
  after all of a run's pages are read, see :func:`conflicts`).

A change that another source already reported (it states the new value) is
not reported again, and a value that flips back to one of its last K
versions within the window is recorded without an alert.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from extractors import Fact
from extractors.keys import qualifier_key

JSONValue = Any  # a number, a string or a sorted list of them


@dataclass(frozen=True, slots=True)
class Identity:
    region: str
    scheme: str
    metric: str
    qualifier_key: str
    year: int | None
    #: the facts table's unique key; asked for tens of thousands of times a run, so made once
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", "|".join((self.region, self.scheme, self.metric, self.qualifier_key,
                                                   str(self.year or ""))))

    def earlier_years_prefix(self) -> str:
        return "|".join((self.region, self.scheme, self.metric, self.qualifier_key)) + "|"


@dataclass(frozen=True, slots=True)
class Observed:
    identity: Identity
    value: JSONValue
    unit: str
    province: str | None
    qualifier: str | None
    evidence: str


@dataclass(frozen=True, slots=True)
class Stored:
    identity: Identity
    value: JSONValue
    url: str
    url_first_seen_at: datetime
    removed: bool = False
    missing_fetches: int = 0
    history: tuple[tuple[JSONValue, datetime], ...] = ()  # this source's earlier values, newest first


@dataclass(frozen=True, slots=True)
class DiffSettings:
    removed_after: int = 3
    flip_versions: int = 3
    flip_window_days: float = 30
    notify_extractor_changes: bool = False


@dataclass(frozen=True, slots=True)
class SnapshotContext:
    url: str
    url_first_seen_at: datetime
    now: datetime
    baselined: bool
    cause: str = "page"  # page | extractor
    others: dict[str, list[tuple[str, JSONValue]]] = field(default_factory=dict)  # key → other sources' values
    earlier_year: dict[str, JSONValue] = field(default_factory=dict)  # key → latest earlier year's value
    settings: DiffSettings = DiffSettings()


@dataclass(frozen=True, slots=True)
class EventSpec:
    kind: str
    old: JSONValue
    new: JSONValue
    notify: bool = True
    suppressed: str | None = None


@dataclass(frozen=True, slots=True)
class Op:
    """What to do with one key's statement for this source."""

    action: str  # insert | update | touch | missing | remove | keep
    identity: Identity
    observed: Observed | None = None
    missing_fetches: int = 0
    event: EventSpec | None = None
    version: bool = False  # append a fact version


def value_of(facts: list[Fact]) -> JSONValue:
    """One key's value: the figure, or the sorted figures when a page states several (two phones)."""
    if len(facts) == 1 and isinstance(facts[0].value, (int, float, str)):
        return facts[0].value  # what the JSON round trip below would give back
    values = sorted({json.dumps(f.value, ensure_ascii=False) for f in facts})
    decoded = [json.loads(v) for v in values]
    return decoded[0] if len(decoded) == 1 else decoded


def identity_of(fact: Fact, default_region: str | None) -> Identity:
    return Identity(
        region=fact.region or default_region or "",
        scheme=fact.scheme or "",
        metric=fact.metric,
        qualifier_key=qualifier_key(fact.metric, fact.qualifier),
        year=fact.year,
    )


def observations(facts: Iterable[Fact], default_region: str | None) -> dict[str, Observed]:
    grouped: dict[str, list[Fact]] = {}
    identities: dict[str, Identity] = {}
    for f in facts:
        ident = identity_of(f, default_region)
        grouped.setdefault(ident.key, []).append(f)
        identities[ident.key] = ident
    out = {}
    for key, group in grouped.items():
        first = group[0]
        qualifiers = [f.qualifier for f in group if f.qualifier]
        out[key] = Observed(identities[key], value_of(group), first.unit, first.province,
                            qualifiers[0] if qualifiers else None, first.evidence)
    return out


def _flip_back(stored: Stored, value: JSONValue, ctx: SnapshotContext) -> bool:
    k = ctx.settings.flip_versions
    if k <= 0:
        return False
    horizon = ctx.now - timedelta(days=ctx.settings.flip_window_days)
    recent = [v for v, at in stored.history[:k] if at >= horizon]
    return value in recent


def _notify(ctx: SnapshotContext, event: EventSpec) -> EventSpec:
    if ctx.cause == "extractor" and not ctx.settings.notify_extractor_changes and event.notify:
        return EventSpec(event.kind, event.old, event.new, False, "extractor changed")
    return event


def _new_key_event(key: str, obs: Observed, ctx: SnapshotContext) -> EventSpec | None:
    others = ctx.others.get(key, [])
    if any(v == obs.value for _, v in others):
        return None  # another source already told us
    if others:
        return None  # a disagreement: reported as a conflict after the run
    if key in ctx.earlier_year:
        previous = ctx.earlier_year[key]
        if previous == obs.value:
            return EventSpec("new_period", previous, obs.value, False, "same as the previous year")
        return EventSpec("new_period", previous, obs.value)
    return EventSpec("added", None, obs.value)


def diff_snapshot(stored: dict[str, Stored], observed: dict[str, Observed], ctx: SnapshotContext) -> list[Op]:
    """Ops for every key this snapshot states, and for keys its URL stated before but not now."""
    ops: list[Op] = []
    for key, obs in observed.items():
        old = stored.get(key)
        if old is None or old.removed:
            event = _new_key_event(key, obs, ctx) if ctx.baselined else None
            ops.append(Op("insert" if old is None else "update", obs.identity, obs,
                          event=_notify(ctx, event) if event else None, version=True))
            continue
        if old.value == obs.value:
            ops.append(Op("touch", obs.identity, obs))
            continue
        if old.url != ctx.url and ctx.url_first_seen_at < old.url_first_seen_at:
            ops.append(Op("keep", obs.identity, obs))  # an older article restating an old value
            continue
        if not ctx.baselined:
            event = None
        elif any(v == obs.value for _, v in ctx.others.get(key, [])):
            event = None  # the region already knows the new value
        elif _flip_back(old, obs.value, ctx):
            event = EventSpec("changed", old.value, obs.value, False, "flipped back to a recent value")
        else:
            event = EventSpec("changed", old.value, obs.value)
        ops.append(Op("update", obs.identity, obs, event=_notify(ctx, event) if event else None, version=True))
    for key, old in stored.items():
        if key in observed or old.removed or old.url != ctx.url:
            continue
        ops.append(missing_op(old, ctx.settings, ctx, fetches=1))
    return ops


def missing_op(old: Stored, settings: DiffSettings, ctx: SnapshotContext | None, fetches: int = 1) -> Op:
    """A key its page no longer states: count the fetch, and remove it after N in a row."""
    count = old.missing_fetches + fetches
    if count < settings.removed_after:
        return Op("missing", old.identity, missing_fetches=count)
    event = EventSpec("removed", old.value, None)
    if ctx is not None:
        event = _notify(ctx, event)
    return Op("remove", old.identity, missing_fetches=count, event=event, version=True)


def conflict_signature(key: str, values: Iterable[tuple[str, JSONValue]]) -> str:
    """Stable id of one disagreement, so it is reported once, not on every run."""
    parts = sorted(f"{s}={json.dumps(v, ensure_ascii=False, sort_keys=True)}" for s, v in values)
    return hashlib.sha1(("conflict|" + key + "|" + "|".join(parts)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ConflictSpec:
    key: str
    signature: str
    source_id: str  # the source whose value differs from the older statement
    old: JSONValue
    new: JSONValue


def conflicts(statements: dict[str, list[tuple[str, JSONValue, datetime]]], known: set[str]) -> list[ConflictSpec]:
    """Keys whose sources disagree, minus disagreements already reported.

    ``statements`` maps a key to its current (source, value, changed_at);
    ``old`` is the value stated longest, ``new`` the most recently stated.
    """
    out = []
    for key, rows in statements.items():
        if len({json.dumps(v, sort_keys=True) for _, v, _ in rows}) < 2:
            continue
        sig = conflict_signature(key, [(s, v) for s, v, _ in rows])
        if sig in known:
            continue
        ordered = sorted(rows, key=lambda r: r[2])
        oldest, newest = ordered[0], ordered[-1]
        if newest[1] == oldest[1]:
            newest = next(r for r in reversed(ordered) if r[1] != oldest[1])
        out.append(ConflictSpec(key, sig, newest[0], oldest[1], newest[1]))
    return out
