"""What analysts open: current figures, a wide table, the history and the change events.

CSV is written UTF-8 with a BOM so Excel shows Chinese; ``.xlsx`` works too.
Every text cell a scraped page could control is neutralised against
spreadsheet formula injection (a leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a leading apostrophe); numbers stay numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import ensure_schema, make_engine, session_factory, transaction
from storage.models import ChangeEvent, FactKey, FactVersion, Statement

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ExportFilter:
    regions: list[str] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None


def neutralise(value: Any) -> Any:
    """'=HYPERLINK(…)' → "'=HYPERLINK(…)"; numbers and None pass through."""
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def _display(value_json: str | None) -> Any:
    if value_json is None:
        return None
    value = json.loads(value_json)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value


def _naive(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=None) if dt is not None and dt.tzinfo else dt


def current_frame(s: Session) -> pd.DataFrame:
    rows = s.execute(select(FactKey, Statement).join(Statement, Statement.fact_id == FactKey.id)
                     .where(Statement.removed.is_(False))).tuples()
    return pd.DataFrame([{
        "region": f.region, "province": f.province, "scheme": f.scheme, "metric": f.metric,
        "qualifier": st.qualifier, "year": f.year, "value": _display(st.value), "unit": f.unit, "source": st.source_id,
        "source_url": st.url, "evidence": st.evidence, "first_seen": _naive(st.first_seen_at),
        "last_seen": _naive(st.last_seen_at),
    } for f, st in rows], columns=["region", "province", "scheme", "metric", "qualifier", "year", "value", "unit",
                                   "source", "source_url", "evidence", "first_seen", "last_seen"])


def history_frame(s: Session) -> pd.DataFrame:
    rows = s.execute(select(FactKey, FactVersion).join(FactVersion, FactVersion.fact_id == FactKey.id)
                     .order_by(FactKey.region, FactKey.metric, FactVersion.id)).tuples()
    return pd.DataFrame([{
        "region": f.region, "province": f.province, "scheme": f.scheme, "metric": f.metric,
        "qualifier": v.qualifier, "year": f.year, "value": _display(v.value), "unit": f.unit, "source": v.source_id,
        "source_url": v.url, "evidence": v.evidence, "observed_at": _naive(v.observed_at), "cause": v.cause,
        "extractor_version": v.extractor_version,
    } for f, v in rows], columns=["region", "province", "scheme", "metric", "qualifier", "year", "value", "unit",
                                  "source", "source_url", "evidence", "observed_at", "cause", "extractor_version"])


def changes_frame(s: Session) -> pd.DataFrame:
    rows = s.scalars(select(ChangeEvent).order_by(ChangeEvent.id))
    return pd.DataFrame([{
        "event_id": e.uid, "run_id": e.run_id, "kind": e.kind, "region": e.region, "province": e.province,
        "scheme": e.scheme, "metric": e.metric, "qualifier": e.qualifier, "year": e.year,
        "old": _display(e.old_value), "new": _display(e.new_value), "unit": e.unit, "source": e.source_id,
        "source_url": e.source_url, "evidence": e.evidence, "detected_at": _naive(e.detected_at), "cause": e.cause,
        "alerted": e.notify, "suppressed": e.suppressed,
    } for e in rows], columns=["event_id", "run_id", "kind", "region", "province", "scheme", "metric", "qualifier",
                               "year", "old", "new", "unit", "source", "source_url", "evidence", "detected_at",
                               "cause", "alerted", "suppressed"])


def wide_frame(s: Session) -> pd.DataFrame:
    cur = current_frame(s)
    if cur.empty:
        return pd.DataFrame(columns=["region", "province", "scheme"])
    cur = cur.sort_values(["year"], na_position="first")
    cur["column"] = cur["metric"] + cur["qualifier"].fillna("").map(lambda q: f"[{q}]" if q else "")
    wide = cur.pivot_table(index=["region", "province", "scheme"], columns="column", values="value",
                           aggfunc="last", dropna=False)
    return wide.reset_index().dropna(axis=1, how="all")


FRAMES = {"current": current_frame, "history": history_frame, "changes": changes_frame, "wide": wide_frame}
TIME_COLUMN = {"current": "last_seen", "history": "observed_at", "changes": "detected_at"}


def apply_filter(df: pd.DataFrame, what: str, flt: ExportFilter) -> pd.DataFrame:
    if flt.regions and "region" in df:
        df = df[df["region"].isin(flt.regions)]
    if flt.provinces and "province" in df:
        df = df[df["province"].isin(flt.provinces)]
    if flt.metrics and "metric" in df:
        df = df[df["metric"].isin(flt.metrics)]
    column = TIME_COLUMN.get(what)
    if column and column in df:
        if flt.since is not None:
            df = df[df[column] >= pd.Timestamp(flt.since)]
        if flt.until is not None:
            df = df[df[column] < pd.Timestamp(flt.until)]
    return df


def frame(url: str, what: str, flt: ExportFilter | None = None) -> pd.DataFrame:
    if what not in FRAMES:
        raise ValueError(f"unknown export {what!r}; valid: {', '.join(FRAMES)}")
    engine = make_engine(url)
    ensure_schema(engine)
    try:
        with transaction(session_factory(engine)) as s:
            df = FRAMES[what](s)
    finally:
        engine.dispose()
    return apply_filter(df, what, flt or ExportFilter())


def safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def export_table(url: str, what: str, path: Path, flt: ExportFilter | None = None) -> int:
    df = safe(frame(url, what, flt))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        df.to_excel(path, index=False, engine="openpyxl")
    elif path.suffix.lower() == ".csv":
        df.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        raise ValueError(f"{path}: write .csv or .xlsx")
    return len(df)


def history_lines(url: str, region: str, metric: str | None, scheme: str | None) -> list[str]:
    df = frame(url, "history", ExportFilter(regions=[region], metrics=[metric] if metric else []))
    if scheme:
        df = df[df["scheme"] == scheme]
    lines = []
    for (m, sch, q, y), group in df.groupby(["metric", "scheme", "qualifier", "year"], dropna=False, sort=True):
        head = f"{region} {sch or '-'} {m}" + (f" [{q}]" if isinstance(q, str) and q else "") + \
            (f" {int(y)}" if pd.notna(y) else "")
        lines.append(head)
        for row in group.itertuples():
            value = "(removed)" if row.value is None else f"{row.value} {row.unit}"
            lines.append(f"  {row.observed_at:%Y-%m-%d %H:%M}  {value:<18} {row.source}  {row.cause}")
            lines.append(f"      {row.evidence[:100]}")
            lines.append(f"      {row.source_url}")
    return lines
