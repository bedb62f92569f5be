"""`yibao report`: one self-contained HTML page for analysts.

The page holds, in this order: the change events since a date; per region a
table of its current figures and a chart of each numeric core figure's
history (matplotlib on the Agg canvas, PNGs embedded as ``data:`` URIs), with
the history of the other core figures (windows, deadlines, phones) as a
table; and the list of sources with links. It needs nothing from the network
to render: no scripts at all, CSS inline, and a Content-Security-Policy that
forbids fetching anything but ``data:`` images, so a page that tried would
show console errors in the browser test.

Every string from a scraped page is HTML-escaped; links are made only of
http(s) URLs. Chart images carry no page text (the fonts may lack Chinese
glyphs): series are numbered in the image and described in an HTML legend.
"""
from __future__ import annotations

import base64
import html
import io
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from extractors.vocab import CORE_METRICS, METRICS, SCHEMES

from .export import ExportFilter, frame_of, reading, sources_frame
from .progress import Progress

DEFAULT_SINCE = timedelta(days=30)
#: Core figures that are numbers, so a line chart says something; the others get a table.
CHART_METRICS = ("base_min", "base_max", "base_mid", "base", "rate")
TEXT_CORE_METRICS = tuple(m for m in CORE_METRICS if m not in CHART_METRICS)
METRIC_LABELS = {
    "base_min": "缴费基数下限", "base_max": "缴费基数上限", "base_mid": "社平工资档基数", "base": "缴费基数",
    "rate": "费率", "window": "缴费期", "deadline": "缴费截止", "phone": "咨询电话", "contribution": "个人缴费标准",
    "subsidy": "财政补助", "funding": "筹资标准", "assistance": "定额资助", "surcharge": "附加险",
    "base_tier_pct": "基数档次", "waiting_days": "待遇等待期",
}
SCHEME_LABELS = {"flexible": "灵活就业", "resident": "居民医保", "employee": "职工医保", "": "—"}
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
          "#17becf")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
CHART_SIZE = (7.2, 2.6)  # inches, at CHART_DPI
CHART_DPI = 100
EVIDENCE_CHARS = 160


@dataclass
class ReportData:
    current: pd.DataFrame
    history: pd.DataFrame
    changes: pd.DataFrame
    sources: pd.DataFrame
    since: datetime
    regions: list[str]
    generated_at: datetime


@dataclass
class ReportSummary:
    path: Path
    size: int
    regions: int
    charts: int
    changes: int
    seconds: float


@dataclass
class Series:
    """One line of a chart: a figure as one source stated it over time."""

    label: str
    times: list[datetime]
    values: list[float]  # NaN where the source stopped stating it
    latest: Any
    observed: int  # the first `observed` points are versions; a last one may only extend the line


@dataclass
class Chart:
    region: str
    metric: str
    unit: str
    png: bytes
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (color, label, latest value)


# --------------------------------------------------------------------------- data


def load(url: str, since: datetime | None = None, regions: Iterable[str] = (),
         now: datetime | None = None) -> ReportData:
    """Read everything the page shows in one session; ``since`` defaults to 30 days before ``now``."""
    now = now or datetime.now(timezone.utc)
    since = since or (now - DEFAULT_SINCE)
    flt = ExportFilter(regions=list(regions))
    with reading(url) as s:
        current = frame_of(s, "current", flt)
        history = frame_of(s, "history", flt)
        changes = frame_of(s, "changes", ExportFilter(regions=list(regions), since=since))
        sources = sources_frame(s)
    if flt.regions:
        sources = sources[sources["region"].isin(flt.regions)]
    return ReportData(current, history, changes, sources, since, list(regions), now)


def region_order(data: ReportData) -> list[tuple[str, str]]:
    """(region, province) pairs, by province then region, of every region with figures."""
    pairs = pd.concat([data.current[["region", "province"]], data.history[["region", "province"]]])
    pairs = pairs.fillna("").drop_duplicates(subset="region")
    return sorted(((str(r), str(p)) for r, p in pairs.itertuples(index=False)), key=lambda rp: (rp[1], rp[0]))


def _rank(df: pd.DataFrame) -> pd.DataFrame:
    order = {m: i for i, m in enumerate(METRICS)}
    schemes = {s: i for i, s in enumerate(SCHEMES)}
    return (df.assign(_m=df["metric"].map(lambda m: order.get(m, len(order))),
                      _s=df["scheme"].map(lambda s: schemes.get(s, len(schemes))))
            .sort_values(["_m", "_s", "qualifier", "source"], na_position="first").drop(columns=["_m", "_s"]))


# --------------------------------------------------------------------------- charts


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _series(history: pd.DataFrame, current: pd.DataFrame) -> list[Series]:
    """One series per (scheme, qualifier, year, source); a removal breaks the line.

    A figure still stated extends to when it was last seen, so an unchanged
    figure draws as a level line rather than a lone dot.
    """
    out = []
    keys = ["scheme", "qualifier", "year", "source"]
    last_seen = {tuple(_key(r, keys)): r["last_seen"] for _, r in current.iterrows()}
    for key, group in history.groupby(keys, dropna=False, sort=True):
        group = group.sort_values("observed_at")
        values = [float(v) if _is_number(v) else float("nan") for v in group["value"]]
        if all(v != v for v in values):
            continue
        times = [t.to_pydatetime() for t in group["observed_at"]]
        observed = len(times)
        end = last_seen.get(tuple(_key(dict(zip(keys, key)), keys)))
        if end is not None and values[-1] == values[-1] and end.to_pydatetime() > times[-1]:
            times.append(end.to_pydatetime())
            values.append(values[-1])
        latest = group["value"].iloc[-1]
        out.append(Series(_series_label(dict(zip(keys, key))), times, values, latest, observed))
    return out


def _key(row: Any, keys: list[str]) -> list[Any]:
    return [None if (v is None or (isinstance(v, float) and v != v) or v is pd.NA) else v
            for v in (row[k] for k in keys)]


def _series_label(key: dict[str, Any]) -> str:
    scheme, qualifier, year, source = _key(key, ["scheme", "qualifier", "year", "source"])
    parts = [SCHEME_LABELS.get(scheme or "", scheme or "—")]
    if qualifier:
        parts.append(str(qualifier))
    if year is not None:
        parts.append(f"{int(year)}年")
    parts.append(f"source {source}")
    return " · ".join(parts)


def _number(value: Any) -> str:
    if _is_number(value):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return "removed" if value is None else str(value)


def draw(series: list[Series], unit: str) -> bytes:
    """A PNG of step lines, one per series, numbered #1… in the image; no page text is drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=CHART_SIZE, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, line in enumerate(series):
        # datetimes are fine on a date axis; the stubs only say arrays. Markers only on versions.
        ax.step(line.times, line.values, where="post", color=COLORS[i % len(COLORS)],  # type: ignore[arg-type]
                marker=MARKERS[i % len(MARKERS)], markevery=list(range(line.observed)), markersize=5,
                linewidth=1.6, linestyle="-" if i < len(COLORS) else "--", label=f"#{i + 1}")
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax.set_ylabel(unit)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def charts_for(data: ReportData, region: str) -> list[tuple[str, str, list[Series]]]:
    """(metric, unit, series) for each numeric core metric the region has a history of."""
    hist = data.history[data.history["region"] == region]
    cur = data.current[data.current["region"] == region]
    found = []
    for metric in CHART_METRICS:
        h = hist[hist["metric"] == metric]
        if h.empty:
            continue
        series = _series(h, cur[cur["metric"] == metric])
        if series:
            found.append((metric, str(h["unit"].iloc[0]), series))
    return found


def render_charts(data: ReportData, regions: list[str], stream: Any = None) -> dict[str, list[Chart]]:
    planned = {r: charts_for(data, r) for r in regions}
    total = sum(len(v) for v in planned.values())
    out: dict[str, list[Chart]] = {r: [] for r in regions}
    with Progress("report: charts", total, stream) as bar:
        for region, items in planned.items():
            for metric, unit, series in items:
                legend = [(COLORS[i % len(COLORS)], line.label, _number(line.latest))
                          for i, line in enumerate(series)]
                out[region].append(Chart(region, metric, unit, draw(series, unit), legend))
                bar.advance(item=f"{region} {metric}")
    return out


# --------------------------------------------------------------------------- HTML


def esc(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


def link(url: Any, text: Any) -> str:
    """An <a> only for http(s) URLs: a scraped ``javascript:`` link stays inert text."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(text)}</a>'
    return esc(text)


def when(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"


def evidence(text: Any) -> str:
    full = "" if text is None or text is pd.NA else str(text)
    if len(full) <= EVIDENCE_CHARS:
        return f'<span class="ev">{esc(full)}</span>'
    return f'<span class="ev" title="{esc(full)}">{esc(full[:EVIDENCE_CHARS])}…</span>'


def metric_cell(metric: Any, qualifier: Any) -> str:
    label = METRIC_LABELS.get(str(metric), "")
    qual = f' <span class="q">[{esc(qualifier)}]</span>' if isinstance(qualifier, str) and qualifier else ""
    return f'<code>{esc(metric)}</code>{qual}<br><span class="zh">{esc(label)}</span>'


def table(head: list[str], rows: Iterable[list[str]], css: str = "") -> str:
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>\n" for r in rows)
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    return f'<div class="scroll"><table class="{css}"><thead><tr>{th}</tr></thead>\n<tbody>\n{body}</tbody></table></div>'


def changes_section(data: ReportData) -> str:
    title = f"Changes since {data.since:%Y-%m-%d}"
    if data.changes.empty:
        return f'<section id="changes"><h2>{esc(title)}</h2><p class="none">No change events since then.</p></section>'
    rows = []
    for r in data.changes.sort_values("detected_at", ascending=False).to_dict("records"):
        note = "" if r["alerted"] else f'<br><span class="muted">not alerted: {esc(r["suppressed"])}</span>'
        rows.append([esc(when(r["detected_at"])), f'<span class="kind {esc(r["kind"])}">{esc(r["kind"])}</span>{note}',
                     esc(r["region"]), esc(SCHEME_LABELS.get(r["scheme"] or "", r["scheme"])),
                     metric_cell(r["metric"], r["qualifier"]), esc(r["year"]),
                     f'{esc(_number(r["old"]) if r["old"] is not None else "—")} → '
                     f'<b>{esc(_number(r["new"]) if r["new"] is not None else "—")}</b>', esc(r["unit"]),
                     link(r["source_url"], r["source"]), evidence(r["evidence"])])
    head = ["detected (UTC)", "kind", "region", "scheme", "metric", "year", "old → new", "unit", "source", "evidence"]
    return (f'<section id="changes"><h2>{esc(title)}</h2><p>{len(rows)} change event(s), newest first.</p>'
            f'{table(head, rows, "changes")}</section>')


def current_table(cur: pd.DataFrame) -> str:
    if cur.empty:
        return '<p class="none">No figure is currently stated for this region.</p>'
    rows = [[esc(SCHEME_LABELS.get(r["scheme"] or "", r["scheme"])), metric_cell(r["metric"], r["qualifier"]),
             esc(r["year"]), f'<b>{esc(_number(r["value"]))}</b>', esc(r["unit"]), link(r["source_url"], r["source"]),
             esc(when(r["first_seen"])), esc(when(r["last_seen"])), evidence(r["evidence"])]
            for r in _rank(cur).to_dict("records")]
    head = ["scheme", "metric", "year", "value", "unit", "source", "since (UTC)", "last seen (UTC)", "evidence"]
    return table(head, rows, "current")


def chart_figure(chart: Chart) -> str:
    uri = "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
    width, height = int(CHART_SIZE[0] * CHART_DPI), int(CHART_SIZE[1] * CHART_DPI)
    caption = f"{chart.metric} {METRIC_LABELS.get(chart.metric, '')} ({chart.unit})"
    items = "".join(f'<li><span class="sw" style="background:{color}"></span>#{i + 1} {esc(label)}'
                    f' — latest <b>{esc(value)}</b></li>' for i, (color, label, value) in enumerate(chart.legend))
    alt = f"{chart.region} {caption}: history of {len(chart.legend)} series"
    return (f'<figure class="chart"><figcaption>{esc(caption)}</figcaption>'
            f'<img src="{uri}" width="{width}" height="{height}" alt="{esc(alt)}">'
            f'<ul class="legend">{items}</ul></figure>')


def text_history(hist: pd.DataFrame) -> str:
    h = hist[hist["metric"].isin(TEXT_CORE_METRICS)]
    if h.empty:
        return ""
    rows = [[esc(when(r["observed_at"])), esc(SCHEME_LABELS.get(r["scheme"] or "", r["scheme"])),
             metric_cell(r["metric"], r["qualifier"]), esc(r["year"]), f'<b>{esc(_number(r["value"]))}</b>',
             link(r["source_url"], r["source"]), esc(r["cause"])]
            for r in _rank(h).sort_values("observed_at", kind="stable").to_dict("records")]
    head = ["observed (UTC)", "scheme", "metric", "year", "value", "source", "cause"]
    return f"<h3>Windows, deadlines and phones over time</h3>{table(head, rows, 'text-history')}"


def region_section(data: ReportData, index: int, region: str, province: str, charts: list[Chart]) -> str:
    cur = data.current[data.current["region"] == region]
    hist = data.history[data.history["region"] == region]
    name = region or "(no region)"
    figures = "".join(chart_figure(c) for c in charts) or '<p class="none">No numeric core figure recorded.</p>'
    return (f'<section class="region" id="region-{index}"><h2>{esc(name)} <small>{esc(province)}</small></h2>'
            f"<h3>Current figures</h3>{current_table(cur)}"
            f"<h3>Core figures over time</h3>{figures}{text_history(hist)}</section>")


def sources_section(data: ReportData) -> str:
    if data.sources.empty:
        return '<section id="sources"><h2>Sources</h2><p class="none">No sources recorded.</p></section>'
    rows = [[esc(r["source"]), esc(r["region"]), esc(r["kind"]), link(r["url"], r["url"]), esc(r["status"]),
             esc(when(r["last_ok"])), esc(r["error"])] for r in data.sources.to_dict("records")]
    head = ["source", "region", "kind", "page", "last run", "last ok (UTC)", "last error"]
    return f'<section id="sources"><h2>Sources</h2>{table(head, rows, "sources")}</section>'


STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
 margin:0 auto;max-width:1200px;padding:1em 1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.5em;margin:.2em 0} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
h2 small{color:#666;font-weight:normal;font-size:.7em} h3{margin:1.2em 0 .4em}
nav a{margin-right:.8em} .muted,.none{color:#666} .scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{border:1px solid #ddd;padding:3px 6px;
 vertical-align:top;text-align:left} th{background:#f4f4f4} tbody tr:nth-child(even){background:#fafafa}
.ev{color:#444;font-size:12px} .q{color:#555} .zh{color:#777;font-size:12px} code{font-size:12px}
.kind{font-weight:bold} .kind.changed{color:#b35900} .kind.added{color:#23753a} .kind.removed{color:#a11}
.kind.conflict{color:#7a1fa2} .kind.new_period{color:#1f5fa8}
figure.chart{margin:1em 0;padding:.5em;border:1px solid #e4e4e4;display:inline-block;max-width:100%}
figure.chart img{display:block;max-width:100%;height:auto}
figcaption{font-weight:bold;margin-bottom:.3em}
ul.legend{list-style:none;padding:0;margin:.3em 0 0;font-size:12px}
.sw{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:-.1em;border-radius:2px}
footer{margin-top:2em;color:#777;font-size:12px}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def render(data: ReportData, charts: dict[str, list[Chart]]) -> str:
    regions = region_order(data)
    nav = " ".join(f'<a href="#region-{i}">{esc(r or "(no region)")}</a>' for i, (r, _p) in enumerate(regions))
    scope = f"regions: {', '.join(data.regions)}" if data.regions else f"{len(regions)} region(s)"
    body = "".join(region_section(data, i, r, p, charts.get(r, [])) for i, (r, p) in enumerate(regions))
    if not regions:
        body = '<p class="none">No figures recorded yet: run <code>yibao run</code> first.</p>'
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>yibao-watch report {data.generated_at:%Y-%m-%d}</title><style>{STYLE}</style></head>
<body><header><h1>医保 payment figures — yibao-watch report</h1>
<p class="muted">Generated {data.generated_at:%Y-%m-%d %H:%M} UTC · {esc(scope)} · changes since {data.since:%Y-%m-%d}
 · times in UTC</p>
<nav><a href="#changes">Changes</a> {nav} <a href="#sources">Sources</a></nav></header>
{changes_section(data)}
{body}
{sources_section(data)}
<footer>Figures are read from the pages linked in each row; the evidence column quotes the page.</footer>
</body></html>
"""


def write_report(url: str, path: Path, since: datetime | None = None, regions: Iterable[str] = (),
                 now: datetime | None = None, stream: Any = None) -> ReportSummary:
    """Read, draw and write the page; returns what went into it."""
    started = time.monotonic()
    data = load(url, since, regions, now)
    names = [r for r, _p in region_order(data)]
    charts = render_charts(data, names, stream)
    page = render(data, charts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return ReportSummary(path, path.stat().st_size, len(names), sum(len(c) for c in charts.values()),
                         len(data.changes), time.monotonic() - started)
