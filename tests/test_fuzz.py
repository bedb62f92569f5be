"""Arbitrary text or HTML never makes the extractor raise, and never sends it into a regex blow-up.

The time bound is a guard against catastrophic backtracking (1 s per MB of
input, plus a floor for interpreter noise), not a benchmark: speed is measured
in benchmarks/.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors import Fact, extract_facts

GRAMMAR_WORDS = ["缴费基数", "下限", "上限", "最低档", "最高档", "社平档", "元", "元/月", "每人每年", "%", "费率", "比例",
                 "至", "-", "～", "年", "月", "日", "前", "截止", "集中征缴期", "等待期", "个月", "天", "咨询电话", "：",
                 "，", "。", "；", "（", "）", "、", "或", "灵活就业", "城乡居民", "职工", "单位", "个人", "长期护理保险",
                 "大额医疗", "财政补助", "不低于", "报销比例", "养老保险", "相关推荐", "大家都在搜", "每月", "次年",
                 "分别为", "和", "档", "百分之", "四百", "一百五十", "万元", "╳", "×", "=", "\n", " ", "0536-", "12393"]
PIECE = st.one_of(st.sampled_from(GRAMMAR_WORDS), st.integers(0, 99999).map(str), st.text(max_size=8))
GRAMMAR_TEXT = st.lists(PIECE, max_size=120).map("".join)
TAGS = ["div", "p", "span", "table", "tr", "td", "th", "ul", "li", "a", "h3", "br", "script", "style", "b"]
ATTRS = ["", ' class="content"', ' class="side"', ' id="ivs_content"', ' class="footer"', ' class="TRS_Editor"',
         ' style="display:none"']


@st.composite
def html_pages(draw: st.DrawFn) -> str:
    parts = ["<html><head><title>", draw(GRAMMAR_TEXT)[:40], "</title></head><body>"]
    for _ in range(draw(st.integers(0, 40))):
        tag, attr = draw(st.sampled_from(TAGS)), draw(st.sampled_from(ATTRS))
        closed = draw(st.booleans())
        parts.append(f"<{tag}{attr}>{draw(GRAMMAR_TEXT)}" + (f"</{tag}>" if closed else ""))
    return "".join(parts) + draw(st.sampled_from(["</body></html>", "", "</div>"]))


@contextmanager
def _own_heap() -> Iterator[None]:
    """Time only the extractor's own work, not a collection of what earlier tests left on the heap."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _bounded(body: str | bytes, is_html: bool | None) -> list[Fact]:
    size_mb = len(body if isinstance(body, bytes) else body.encode("utf-8")) / 1e6
    started = time.process_time()
    facts = extract_facts(body, is_html=is_html)
    assert time.process_time() - started <= 1.0 * size_mb + 0.5
    assert all(isinstance(f, Fact) for f in facts)
    return facts


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(GRAMMAR_TEXT)
def test_grammar_shaped_text(text):
    _bounded(text, False)


@FUZZ
@given(st.text())
def test_any_text(text):
    _bounded(text, None)


@FUZZ
@given(html_pages())
def test_html_shaped_pages(page):
    _bounded(page, True)


@FUZZ
@given(st.binary(max_size=4000))
def test_any_bytes(raw):
    _bounded(raw, None)


PATHOLOGICAL = {
    "digits": lambda n: "4" * (40 * n),
    "yuan": lambda n: "元" * (12 * n),
    "zhi": lambda n: "至" * (8 * n) + "1",
    "bases": lambda n: ("缴费基数" + "1" * 50 + "至") * n,
    "nested-divs": lambda n: "<div>" * (2 * n) + "缴费基数下限为4416元" + "</div>" * (2 * n),
    "parens": lambda n: "（" * (4 * n) + "6%" + "）" * (4 * n),
    "spans": lambda n: "2024年9月1日至" * (2 * n),
    "phones": lambda n: "咨询电话：" + "、".join(["7909603"] * (2 * n)),
    "table-rows": lambda n: "<table>" + "<tr><td>档次</td><td>4416</td><td>7%</td></tr>" * n + "</table>",
}


def _cpu(body: str) -> float:
    with _own_heap():
        started = time.process_time()
        extract_facts(body, is_html=body.startswith("<"))
        return time.process_time() - started


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_inputs_scale_linearly(name):
    """Four times the input may cost about four times the time, not sixteen: no quadratic path."""
    make = PATHOLOGICAL[name]
    small, large = make(2000), make(8000)
    _bounded(small, small.startswith("<"))  # raises nothing, returns facts
    t_small = min(_cpu(small) for _ in range(2))
    assert t_small <= 1.0 * len(small.encode("utf-8")) / 1e6 + 0.5
    t_large = min(_cpu(large) for _ in range(2))
    assert t_large <= 8 * max(t_small, 0.05), (t_small, t_large)
