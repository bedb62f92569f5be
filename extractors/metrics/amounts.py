"""Fixed yuan amounts: contribution, subsidy, funding, assistance and surcharge.

The resident scheme is priced in fixed amounts — 个人缴费标准每人每年400元,
财政补助不低于670元, 人均筹资标准不低于1070元, 低保对象按每人200元标准予以资助 —
and employee insurance adds fixed surcharges (长期护理保险每月4元, 大额医疗每年
150元). The cue nearest before the amount names the metric; reimbursement,
benefit and birth-subsidy amounts are paid out and are not these.
"""
from __future__ import annotations

import re
from typing import Iterator

from ..grammar import BENEFIT, Candidate, any_of, clause_bounds, comparison_before, number
from ..scope import in_scope
from ..sentences import Sentence

AMOUNT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:元|(?=/年|/月|/人))")
# In a table whose column says 元, cells hold bare numbers: 标准(元/人·年):不低于670
ROW_AMOUNT = re.compile(r"(?<=:)\s*(?:不低于|不少于|不超过|最低|最高)?\s*(\d+(?:\.\d+)?)(?![\d.%])")
# A clause that only continues the one before: 个人缴费标准提高20元，达到每人每年400元
CONTINUES = re.compile(r"^\s*(?:\d{4}\s*年度?)?\s*(?:达到|提高到|提高至|增加到|增加至|增至|调整为|调整到|调整至|为|是|即|较|比)")
GROUP_WORDS = re.compile(
    r"((?:(?:成年|城乡)?居民|成年人|中小学生|大学生|在校学生|学生|婴幼儿|少年儿童|儿童|未成年人?|老年人|"
    r"60周岁以上(?:老年人|居民)?|70周岁以上(?:老年人|居民)?|新生儿)(?:和|及|、|与)?)+")
SURCHARGES = (
    (any_of("长期护理", "长护", "护理保险"), "长期护理保险", "CNY/month"),
    (any_of("大额医疗", "大额医保", "大额补充", "大额", "大病保险", "大病医疗", "补充医疗", "职工大额"), "大额医疗保险",
     "CNY/year"),
)
CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("assistance", any_of("资助", "代缴", "定额补助")),
    ("subsidy", any_of("财政补助", "财政补贴", "政府补助", "政府补贴", "各级财政", "财政", "补助标准")),
    ("funding", any_of("筹资标准", "筹资水平", "人均筹资", "总筹资", "筹资")),
    ("contribution", any_of("个人缴费", "个人缴纳", "个人缴", "缴费标准", "居民个人", "成年居民", "成年人",
                            "学生", "儿童", "未成年", "老年", "大学生", "中小学", "个人应缴", "个人需缴",
                            r"\d+周岁(?:以上|以下|及以上)?(?:的)?(?:城乡)?居民", "婴幼儿", "新生儿")),
)
# Only when no cue above is in the clause: 居民医保每人每年缴纳380元.
WEAK_CONTRIBUTION = any_of("缴纳", "缴费", "缴交", "交纳", "应缴", "需缴")
AFTER_ASSISTANCE = re.compile(r"^[^,，;；。]{0,10}资助")
NOT_AN_AMOUNT = any_of("提高", "增加", "新增", "上涨", "增长", "下降", "减少", "降低", "补缴", "滞纳", "罚款", "利息",
                       "划转", "划拨", "拨付", "一共", "实缴", "假设", "假如", "如果",
                       "差额", "工资", "收入", "基数", "起付", "报销", "支付", "限额", "医疗费", "分娩", "生育补贴",
                       "生育津贴", "营养", "一次性", "奖励", "住院", "门诊", "待遇")
RANGES = {"contribution": (30, 3000), "subsidy": (50, 3000), "funding": (100, 5000), "assistance": (10, 3000),
          "surcharge": (1, 3000)}
BOUND = re.compile(r"(不低于|不少于|不超过|最低|最高|最少|至少)\s*(?:每人每年|每人|每年)?\s*$")
GROUP = re.compile(r"([^,，;；:：。]{2,24}?)(?:等|对象|人员)?(?:\s*[,，:：]|$)")
PER_MONTH = re.compile(r"每月|/月|月缴|按月|每人每月|元/人/月|·月")
PER_YEAR = re.compile(r"每年|/年|年缴|按年|每人每年|元/人/年|·年|/人/年|年度")


SURCHARGE_WORDS = any_of("大额医疗费用补助", "大额医疗费用", "大额医疗补助", "长期护理保险", "长期护理", "长护险", "长护",
                         "护理保险", "大额医疗", "大额", "大病保险", "大病", "补充医疗")
AFTER_PAY = re.compile(r"^\s*(?:/年|/月)?\s*(?:的)?(?:标准)?\s*(?:缴纳|缴费|缴交|征收|收取|为|是|用于|作为)")


def _period(text: str, start: int, end: int, default: str) -> str:
    """CNY/month or CNY/year: the period word nearest the amount (长护每月4元、大额每年150元)."""
    _, clause_end = clause_bounds(text, end)
    best: tuple[int, str] | None = None
    for rx, unit in ((PER_MONTH, "CNY/month"), (PER_YEAR, "CNY/year")):
        for m in rx.finditer(text, max(0, start - 8), start):
            if m.end() <= start and (best is None or start - m.end() < best[0]):
                best = (start - m.end(), unit)
        for m in rx.finditer(text, end, max(end + 6, min(len(text), clause_end + 12))):
            if best is None or m.start() - end < best[0]:
                best = (m.start() - end, unit)
    return best[1] if best else default


def _last(rx: re.Pattern[str], text: str) -> int:
    end = -1
    for m in rx.finditer(text):
        end = m.end()
    return end


def _assistance_group(text: str, start: int) -> str | None:
    """Who an assistance amount is for: the clause's subject, or the clause before when this one is bare."""
    clause_start, _ = clause_bounds(text, start)
    own = re.sub(r"^\s*(?:对|对于|其中|给予)", "", text[clause_start:start])
    own = re.split(r"按|每人|参保|个人缴费|由", own)[0].strip()
    if len(own) >= 2:
        return own
    previous = text[:clause_start].rstrip(",，;；")
    prev_start, _ = clause_bounds(text, max(0, len(previous) - 1))
    group = re.sub(r"^[^:：]*[:：]", "", text[prev_start:len(previous)]).strip()
    group = re.sub(r"^\s*(?:对|对于)", "", group)
    return group or None


def _surcharge(label: str) -> tuple[str, str] | None:
    best: tuple[int, str, str] | None = None
    for rx, name, unit in SURCHARGES:
        end = _last(rx, label)
        if end >= 0 and (best is None or end > best[0]):
            best = (end, name, unit)
    return (best[1], best[2]) if best else None


PAY_VERB = re.compile(r"缴纳|缴费|征收|收取|代扣|一并")


def _surcharge_from_heading(sent: Sentence, start: int, end: int) -> tuple[str, str] | None:
    """Under a heading such as （三）职工大额医疗互助, a bare 退休人员按每人每年120元缴纳 prices that add-on."""
    text = sent.norm
    clause_start, clause_end = clause_bounds(text, start)
    if not sent.headings or not PAY_VERB.search(text[clause_start:clause_end]):
        return None
    if re.search(r"基数|费率|比例|%", text[clause_start:clause_end]):
        return None
    return _surcharge(sent.headings[0]) if len(sent.headings[0]) <= 20 else None


def _surcharge_of(text: str, start: int, end: int, prev_start: int) -> tuple[str, str] | None:
    """The surcharge an amount prices: named just before it (长护4元, 缴纳大额医疗费用补助，每人每年120元)
    or right after a paying verb (按每人每年180元的标准缴纳大额医疗费用补助)."""
    before = text[max(prev_start, start - 24):start]
    found = _surcharge(before)
    if found and _last(SURCHARGE_WORDS, before) > _last(NOT_AN_AMOUNT, before):
        return found
    _, clause_end = clause_bounds(text, start)
    after = text[end:clause_end]
    m = AFTER_PAY.match(after)
    if m and SURCHARGE_WORDS.search(after[m.end():m.end() + 8]):
        return _surcharge(after[m.end():m.end() + 12])
    return None


def sent_scheme_hint(sent: Sentence) -> str | None:
    """A fixed yuan amount paid by an employee or flexible worker is not a resident contribution."""
    if re.search(r"灵活就业|职工|单位|个体", sent.norm):
        return "employee"
    return None


def _amounts(sent: Sentence) -> list[re.Match[str]]:
    if sent.kind == "row" and any("元" in h for h in sent.header):
        return list(ROW_AMOUNT.finditer(sent.norm))
    return list(AMOUNT.finditer(sent.norm))


def extract(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if "元" not in text and "/年" not in text and not any("元" in h for h in sent.header):
        return
    row_label = re.split(r"[;；]", text)[0].split(":", 1)[-1] if sent.kind == "row" else ""
    prev_end = prev_start = 0
    for m in _amounts(sent):
        start, end = m.start(1), m.end()
        clause_start, _ = clause_bounds(text, start)
        cont = CONTINUES.match(text[clause_start:start])
        if cont and clause_start > 0:
            own = clause_start
            clause_start, _ = clause_bounds(text, clause_start - 1)
            # the change words belong to the continuation, not to the figure: 提高20元，达到400元
            label = re.sub(r"(?:提高|增加|新增|上涨)\d+(?:\.\d+)?元", "", text[clause_start:own])
            label += text[own + cont.end():start]
        elif sent.kind == "row":
            clause_start = 0  # a row reads as one clause: 项目:个人缴费;标准(元/人·年):400
            label = text[:start]
        else:
            label = text[max(clause_start, prev_end):start]
        wide = text[clause_start:start]
        prev_end = end
        if comparison_before(text, start) or not in_scope(sent, start):
            continue
        if re.match(r"\s*(?:的标准)?\s*(?:划转|划拨|拨付|转入|划入)", text[end:]):
            continue  # 按每人每年65元划转: an allocation between funds, not a payment
        value = float(m.group(1))
        scan = wide if len(label) < 2 else label
        negative = _last(NOT_AN_AMOUNT, scan)
        surcharge = _surcharge_of(text, start, end, prev_start) or _surcharge_from_heading(sent, start, end)
        prev_start = end
        if surcharge:
            name, unit = surcharge
            lo, hi = RANGES["surcharge"]
            if lo <= value <= hi and not re.search(r"待遇|支付|报销|床日|每日|/天|每天", scan + text[end:end + 4]):
                yield Candidate("surcharge", number(m.group(1)), _period(text, start, end, unit), sent, start,
                                qualifier=name)
            continue
        metric = None
        cue_end = -1
        for name, rx in CUES:
            end_of = _last(rx, scan)
            if end_of > cue_end:
                metric, cue_end = name, end_of
        if metric is None and sent.kind in ("item", "para") and sent.lead:
            for name, rx in CUES:
                if rx.search(sent.lead):
                    metric, cue_end = name, len(scan)  # 个人缴费标准如下： / 18周岁以上居民：每人每年620元
                    break
        if AFTER_ASSISTANCE.match(text[end:]):
            metric, cue_end = "assistance", len(scan)
        elif metric is None and _last(WEAK_CONTRIBUTION, scan) >= 0 and sent_scheme_hint(sent) != "employee":
            metric, cue_end = "contribution", _last(WEAK_CONTRIBUTION, scan)
        if metric is None or cue_end < negative:
            continue
        if metric != "assistance" and _last(BENEFIT, scan) > cue_end:
            continue
        lo, hi = RANGES[metric]
        if not lo <= value <= hi or value != int(value):
            continue  # 314.12元 is a worked example (基数×费率), not a standard
        if metric == "contribution" and _period(text, start, end, "CNY/year") != "CNY/year":
            continue
        bound = BOUND.search(text[:start])
        qualifier: str | None = None
        if bound:
            qualifier = "不低于" if bound.group(1) in ("不低于", "不少于", "最低", "最少", "至少") else "不超过"
        if metric == "assistance":
            qualifier = row_label or _assistance_group(text, start)
        elif metric == "contribution":
            group = GROUP_WORDS.search(row_label or wide) or GROUP_WORDS.search(text[:start])
            if group and group.group(0).strip("和及、与") not in ("居民", "城乡居民"):
                qualifier = group.group(0).strip("和及、与")
        yield Candidate(metric, number(m.group(1)), "CNY/year", sent, start, qualifier=qualifier,
                        scheme="resident" if metric != "contribution" else None)
