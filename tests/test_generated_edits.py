"""Generated edits of real pages: wording and boilerplate edits make no event; figure edits make one.

Pages: the bundled demo site and three holdout pages, plus ../shared's seed pages when present. Each
edit is applied to a page that was read once (the baseline); the second read
must produce exactly the events the edit implies — none for 100 wording or
boilerplate edits, exactly one `changed` with the right old and new values for
every figure edit.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from extractors import extract_facts
from extractors.decode import decode_body
from pipeline.demo import site_root

from .conftest import SHARED
from .harness import World


@dataclass(frozen=True)
class Sample:
    name: str
    text: str
    region: str | None
    is_html: bool


HOLDOUT = Path(__file__).resolve().parent / "data" / "holdout" / "pages"
#: a 本地宝 article, a GBK tax-bureau notice and a text capture
HOLDOUT_SAMPLES = ("bdb_chengdu-flex-2025.html", "gov_kaifeng-tax-resident-2026.html", "bdb_changsha-flex-2025.txt")


def samples() -> list[Sample]:
    found = []
    for path in sorted((site_root() / "v1").rglob("*.html")):
        text = decode_body(path.read_bytes()).text
        if "tzgg/index" in str(path):
            continue
        region = {"wf": "潍坊市", "ly": "洛阳市", "zb": "淄博市"}[path.relative_to(site_root() / "v1").parts[0]]
        found.append(Sample(str(path.relative_to(site_root())), text, region, True))
    for name in HOLDOUT_SAMPLES:  # in the repo, so a checkout without ../shared still has enough figures
        path = HOLDOUT / name
        found.append(Sample(f"holdout/{name}", decode_body(path.read_bytes()).text, None, path.suffix == ".html"))
    seeds = SHARED / "seeds"
    if seeds.is_dir():
        for path in sorted(seeds.glob("*.txt")):
            found.append(Sample(f"seeds/{path.name}", path.read_text("utf-8"), None, False))
    return [s for s in found if extract_facts(s.text, region_hint=s.region, is_html=s.is_html)]


FILLERS = ["请广大参保人员相互转告。", "特此通知。", "如有疑问，请及时与当地经办机构联系。", "以上内容仅供参考，具体以官方公布为准。",
           "温馨提示：缴费成功后可在手机上查询缴费记录。"]


def _insert_filler(s: Sample, rng: random.Random) -> str:
    filler = rng.choice(FILLERS)
    if s.is_html:
        closes = [m.end() for m in re.finditer(r"</p>", s.text)]
        if closes:
            at = rng.choice(closes)
            return s.text[:at] + f"<p>{filler}</p>" + s.text[at:]
    lines = s.text.split("\n")
    at = rng.randrange(1, max(2, len(lines) // 2))
    return "\n".join(lines[:at] + [filler] + lines[at:])


def _shift_dates(s: Sample, rng: random.Random) -> str:
    """Publication stamps: 2025-03-05 / 2023-10-11 11:50 — not figures."""
    day = rng.randint(10, 28)
    return re.sub(r"(?<![\d年])(20\d{2})-(\d{2})-(\d{2})(?=[\s<【]|$)", rf"\1-\2-{day}", s.text)


def _whitespace(s: Sample, rng: random.Random) -> str:
    if s.is_html:
        return re.sub(r"</p>", lambda m: m.group(0) + ("\n" * rng.randint(1, 3)), s.text)
    return s.text.replace("\n\n", "\n\n\n", rng.randint(1, 5))


def _boilerplate_digits(s: Sample, rng: random.Random) -> str:
    """Change every number inside the footer, nav and teaser blocks: none of them is a fact."""
    digit = str(rng.randint(1, 9))

    def scramble(m: re.Match[str]) -> str:
        return re.sub(r"\d", digit, m.group(0))

    if s.is_html:
        out = re.sub(r'<div class="footer".*?</div>\s*</div>|<div class="footer".*?</div>', scramble, s.text, flags=re.S)
        return re.sub(r"<(div|ul)[^>]*class=\"[^\"]*(?:side|right|hot|tuijian|xiangguan)[^\"]*\".*?</\1>", scramble, out,
                      flags=re.S)
    marker = max(s.text.rfind("相关推荐"), s.text.rfind("大家都在搜"), s.text.rfind("手机访问"))
    if marker < 0:
        return s.text
    return s.text[:marker] + re.sub(r"\d", digit, s.text[marker:])


def _reorder_fillers(s: Sample, rng: random.Random) -> str:
    return _insert_filler(Sample(s.name, _insert_filler(s, rng), s.region, s.is_html), rng)


WORDING_EDITS = [_insert_filler, _shift_dates, _whitespace, _boilerplate_digits, _reorder_fillers]


def wording_edits(n: int = 100) -> list[tuple[str, Sample, str]]:
    rng = random.Random(20261201)
    pool = samples()
    edits = []
    for i in range(n):
        sample = pool[i % len(pool)]
        op = WORDING_EDITS[(i // len(pool)) % len(WORDING_EDITS)]
        edited = op(sample, rng)
        edits.append((f"{i:03d}-{op.__name__.strip('_')}-{Path(sample.name).name}", sample, edited))
    return edits


def _bump(value: float, metric: str) -> float | int:
    if metric in ("rate", "base_tier_pct"):
        return value + 0.5
    return int(value) + 11


def figure_edits() -> list[tuple[str, Sample, str, str, float, float]]:
    edits = []
    for sample in samples():
        for f in extract_facts(sample.text, region_hint=sample.region, is_html=sample.is_html):
            if f.metric == "phone" or not isinstance(f.value, (int, float)) or f.value < 2:
                continue
            token = f"{f.value}%" if f.metric in ("rate", "base_tier_pct") else str(f.value)
            # an unambiguous edit: the figure is written exactly once on the page
            if len(re.findall(rf"(?<![\d.]){re.escape(token)}(?![\d.])", sample.text)) != 1:
                continue
            new = _bump(float(f.value), f.metric)
            new_token = f"{new}%" if f.metric in ("rate", "base_tier_pct") else str(new)
            edited = re.sub(rf"(?<![\d.]){re.escape(token)}(?![\d.])", new_token, sample.text)
            edits.append((f"{Path(sample.name).name}-{f.metric}-{f.value}", sample, edited, f.metric,
                          float(f.value), float(new)))
    return edits


def _read_twice(db_url: str, sample: Sample, edited: str) -> list[tuple[str, str, object, object]]:
    w = World(db_url, [{"id": "src", "url": "http://src.example/page", "region": sample.region}])
    try:
        w.run({"src": sample.text.encode("utf-8")}, content_type=None if not sample.is_html else "text/html")
        w.run({"src": edited.encode("utf-8")}, content_type=None if not sample.is_html else "text/html")
        return [(e.kind, e.metric, json.loads(e.old_value) if e.old_value else None,
                 json.loads(e.new_value) if e.new_value else None) for e in w.events()]
    finally:
        w.close()


WORDING = wording_edits()
FIGURES = figure_edits()


def test_there_are_enough_generated_edits():
    assert len(WORDING) == 100
    assert len(FIGURES) >= 20


@pytest.mark.parametrize("name, sample, edited", WORDING, ids=[w[0] for w in WORDING])
def test_wording_edit_makes_no_event(sqlite_url, name, sample, edited):
    assert edited != sample.text or "shift_dates" in name or "boilerplate" in name
    assert _read_twice(sqlite_url, sample, edited) == []


@pytest.mark.parametrize("name, sample, edited, metric, old, new", FIGURES, ids=[f[0] for f in FIGURES])
def test_figure_edit_makes_exactly_one_event(sqlite_url, name, sample, edited, metric, old, new):
    events = _read_twice(sqlite_url, sample, edited)
    assert len(events) == 1, events
    assert_one_change(events[0], metric, old, new)


def assert_one_change(event: tuple, metric: str, old: float, new: float) -> None:
    """A figure among a key's options (60%、80%、100%档) changes the option list: one event, that figure swapped."""
    kind, got_metric, got_old, got_new = event
    assert (kind, got_metric) == ("changed", metric)
    if isinstance(got_old, list):
        assert old in [float(v) for v in got_old] and new in [float(v) for v in got_new]
        assert sorted(float(v) for v in got_old if float(v) != old) == sorted(
            float(v) for v in got_new if float(v) != new)
    else:
        assert float(got_old) == old and float(got_new) == new


@pytest.mark.parametrize("index", [0, 37, 74])
def test_wording_edits_on_postgresql(pg_url, index):
    name, sample, edited = WORDING[index]
    assert _read_twice(pg_url, sample, edited) == []


@pytest.mark.parametrize("index", [0, 7, 14])
def test_figure_edits_on_postgresql(pg_url, index):
    fname, fsample, fedited, metric, old, new = FIGURES[index % len(FIGURES)]
    events = _read_twice(pg_url, fsample, fedited)
    assert len(events) == 1, events
    assert_one_change(events[0], metric, old, new)
