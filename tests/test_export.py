"""Exports analysts open: long, wide, history, changes; CSV with BOM and XLSX; filters; no formula injection.

The data is real: the demo site through the real pipeline (v1, then v2),
plus one hostile page whose sentences start with spreadsheet formulas, so
the extractor itself carries ``=HYPERLINK(…)`` into the evidence.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml

from pipeline.demo import SECRET_ENV, demo_config, manifest, site_root
from pipeline.demo.receiver import Receiver
from pipeline.demo.server import SiteServer
from pipeline.config import load_config
from pipeline.export import CURRENT_COLUMNS, ExportFilter, export_table, frame, neutralise, write_frame

from .conftest import yibao

HOSTILE_PATH = "/evil/notice.html"
HOSTILE_REGION = "测试市"
#: A page written to attack the analyst: each figure's sentence opens with a formula or markup.
HOSTILE_PAGE = """<html><head><meta charset="utf-8"><title>测试市医保缴费通知</title></head><body><div class="content">
<p>=HYPERLINK("http://evil.example/","2025年度灵活就业人员职工医保月缴费基数下限为4416元，上限为22080元。")</p>
<p>@SUM(1+1)2025年度灵活就业人员按缴费基数的8%缴纳职工医保费。</p>
<p>+1 医保缴费咨询电话：0536-8788125</p>
<p>-2+3 2025年度居民医保个人缴费标准为每人每年400元。</p>
<p>&lt;img src=x onerror=alert(1)&gt;医保待遇咨询电话：0536-8788126</p>
</div></body></html>
"""
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _serve_hostile(h: Any) -> bool:
    if h.path.split("?", 1)[0] != HOSTILE_PATH:
        return False
    body = HOSTILE_PAGE.encode("utf-8")
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
    return True


def watch_demo(workdir: Path, site: SiteServer, receiver: Receiver) -> Path:
    """Two real runs (v1 then v2) of the demo sources plus the hostile page; returns the config file."""
    site.routes.append(_serve_hostile)
    man = manifest()
    man["source"] = [*man["source"], {"id": "hostile-notice", "path": HOSTILE_PATH, "region": HOSTILE_REGION,
                                      "province": "山东省", "kind": "page"}]
    config = workdir / "yibao.toml"
    config.write_text(demo_config(site.base, workdir / "watched.db", receiver.url, workdir / "alerts.jsonl", man),
                      encoding="utf-8")
    for version in ("v1", "v2"):
        site.version = version
        done = yibao("--config", str(config), "run", env={SECRET_ENV: "test-secret"})
        assert done.returncode == 0, done.stderr
    return config


@pytest.fixture(scope="module")
def _watched_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {"dir": tmp_path_factory.mktemp("watched")}


@pytest.fixture
def watched(_watched_store: dict[str, Path], demo_site: SiteServer, receiver: Receiver) -> Path:
    """The config of a database filled by two real runs; made once per module, read-only after."""
    if "config" not in _watched_store:
        _watched_store["config"] = watch_demo(_watched_store["dir"], demo_site, receiver)
    return _watched_store["config"]


def export(config: Path, out: Path, *args: str) -> Any:
    done = yibao("--config", str(config), "export", "-o", str(out), *args)
    assert done.returncode == 0, done.stderr
    return done


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM so Excel reads Chinese"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


# --------------------------------------------------------------------------- the four tables


def test_current_is_long_form_with_the_documented_columns(watched, tmp_path):
    out = tmp_path / "current.csv"
    export(watched, out, "--what", "current")
    rows = read_csv(out)
    assert list(rows[0]) == CURRENT_COLUMNS
    assert CURRENT_COLUMNS[:12] == ["region", "province", "scheme", "metric", "qualifier", "year", "value", "unit",
                                    "source_url", "evidence", "first_seen", "last_seen"]
    wf_max = [r for r in rows if r["region"] == "潍坊市" and r["metric"] == "base_max"]
    assert {r["value"] for r in wf_max} == {"22080"}, "v2 raised the 潍坊市 ceiling from 21207 to 22080"
    assert {r["year"] for r in wf_max} == {"2025"}, "a year is written 2025, not 2025.0"
    assert all(r["source_url"].startswith("http://127.0.0.1:") and r["evidence"] for r in wf_max)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["last_seen"]) for r in rows)
    assert {r["region"] for r in rows} >= {"潍坊市", "淄博市", "洛阳市", HOSTILE_REGION}


def test_wide_has_one_row_per_region_and_scheme_and_flags_conflicts(watched, tmp_path):
    out = tmp_path / "wide.xlsx"
    export(watched, out, "--what", "wide")
    wide = pd.read_excel(out, dtype=object)
    keys = list(zip(wide["region"], wide["scheme"].fillna("")))
    assert len(keys) == len(set(keys)), "one row per region and scheme"
    assert wide.groupby("region")["province"].nunique().max() == 1, "no made-up region × province rows"
    wf = wide[(wide["region"] == "潍坊市") & (wide["scheme"] == "flexible")].iloc[0]
    assert wf["base_max"] == 22080 and wf["base_min"] == 4416
    assert "surcharge[大额医疗保险]" in wf["conflicts"], "two 潍坊市 sources disagree on 大额医疗 (150 vs 180)"
    ly = wide[(wide["region"] == "洛阳市") & (wide["scheme"] == "resident")].iloc[0]
    assert ly["contribution"] == 420, "the latest policy year (2026) wins the cell"
    metric_columns = [c for c in wide.columns if c not in ("region", "province", "scheme", "conflicts")]
    assert metric_columns.index("base_min") < metric_columns.index("rate[不建立个人账户]"), "vocabulary order"


def test_history_keeps_every_version_and_changes_every_event(watched, tmp_path):
    history, changes = tmp_path / "history.csv", tmp_path / "changes.xlsx"
    export(watched, history, "--what", "history")
    export(watched, changes, "--what", "changes")
    rows = read_csv(history)
    wf_max = [r["value"] for r in rows if r["region"] == "潍坊市" and r["metric"] == "base_max"
              and r["source"] == "weifang-bendibao-flexible"]
    assert wf_max == ["21207", "22080"]
    events = pd.read_excel(changes, dtype=object)
    expected = yaml.safe_load((site_root() / "expected_changes.yaml").read_text("utf-8"))
    alerted = events[events["alerted"] == True]  # noqa: E712 - a cell, not a Python bool
    assert len(alerted) == len(expected)
    row = events[(events["region"] == "潍坊市") & (events["metric"] == "base_max")].iloc[0]
    assert (row["kind"], row["old"], row["new"], row["year"]) == ("changed", 21207, 22080, 2025)


def db_url(config: Path) -> str:
    return load_config(config).database.url


def test_filters_by_region_province_metric_and_dates(watched, tmp_path):
    url = db_url(watched)
    assert set(frame(url, "current", ExportFilter(regions=["潍坊市", "淄博市"]))["region"]) == {"潍坊市", "淄博市"}
    assert set(frame(url, "history", ExportFilter(provinces=["河南省"]))["region"]) == {"洛阳市"}
    assert set(frame(url, "changes", ExportFilter(metrics=["base_max"]))["metric"]) == {"base_max"}
    wide = frame(url, "wide", ExportFilter(metrics=["base_min", "rate"]))
    columns = set(wide.columns) - {"region", "province", "scheme", "conflicts"}
    assert columns and all(c in ("base_min", "rate") or c.startswith("rate[") for c in columns), columns
    now = datetime.now(timezone.utc)
    for what in ("current", "wide", "history", "changes"):
        assert frame(url, what, ExportFilter(since=now + timedelta(hours=1))).empty, what
        assert frame(url, what, ExportFilter(until=now - timedelta(days=1))).empty, what
        assert not frame(url, what, ExportFilter(since=now - timedelta(days=1), until=now)).empty, what


def test_cli_date_filters_name_whole_days_and_include_both_ends(watched, tmp_path):
    out, today = tmp_path / "f.csv", date.today()
    export(watched, out, "--what", "changes", "--since", today.isoformat(), "--until", today.isoformat(),
           "--region", "潍坊市", "--province", "山东省", "--metric", "base_max")
    assert [(r["region"], r["metric"], r["new"]) for r in read_csv(out)] == [("潍坊市", "base_max", "22080")]
    export(watched, out, "--what", "history", "--until", (today - timedelta(days=1)).isoformat())
    assert read_csv(out) == []


def test_bad_filters_fail_naming_the_valid_choices(watched, tmp_path):
    done = yibao("--config", str(watched), "export", "-o", str(tmp_path / "x.csv"), "--metric", "basemax")
    assert done.returncode == 1 and "unknown metric basemax; valid: base_min" in done.stderr
    done = yibao("--config", str(watched), "export", "-o", str(tmp_path / "x.csv"), "--region", "北京市")
    assert done.returncode == 1 and "known regions:" in done.stderr and "潍坊市" in done.stderr
    with pytest.raises(ValueError, match=r"x\.json: write \.csv or \.xlsx"):
        export_table(db_url(watched), "current", tmp_path / "x.json")


def test_export_is_quiet_without_a_terminal_and_says_what_it_wrote_under_v(watched, tmp_path):
    out = tmp_path / "q.csv"
    quiet = export(watched, out)
    assert quiet.stdout == "" and quiet.stderr == "", "cron mails any output: none unless asked"
    loud = yibao("-v", "--config", str(watched), "export", "-o", str(out))
    assert loud.returncode == 0 and re.fullmatch(r"wrote \d+ rows to .*q\.csv\n", loud.stderr)


# --------------------------------------------------------------------------- formula injection


def _unsafe(cell: str) -> bool:
    return cell.startswith(DANGEROUS) and not PLAIN_NUMBER.fullmatch(cell)


def test_hostile_page_cannot_put_a_formula_in_any_csv_or_xlsx_cell(watched, tmp_path):
    export(watched, tmp_path / "current.csv", "--what", "current")  # the CLI once; the same function below
    for what in ("current", "wide", "history", "changes"):
        csv_path, xlsx_path = tmp_path / f"{what}.csv", tmp_path / f"{what}.xlsx"
        export_table(db_url(watched), what, csv_path)
        export_table(db_url(watched), what, xlsx_path)
        rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"), newline="")))
        assert [c for row in rows for c in row if _unsafe(c)] == [], what
        sheet = openpyxl.load_workbook(xlsx_path).active
        cells = [c for row in sheet.iter_rows() for c in row]
        assert [c.coordinate for c in cells if c.data_type == "f"] == [], f"{what}.xlsx holds a formula"
        assert [c.value for c in cells if isinstance(c.value, str) and _unsafe(c.value)] == [], what
    hostile = [r for r in read_csv(tmp_path / "current.csv") if r["region"] == HOSTILE_REGION]
    evidence = {r["evidence"][:6] for r in hostile}
    assert {"'=HYPE", "'@SUM(", "'+1 医保", "'-2+3 "} <= evidence, "each attack reached the table, defused"
    assert any(r["qualifier"].startswith("'+1 ") for r in hostile), "a qualifier is page text too"
    assert {r["value"] for r in hostile if r["metric"] == "base_min"} == {"4416"}, "the figure is untouched"
    sheet = openpyxl.load_workbook(tmp_path / "current.xlsx").active
    header = [c.value for c in sheet[1]]
    values = [row[header.index("value")] for row in sheet.iter_rows(min_row=2)]
    assert any(c.value == 4416 and c.data_type == "n" for c in values), "numbers stay numeric cells"


def test_numbers_stay_numbers_and_text_is_neutralised_in_csv_and_xlsx(tmp_path):
    df = pd.DataFrame({
        "label": ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", " =blank", "plain", "-5", None],
        "value": [-5, -2.5, 0, 7, 4416, 1e6, -0.25, 3, "-5", None],
        "count": [-1, -2, -3, -4, -5, -6, -7, -8, -9, -10],
    }).rename(columns={"count": "=count"})
    df["when"] = pd.Timestamp("2025-01-02 03:04:05")
    write_frame(df, tmp_path / "t.csv")
    write_frame(df, tmp_path / "t.xlsx")
    rows = list(csv.reader(io.StringIO((tmp_path / "t.csv").read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0] == ["label", "value", "'=count", "when"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tTAB", "'\rCR", "' =blank",
                                        "plain", "'-5", ""]
    assert [r[1] for r in rows[1:]] == ["-5", "-2.5", "0", "7", "4416", "1000000.0", "-0.25", "3", "'-5", ""]
    assert [r[2] for r in rows[1:]] == [str(-n) for n in range(1, 11)], "a negative number stays a number"
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    values = [(c.value, c.data_type) for c in list(sheet.iter_cols(min_col=2, max_col=2, min_row=2))[0]]
    assert values[:3] == [(-5, "n"), (-2.5, "n"), (0, "n")] and values[8] == ("'-5", "s")
    assert [c.value for c in list(sheet.iter_cols(min_col=3, max_col=3, min_row=2))[0]] == list(range(-1, -11, -1))
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_survives_control_characters_a_page_may_hold(tmp_path):
    write_frame(pd.DataFrame({"evidence": ["a\x0bb\x00c", "x" * 40000]}), tmp_path / "c.xlsx")
    cells = [row[0].value for row in openpyxl.load_workbook(tmp_path / "c.xlsx").active.iter_rows(min_row=2)]
    assert cells[0] == "a\ufffdb\ufffdc" and len(cells[1]) == 32767


@pytest.mark.parametrize("cell, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-1+2", "'-1+2"), ("@A1", "'@A1"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("\u3000=1", "'\u3000=1"), ("潍坊市", "潍坊市"), ("a=b", "a=b"), ("", ""),
    (-5, -5), (-2.5, -2.5), (None, None), (True, True),
])
def test_neutralise(cell, expected):
    assert neutralise(cell) == expected


def test_an_empty_database_exports_headers_only(sqlite_url, tmp_path):
    for what in ("current", "wide", "history", "changes"):
        out = tmp_path / f"{what}.csv"
        assert export_table(sqlite_url, what, out) == 0
        header = out.read_bytes().decode("utf-8-sig").splitlines()
        assert len(header) == 1 and header[0].startswith(("region,", "event_id,")), (what, header)
