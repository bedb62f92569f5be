"""What analysts open: current figures, a wide table, the history and the change events.

Four tables, each a pandas DataFrame built from one read-only session:

* ``current`` — long form, one row per figure a source states now:
  region, province, scheme, metric, qualifier, year, value, unit, source_url,
  evidence, first_seen, last_seen (then the source id);
* ``wide`` — one row per region and scheme, one column per metric (and
  qualifier), holding the latest policy year's figure; a ``conflicts`` column
  names the cells where sources disagree;
* ``history`` — every version of every figure, oldest first;
* ``changes`` — the change events, alerted or not.

Filters narrow them by region, province, metric and a date range (UTC):
``current`` and ``wide`` by when a figure was last seen, ``history`` by when a
version was observed, ``changes`` by when an event was detected.

CSV is written UTF-8 with a BOM so Excel shows Chinese; ``.xlsx`` works too.
Every text cell a scraped page could control is neutralised against
spreadsheet formula injection (a leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a leading apostrophe); numbers stay numbers, a negative
one included, because only ``str`` cells are touched.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractors.vocab import METRICS, SCHEMES
from storage.db import ensure_schema, make_engine, session_factory, transaction
from storage.models import ChangeEvent, FactKey, FactVersion, Source, SourceHealth, Statement

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
#: Spreadsheets skip leading blanks before reading a formula, so " =1+1" is one too.
_BLANKS = " \u00a0\u3000"
#: Control characters an .xlsx cell cannot hold (openpyxl refuses them), and its size limit.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_MAX_CELL = 32767

CURRENT_COLUMNS = ["region", "province", "scheme", "metric", "qualifier", "year", "value", "unit", "source_url",
                   "evidence", "first_seen", "last_seen", "source"]
HISTORY_COLUMNS = ["region", "province", "scheme", "metric", "qualifier", "year", "value", "unit", "source_url",
                   "evidence", "observed_at", "cause", "source", "extractor_version", "run_id"]
CHANGES_COLUMNS = ["event_id", "detected_at", "kind", "region", "province", "scheme", "metric", "qualifier", "year",
                   "old", "new", "unit", "source_url", "evidence", "cause", "alerted", "suppressed", "source",
                   "run_id"]
WIDE_INDEX = ["region", "province", "scheme"]
#: Whole-number columns that may be empty: kept as Python ints and None, so CSV says 2025, not 2025.0.
_WHOLE = ("year", "run_id")


@dataclass
class ExportFilter:
    """Which rows to keep; empty lists keep everything. ``until`` is exclusive."""

    regions: list[str] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric {', '.join(unknown)}; valid: {', '.join(METRICS)}")


def neutralise(value: Any) -> Any:
    """'=HYPERLINK(…)' → "'=HYPERLINK(…)"; numbers, dates and None pass through unchanged."""
    if isinstance(value, str) and (value.startswith(DANGEROUS_START)
                                   or value.lstrip(_BLANKS).startswith(DANGEROUS_START[:4])):
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
    """Times are UTC throughout; spreadsheets cannot hold a time zone."""
    return dt.replace(tzinfo=None) if dt is not None and dt.tzinfo else dt


def _table(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    for column in _WHOLE:
        if column in df:
            df[column] = pd.Series([r[column] for r in rows], index=df.index, dtype=object)
    return df


def current_frame(s: Session) -> pd.DataFrame:
    rows = s.execute(select(FactKey, Statement).join(Statement, Statement.fact_id == FactKey.id)
                     .where(Statement.removed.is_(False))
                     .order_by(FactKey.region, FactKey.scheme, FactKey.metric, FactKey.year, Statement.source_id))
    return _table([{
        "region": f.region, "province": f.province, "scheme": f.scheme, "metric": f.metric,
        "qualifier": st.qualifier, "year": f.year, "value": _display(st.value), "unit": f.unit,
        "source_url": st.url, "evidence": st.evidence, "first_seen": _naive(st.first_seen_at),
        "last_seen": _naive(st.last_seen_at), "source": st.source_id,
    } for f, st in rows], CURRENT_COLUMNS)


def history_frame(s: Session) -> pd.DataFrame:
    rows = s.execute(select(FactKey, FactVersion).join(FactVersion, FactVersion.fact_id == FactKey.id)
                     .order_by(FactKey.region, FactKey.metric, FactVersion.id))
    return _table([{
        "region": f.region, "province": f.province, "scheme": f.scheme, "metric": f.metric,
        "qualifier": v.qualifier, "year": f.year, "value": _display(v.value), "unit": f.unit,
        "source_url": v.url, "evidence": v.evidence, "observed_at": _naive(v.observed_at), "cause": v.cause,
        "source": v.source_id, "extractor_version": v.extractor_version, "run_id": v.run_id,
    } for f, v in rows], HISTORY_COLUMNS)


def changes_frame(s: Session) -> pd.DataFrame:
    rows = s.scalars(select(ChangeEvent).order_by(ChangeEvent.id))
    return _table([{
        "event_id": e.uid, "detected_at": _naive(e.detected_at), "kind": e.kind, "region": e.region,
        "province": e.province, "scheme": e.scheme, "metric": e.metric, "qualifier": e.qualifier, "year": e.year,
        "old": _display(e.old_value), "new": _display(e.new_value), "unit": e.unit, "source_url": e.source_url,
        "evidence": e.evidence, "cause": e.cause, "alerted": e.notify, "suppressed": e.suppressed,
        "source": e.source_id, "run_id": e.run_id,
    } for e in rows], CHANGES_COLUMNS)


def sources_frame(s: Session) -> pd.DataFrame:
    """The configured sources with their health, for the report's list of links."""
    rows = s.execute(select(Source, SourceHealth).outerjoin(SourceHealth, SourceHealth.source_id == Source.id)
                     .order_by(Source.region, Source.id))
    return pd.DataFrame([{
        "source": src.id, "region": src.region, "province": src.province, "kind": src.kind, "url": src.url,
        "status": h.last_status if h else None, "last_ok": _naive(h.last_ok_at) if h else None,
        "error": h.last_error if h else None,
    } for src, h in rows], columns=["source", "region", "province", "kind", "url", "status", "last_ok", "error"])


def _column_order(column: str) -> tuple[int, str]:
    metric = column.split("[", 1)[0]
    return (METRICS.index(metric) if metric in METRICS else len(METRICS), column)


def _conflicts(cur: pd.DataFrame) -> pd.Series:
    """Per (region, province, scheme): the cells whose sources state different values."""
    def describe(group: pd.DataFrame) -> str:
        parts = []
        for column, cell in group.groupby("column", sort=True):
            if cell["value"].map(str).nunique() > 1:
                said = ", ".join(f"{v} ({src})" for v, src in zip(cell["value"], cell["source"]))
                parts.append(f"{column}: {said}")
        return "; ".join(parts)
    return cur.groupby(WIDE_INDEX, dropna=False, sort=False)[["column", "value", "source"]].apply(describe)


def widen(cur: pd.DataFrame) -> pd.DataFrame:
    """Long current figures → one row per region and scheme, one column per metric[qualifier].

    A column holds the latest policy year's figure; where sources disagree the
    most recently changed statement wins and ``conflicts`` lists them all.
    """
    if cur.empty:
        return pd.DataFrame(columns=[*WIDE_INDEX, "conflicts"])
    cur = cur.assign(column=cur["metric"] + cur["qualifier"].map(lambda q: f"[{q}]" if isinstance(q, str) and q
                                                                 else ""),
                     year_order=cur["year"].map(lambda y: -1 if y is None else y))
    latest = cur.groupby(WIDE_INDEX + ["column"], dropna=False)["year_order"].transform("max")
    cur = cur[cur["year_order"] == latest].sort_values(["first_seen", "source"])
    wide = cur.groupby(WIDE_INDEX + ["column"], dropna=False, sort=False)["value"].last().unstack("column")
    wide = wide[sorted(wide.columns, key=_column_order)]
    wide["conflicts"] = _conflicts(cur)
    wide = wide.reset_index()
    wide.columns.name = None
    scheme_rank = {s: i for i, s in enumerate(SCHEMES)}
    return (wide.assign(_rank=wide["scheme"].map(lambda s: scheme_rank.get(s, len(SCHEMES))))
            .sort_values(["region", "_rank"]).drop(columns="_rank").reset_index(drop=True))


def _filtered_current(s: Session, flt: ExportFilter) -> pd.DataFrame:
    return apply_filter(current_frame(s), "current", flt)


def wide_frame(s: Session, flt: ExportFilter | None = None) -> pd.DataFrame:
    return widen(_filtered_current(s, flt or ExportFilter()))


FRAMES: dict[str, Callable[[Session], pd.DataFrame]] = {
    "current": current_frame, "wide": wide_frame, "history": history_frame, "changes": changes_frame,
}
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
            df = df[df[column] >= pd.Timestamp(_naive(flt.since))]
        if flt.until is not None:
            df = df[df[column] < pd.Timestamp(_naive(flt.until))]
    return df.reset_index(drop=True)


@contextmanager
def reading(url: str) -> Iterator[Session]:
    """One session over the database at ``url`` (schema created or upgraded first), disposed after."""
    engine = make_engine(url)
    try:
        ensure_schema(engine)
        with transaction(session_factory(engine)) as s:
            yield s
    finally:
        engine.dispose()


def frame_of(s: Session, what: str, flt: ExportFilter | None = None) -> pd.DataFrame:
    if what not in FRAMES:
        raise ValueError(f"unknown export {what!r}; valid: {', '.join(FRAMES)}")
    flt = flt or ExportFilter()
    if what == "wide":
        return wide_frame(s, flt)
    return apply_filter(FRAMES[what](s), what, flt)


def frame(url: str, what: str, flt: ExportFilter | None = None) -> pd.DataFrame:
    if what not in FRAMES:
        raise ValueError(f"unknown export {what!r}; valid: {', '.join(FRAMES)}")
    with reading(url) as s:
        return frame_of(s, what, flt)


def safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and headers cannot start a formula; other cells are untouched."""
    out = df.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_datetime64_any_dtype(out[column])):
            # a list, not Series.map: map would re-infer the dtype and turn 2025 into 2025.0
            out[column] = pd.Series([neutralise(v) for v in out[column]], index=out.index, dtype=object)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return _XLSX_ILLEGAL.sub("\ufffd", value)[:XLSX_MAX_CELL]
    return value


def write_frame(df: pd.DataFrame, path: Path, sheet: str = "export") -> None:
    """Write ``df`` injection-safe as .csv (UTF-8 with BOM) or .xlsx, by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"{path}: write .csv or .xlsx")
    out = safe(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        for column in out.columns:
            if out[column].dtype == object:
                out[column] = pd.Series([_xlsx_cell(v) for v in out[column]], index=out.index, dtype=object)
        with pd.ExcelWriter(path, engine="openpyxl") as xw:
            out.to_excel(xw, index=False, sheet_name=sheet[:31])
            xw.sheets[sheet[:31]].freeze_panes = "A2"  # the header stays in view while scrolling
    else:
        # CRLF rows (RFC 4180): the csv module then quotes any cell holding a bare CR, which Excel
        # would otherwise read as the end of the row.
        out.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d %H:%M:%S", lineterminator="\r\n")


def export_table(url: str, what: str, path: Path, flt: ExportFilter | None = None) -> int:
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"{path}: write .csv or .xlsx")
    df = frame(url, what, flt)
    write_frame(df, path, what)
    return len(df)


def known_regions(url: str) -> list[str]:
    with reading(url) as s:
        return sorted(r for r in s.scalars(select(FactKey.region).distinct()) if r)


def history_lines(url: str, region: str, metric: str | None, scheme: str | None) -> list[str]:
    df = frame(url, "history", ExportFilter(regions=[region], metrics=[metric] if metric else []))
    if scheme:
        df = df[df["scheme"] == scheme]
    lines = []
    for (m, sch, q, y), group in df.groupby(["metric", "scheme", "qualifier", "year"], dropna=False, sort=True):
        head = f"{region} {sch or '-'} {m}" + (f" [{q}]" if isinstance(q, str) and q else "") + \
            (f" {int(y)}" if isinstance(y, (int, float)) and pd.notna(y) else "")
        lines.append(head)
        for row in group.itertuples():
            value = "(removed)" if row.value is None else f"{row.value} {row.unit}"
            lines.append(f"  {row.observed_at:%Y-%m-%d %H:%M}  {value:<18} {row.source}  {row.cause}")
            lines.append(f"      {(row.evidence or '')[:100]}")
            lines.append(f"      {row.source_url}")
    return lines
