"""Contribution bases: base_min / base_max / base_mid / base (CNY per month).

A yuan figure is a base when its sentence speaks of a 缴费基数 (or a table
column does) and its label — the words between the previous figure and it —
names the tier: 最低档4242、社会平均工资档7069、最高档21207. Figures that are
compared (高于3980元), hypothetical (选择3980元为基数的人员), paid amounts
(月缴费额) or wage statistics (平均工资为9167元) are not bases: of the cue
words in a label, the one nearest the figure decides.
"""
from __future__ import annotations

import re
from typing import Iterator

from ..grammar import GROUP_AFTER, Candidate, any_of, clause_bounds, comparison_before, number
from ..scope import in_scope
from ..sentences import Sentence

BASE_CUE = any_of("基数", "缴费工资", "缴费档次")
TIERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("base_mid", any_of("社会平均工资档", "社平工资档", "社平档", "平均工资档", "中间档", "中档", "100%档",
                        "社会平均工资标准档", "平均档", "社会平均工资", "社平工资")),
    ("base_min", any_of("下限", "最低档", "最低缴费基数", "最低基数", "最低", "低档", "保底", "不低于", "起点",
                        "下线")),
    ("base_max", any_of("上限", "最高档", "最高缴费基数", "最高基数", "最高", "高档", "封顶", "不超过", "不高于")),
)
PAIRS = (
    (re.compile(r"上下限分别|上限和下限分别|上限、下限分别|上、下限分别|上限与下限分别"), ("base_max", "base_min")),
    (re.compile(r"下上限分别|下限和上限分别|下限、上限分别|下、上限分别|下限与上限分别|最低和最高|最低、最高"),
     ("base_min", "base_max")),
)
NOT_A_BASE = any_of("最低工资", "工资标准", "平均工资为", "平均工资是", "平均工资达", "工资为", "缴费额", "缴费金额",
                    "缴纳金额", "应缴", "需缴", "需要缴", "缴费为", "月缴", "年缴", "费用", "补贴", "补助", "救助",
                    "支付", "报销", "起付", "合计", "共计", "金额", "缴纳", "缴费标准", "收入", "需交", "每月交",
                    "补差", "差额", "养老金", "保险金", "个人缴费", "单位缴费", "应缴费", "缴费:", "每人每年", "每年")
# 按4416元的月缴费基数缴纳 / 以4416元作为缴费基数: the cue follows the figure
BASE_AFTER = re.compile(r"^\s*(?:/月)?\s*(?:的|作为|为)?\s*(?:月|每月)?\s*缴费(?:基数|工资)(?!的人员|的参保)")
BOUND_WORDS = re.compile(r"(不低于|不超过|不高于)\s*$")
RANGE_AFTER = re.compile(r"\s*(?:元)?\s*(?:/月|每月)?\s*(?:至|到|-|~)\s*(\d{3,6}(?:\.\d+)?)\s*(元)?")
FIGURE = re.compile(
    r"(?<![\d.\-/%〔\[])(?<!\d:)(\d{3,6}(?:\.\d+)?)(\s*元)?"
    r"(?![\d.%〕\]]|\s*(?:[年月日号个天万人户家项次岁倍份条位名所]|-\d{1,2}[-月]))"
)
# A cue further than this from its figure names something else (a notice's title).
MAX_CUE_DISTANCE = 14
MIN_BASE, MAX_BASE = 500, 200000


def _has_base_cue(sent: Sentence) -> bool:
    if BASE_CUE.search(sent.norm):
        return True
    return bool(sent.header and any(BASE_CUE.search(h) for h in sent.header)) or (
        sent.kind in ("item", "row") and bool(BASE_CUE.search(sent.lead)))


def _last(rx: re.Pattern[str], text: str) -> int:
    end = -1
    for m in rx.finditer(text):
        end = m.end()
    return end


def tier_of(label: str) -> str | None:
    """The tier the cue nearest the end of label names."""
    best: tuple[int, str] | None = None
    for metric, rx in TIERS:
        end = _last(rx, label)
        if end >= 0 and (best is None or end > best[0]):
            best = (end, metric)
    return best[1] if best else None


def _says_base(label: str) -> bool:
    """Whether the nearest cue before a figure makes it a base (not a paid amount or wage)."""
    cue = max(_last(BASE_CUE, label), *(_last(rx, label) for _, rx in TIERS))
    return cue >= 0 and cue >= _last(NOT_A_BASE, label) and len(label) - cue <= MAX_CUE_DISTANCE


# 低于4494元的按4494元确定 / 高于24930元的按24930元确定: a floor and a ceiling
CLAMP = re.compile(r"(低于|不足|高于|超过)\s*(\d{3,6}(?:\.\d+)?)\s*元?的?\s*[,，]?\s*(?:按|以)\s*(\d{3,6}(?:\.\d+)?)\s*元")
# 选择社平工资档缴费的灵活就业人员，…月缴费基数为7360元: the tier is named in a conditional clause
CONDITION = re.compile(r"(?:选择|选|按|以)([^,，;；。]{0,12}?档)[^,，;；。]{0,12}的")
RESPECTIVELY = re.compile(r"分别(?:为|是|按)")


def _clamps(sent: Sentence) -> list[Candidate]:
    out = []
    for m in CLAMP.finditer(sent.norm):
        if m.group(2) == m.group(3) and MIN_BASE <= float(m.group(2)) <= MAX_BASE:
            metric = "base_min" if m.group(1) in ("低于", "不足") else "base_max"
            out.append(Candidate(metric, number(m.group(3)), "CNY/month", sent, m.start(3)))
    return out


def _respectively(sent: Sentence, figs: list[re.Match[str]]) -> list[Candidate] | None:
    """…60%、100%、300%三个档次…，对应月缴费基数分别为4242元、7069元、21207元."""
    text = sent.norm
    m = RESPECTIVELY.search(text)
    if not m:
        return None
    listed = [f for f in figs if f.start() > m.start() and f.group(2)]
    tiers = [float(p) for p in re.findall(r"(\d+(?:\.\d+)?)\s*%", text[:m.start()])]
    if len(listed) < 2 or len(tiers) != len(listed):
        return None
    ordered = sorted(listed, key=lambda f: float(f.group(1)))
    out = [Candidate("base_min", number(ordered[0].group(1)), "CNY/month", sent, ordered[0].start()),
           Candidate("base_max", number(ordered[-1].group(1)), "CNY/month", sent, ordered[-1].start())]
    for tier, f in zip(tiers, listed):
        if tier == 100 and f not in (ordered[0], ordered[-1]):
            out.append(Candidate("base_mid", number(f.group(1)), "CNY/month", sent, f.start()))
    return out


def extract(sent: Sentence) -> Iterator[Candidate]:
    if not _has_base_cue(sent):
        return
    text = sent.norm
    clamps = _clamps(sent)
    if clamps:
        yield from clamps
        return
    figs = [m for m in FIGURE.finditer(text) if MIN_BASE <= float(m.group(1)) <= MAX_BASE]
    mapped = _respectively(sent, figs)
    if mapped:
        yield from mapped
        return
    condition = CONDITION.search(text)
    condition_tier = tier_of(condition.group(1)) if condition else None
    row_label = re.split(r"[;；]", text)[0] if sent.kind == "row" else ""
    row_tier = tier_of(row_label) if row_label else None
    prev_end = 0
    pending: list[str] = []
    skip_until = -1
    for m in figs:
        start, end = m.start(), m.end()
        if start < skip_until:
            continue
        clause_start, _ = clause_bounds(text, start)
        label = text[max(prev_end, clause_start):start]
        wide = text[clause_start:start]
        prev_end = end
        if comparison_before(text, start) or GROUP_AFTER.match(text[end:]) or not in_scope(sent, start):
            continue
        for rx, order in PAIRS:
            if rx.search(wide) and not pending and start - _last(rx, wide) - clause_start < 12:
                pending = list(order)
        if pending:
            yield Candidate(pending.pop(0), number(m.group(1)), "CNY/month", sent, start)
            continue
        has_yuan = bool(m.group(2))
        rng = RANGE_AFTER.match(text, end)
        if rng and float(rng.group(1)) > float(m.group(1)) and float(rng.group(1)) <= MAX_BASE:
            if _says_base(wide) or (sent.kind == "row" and _says_base(sent.lead + wide)) or BASE_CUE.search(text):
                yield Candidate("base_min", number(m.group(1)), "CNY/month", sent, start)
                yield Candidate("base_max", number(rng.group(1)), "CNY/month", sent, rng.start(1))
                skip_until = prev_end = rng.end()
                continue
        cue_after = has_yuan and BASE_AFTER.match(text[end:]) is not None
        if not (_says_base(label) or (label == "" and _says_base(wide)) or cue_after or (
                sent.kind == "row" and has_yuan is False and _says_base(wide))):
            continue
        tier = tier_of(label) or (tier_of(wide) if has_yuan else None) or row_tier or (
            condition_tier if condition and condition.end() <= start else None)
        bound = BOUND_WORDS.search(text[:start])
        qualifier = bound.group(1) if bound else None
        if tier:
            yield Candidate(tier, number(m.group(1)), "CNY/month", sent, start, qualifier=qualifier)
        elif has_yuan or sent.kind == "row":
            yield Candidate("base", number(m.group(1)), "CNY/month", sent, start, qualifier=qualifier,
                            extras={"row": row_label} if sent.kind == "row" else {})


def tier_tables(cands: list[Candidate]) -> list[Candidate]:
    """Rows of one tier table each state a 'base': the lowest is base_min, the highest base_max.

    A table of 一档…五档 lists every base a person may choose; FACTS.md
    names its ends and its 社平 (100%) tier, so middle rows other than the
    100% one are dropped.
    """
    tables: dict[tuple[str, ...], list[Candidate]] = {}
    for c in cands:
        if c.metric == "base" and "row" in c.extras:
            tables.setdefault(c.sentence.header, []).append(c)
    drop: set[int] = set()
    for rows in tables.values():
        if len(rows) < 2:
            continue
        if len({float(c.value) for c in rows}) == 1:
            continue  # one base under every option: it stays a single `base`
        low = min(rows, key=lambda c: float(c.value))
        high = max(rows, key=lambda c: float(c.value))
        for c in rows:
            label = str(c.extras["row"])
            if c is low:
                c.metric = "base_min"
            elif c is high:
                c.metric = "base_max"
            elif re.search(r"100%|社平|社会平均|平均工资|中间档", label):
                c.metric = "base_mid"
            else:
                drop.add(id(c))
    return [c for c in cands if id(c) not in drop]
