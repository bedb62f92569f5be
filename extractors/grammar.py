"""The shared vocabulary of the policy grammar: figures, clauses and cue words.

Metric grammars (``extractors/metrics``) read normalised sentences
(:func:`extractors.text.normalize`), so every pattern here is written for
ASCII digits, ``%``, ``-`` and ASCII colons/commas/parentheses.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

from .sentences import Sentence
from .vocab import Value

# --------------------------------------------------------------------- figures

MONEY = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*元")
BARE_NUMBER = re.compile(r"(?<![\d.\-/:])(\d{3,6}(?:\.\d+)?)(?![\d.]|\s*(?:[年月日号个%天万人户家项次岁倍份条]|元|-\d{1,2}[-月]))")
PERCENT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*%")
YEAR = re.compile(r"(?<![\d〔\[])((?:19|20)\d{2})(?![\d〕\]])(年度?)?")
DURATION = re.compile(r"(?<![\d.])(\d+)\s*(个)?\s*(月|天|日|周|年)")

# A clause ends at these; a figure's label never reaches across them.
CLAUSE_END = re.compile(r"[,，;；。!?！？]")
OPEN_PAREN = "(（[【"
CLOSE_PAREN = ")）]】"


@dataclass(slots=True)
class Candidate:
    """A figure a grammar found, before page context fills scheme and year."""

    metric: str
    value: Value
    unit: str
    sentence: Sentence
    pos: int  # offset of the figure in sentence.norm
    qualifier: str | None = None
    year: int | None = None
    year_fixed: bool = False  # True: `year` is final (a monthly rule has none)
    scheme: str | None = None
    scheme_fixed: bool = False
    region: str | None = None
    extras: dict[str, object] = field(default_factory=dict)


@lru_cache(maxsize=2048)
def _separators(text: str) -> tuple[int, ...] | None:
    """Positions of clause separators, or None when parentheses make them depend on where one stands."""
    if any(c in text for c in OPEN_PAREN + CLOSE_PAREN):
        return None
    return tuple(m.start() for m in CLAUSE_END.finditer(text))


@lru_cache(maxsize=16384)
def clause_bounds(text: str, pos: int) -> tuple[int, int]:
    """[start, end) of the clause around pos, ignoring separators inside parentheses."""
    seps = _separators(text)
    if seps is not None:
        i = bisect_left(seps, pos)
        return (seps[i - 1] + 1 if i else 0), (seps[i] if i < len(seps) else len(text))
    start = pos
    depth = 0
    while start > 0:
        ch = text[start - 1]
        if ch in CLOSE_PAREN:
            depth += 1
        elif ch in OPEN_PAREN:
            if depth == 0:
                pass
            else:
                depth -= 1
        elif depth == 0 and CLAUSE_END.match(ch):
            break
        start -= 1
    end = pos
    depth = 0
    while end < len(text):
        ch = text[end]
        if ch in OPEN_PAREN:
            depth += 1
        elif ch in CLOSE_PAREN:
            depth = max(0, depth - 1)
        elif depth == 0 and CLAUSE_END.match(ch):
            break
        end += 1
    return start, end


def clause_at(text: str, pos: int) -> str:
    start, end = clause_bounds(text, pos)
    return text[start:end]


def before_in_clause(text: str, pos: int) -> str:
    start, _ = clause_bounds(text, pos)
    return text[start:pos]


def number(text: str) -> int | float:
    value = float(text)
    return int(value) if value == int(value) else value


def figures(rx: re.Pattern[str], text: str) -> Iterator[tuple[int, int, float]]:
    for m in rx.finditer(text):
        yield m.start(), m.end(), float(m.group(1))


# --------------------------------------------------------------------- cues

def any_of(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words))


# Insurances that are out of scope; their figures are dropped.
OTHER_INSURANCE = any_of("养老", "失业", "工伤", "住房公积金", "公积金", "企业年金", "职业年金")
MEDICAL = any_of("医疗", "医保", "生育", "长期护理", "长护", "大额", "大病", "职工医保", "居民医保", "合作医疗",
                 "社会保险", "社保", "五险", "险种")
# Reimbursement and benefit words: a figure next to these is what the fund
# pays out, not what people pay in.
BENEFIT = any_of("报销", "支付比例", "支付标准", "起付", "最高支付", "封顶线", "自付", "自负", "统筹基金支付",
                 "基金支付", "待遇标准", "住院", "门诊", "分娩", "补偿", "结算", "限额", "医疗费用", "费用补贴",
                 "先行支付", "报账", "共付", "赔付", "理赔", "救助")
COMPARISON_BEFORE = re.compile(r"(?:(?<!不)高于|(?<!不)低于|(?<!不)超过|不足|大于|小于|(?<!不)少于|多于|比|较|相当于|相比|由|从)\s*$"
                               r"|比[^,，;；。]{1,12}(?:低|高|多|少)\s*$")
GROUP_AFTER = re.compile(r"^\s*(?:元)?\s*(?:为基数)?\s*的(?:人员|参保人|参保人员|需|要|可|群众|职工|居民|，|,)")


COMPARED_YEAR = re.compile(r"(?:较|比|与)\s*\d{4}\s*年度?的?\s*$")


def comparison_before(text: str, pos: int) -> bool:
    """高于3980元 / 从2690元调整到: the figure is compared or replaced, not stated.

    A comparison with a named year still states that year's figure:
    较2025年度的700元 says 2025's was 700.
    """
    if COMPARED_YEAR.search(text[max(0, pos - 12):pos]):
        return False
    return COMPARISON_BEFORE.search(text[max(0, pos - 16):pos]) is not None


def nearest_insurance(text: str, pos: int) -> str | None:
    """The insurance named closest before pos in the sentence: 养老 / 医疗 / …

    An enumeration counts as one subject: 养老保险、职工基本医疗保险、失业保险、工伤保险个人缴费基数
    names 医疗 among others, so a base stated for all of them is in scope.
    """
    found = sorted((m.start(), m.end(), name) for rx, name in ((OTHER_INSURANCE, "other"), (MEDICAL, "medical"))
                   for m in rx.finditer(text, 0, pos))
    if not found:
        return None
    start, end, name = found[-1]
    run = [name]
    for prev_start, prev_end, prev_name in reversed(found[:-1]):
        gap = text[prev_end:start]
        if len(gap) > 8 or not re.search(r"[、和及与]", gap) or re.search(r"[\d;；。:：,，%]", gap):
            break
        run.append(prev_name)
        start = prev_start
    return "medical" if "medical" in run and name == "other" and len(run) > 1 else name


def out_of_scope(text: str, pos: int) -> bool:
    """A figure that belongs to pension, unemployment or injury insurance.

    Decided by the insurance named nearest before the figure; a base stated
    for 养老、医疗保险 together names 医疗 last and stays in scope.
    """
    return nearest_insurance(text, pos) == "other"


def parenthetical_after(text: str, end: int) -> str | None:
    """(无个人账户、无生育) right after a figure."""
    m = re.match(r"\s*[(（]([^()（）]{1,30})[)）]", text[end:])
    return m.group(1).strip() if m else None


SPAN_END_YEAR = re.compile(r"(?:至|到|-|~)\s*$")


@dataclass(frozen=True, slots=True)
class _YearIndex:
    starts: tuple[int, ...]
    years: tuple[tuple[int, int, int, bool], ...]  # (start, end, year, ends a date span)
    policy: tuple[tuple[int, int], ...]  # (start, year) of each 2025年度


@lru_cache(maxsize=2048)
def _years(text: str) -> _YearIndex:
    """Every year in a sentence, found once per sentence, however many figures ask."""
    found = [(m.start(), m.end(), int(m.group(1)), SPAN_END_YEAR.search(text[max(0, m.start() - 3):m.start()])
              is not None, m.group(2) == "年度") for m in YEAR.finditer(text)]
    return _YearIndex(tuple(f[0] for f in found), tuple(f[:4] for f in found),
                      tuple((f[0], f[2]) for f in found if f[4]))


def year_near(text: str, pos: int) -> int | None:
    """The year a figure is stated for within its sentence.

    A year written right before the figure is its own (暂按2022年的3980元 → 2022); otherwise
    the policy year the sentence names (2025年度…按2024年…平均工资6780元确定 → 2025); otherwise the
    nearest year before it, not counting the end of a date span (2025年7月1日至2026年6月30日 → 2025).
    """
    index = _years(text)
    cut = bisect_left(index.starts, pos)
    before = next((y for y in reversed(index.years[max(0, cut - 16):cut]) if y[1] <= pos and not y[3]), None)
    if before is not None and pos - before[1] <= 4:
        return before[2]
    if index.policy:
        i = bisect_left([p for p, _ in index.policy], pos) if len(index.policy) < 64 else bisect_left(
            index.policy, (pos, -1))
        return index.policy[i - 1][1] if i else index.policy[0][1]
    if before is not None:
        return before[2]
    return index.years[cut][2] if cut < len(index.years) else None


def year_in(text: str) -> int | None:
    """The policy year a context line states: 2025年度 beats a plain year."""
    best = None
    for m in YEAR.finditer(text):
        if m.group(2) == "年度":
            return int(m.group(1))
        if best is None:
            best = int(m.group(1))
    return best
