"""Contribution rates (rate) and bases chosen as a share of the average wage (base_tier_pct).

A percent is a rate when it is what a base is multiplied by — 缴费比例为7%,
费率有四种：6%…或7%…, 按上年度月平均工资的4.2%或8%缴费 — and a tier when it
picks the base — 60%、80%、100%、300%四个档次, 60%至300%之间. Percents of
what the fund pays (报销比例, 自付比例), what goes to the personal account
(划入个人账户比例), shares of an amount (应缴社会保险费的50%) and changes
(增长5%) are neither.
"""
from __future__ import annotations

import re
from typing import Iterator

from ..grammar import BENEFIT, PERCENT, Candidate, any_of, clause_bounds, number, parenthetical_after
from ..scope import in_scope
from ..sentences import Sentence

RATE_CUE = any_of("比例", "费率", "缴费率", "比率", "缴纳", "缴费", "征收", "费为", "征缴", "按", "计征",
                  "单位", "个人", "合计", "共计", "档次", "选择", "保险费", "险费", "医保费", "降至", "调整为", "调整到")
# Cues that make a percent a contribution even after a negative word: 缴费比例, 费率.
STRONG_CUE = any_of("缴费比例", "缴纳比例", "征收比例", "费率", "缴费率", "缴费", "缴纳", "征收", "保险费", "险费",
                    "医保费")
NOT_A_RATE = any_of("划入", "划拨", "计入", "返还", "拨付", "增长", "同比", "提高了", "下降", "降低了", "上涨", "减少",
                    "占", "利率", "税率", "折", "优惠", "补贴", "补助", "资助", "奖励", "通胀", "覆盖", "参保率",
                    "以上", "达到", "达", "完成率", "人数", "满意", "减征", "减半", "上浮", "下浮", "浮动",
                    "个人账户比例", "账户", "支付", "先行")
SHARE_OF_AMOUNT = re.compile(r"(?:费|(?<!工资总)(?<!工资)额|部分|金额|标准|收入|费用)的\s*$")
TIER_LABEL = re.compile(r"档\s*[(（]?\s*$|档次\s*[:：]?\s*$")
OF_WAGE = re.compile(r"(?:平均工资|社平工资|工资|平均工资水平|社会平均工资|月平均工资)(?:的)?\s*$")
TIER_AFTER = re.compile(r"^\s*(?:[、,，和及与或]\s*\d+(?:\.\d+)?\s*%\s*)*(?:[两二三四五六七八九十\d]*个?)?\s*(?:档|档次|之间)")
RANGE_AFTER = re.compile(r"\s*(?:至|到|-|~)\s*(\d+(?:\.\d+)?)\s*%")
LIST_JOIN = re.compile(r"^\s*(?:[(（][^()（）]{0,30}[)）])?\s*(?:或|、|和|及|与|,|，|或者)\s*$")
OPTION = re.compile(
    r"((?:不建立?|建立|有|无|不设|设立?|不划入?|划入|不含|含|包含|包括|带|不带|不包括|无)"
    r"(?:个人)?(?:医疗)?(?:账户|个账|生育(?:保险)?|大额|长护|长期护理))"
)
PAYER = re.compile(r"(用人单位|单位|企业|职工个人|个人)(?!账户|身份|缴费标准|账)")
PAID_OUT_AFTER = re.compile(r"\s*(?:左右)?\s*(?:的)?(?:报销|支付|赔付|补偿|结算|报账|补贴|补助|返还|划入|计入)")
MAX_RATE, MIN_TIER, MAX_TIER = 20.0, 40.0, 400.0


def _options(text: str, start: int, end: int) -> list[str]:
    """The option words that tell one rate from its siblings."""
    found: list[str] = []
    paren = parenthetical_after(text, end)
    if paren and OPTION.search(paren):
        found.append(paren)
    else:
        clause_start, clause_end = clause_bounds(text, start)
        before = text[clause_start:start]
        found += [m.group(1) for m in OPTION.finditer(before)]
        # the next clause may state the option: 缴费比例降至7%，个人不建立账户
        nxt = text[clause_end + 1:clause_end + 16]
        m = re.match(r"\s*((?:个人)?(?:不建立?|建立|不设|有|无|不划入?)(?:个人)?(?:医疗)?(?:账户|个账))", nxt)
        if m:
            found.append(m.group(1))
        if paren and not found:
            found.append(paren)
    return found


def _payer(text: str, start: int) -> str | None:
    if not re.search(r"单位|企业", text):
        return None
    payers = [m.group(1) for m in PAYER.finditer(text, 0, start)]
    if not payers:
        return None
    return "单位" if payers[-1] in ("用人单位", "单位", "企业") else "个人"


def _last_end(rx: re.Pattern[str], text: str) -> int:
    end = -1
    for m in rx.finditer(text):
        end = m.end()
    return end


def _contribution_percent(text: str, start: int, end: int, label: str) -> bool:
    """Whether a percent is paid in (a rate or tier) rather than paid out, credited or a change."""
    if SHARE_OF_AMOUNT.search(label) or PAID_OUT_AFTER.match(text[end:]):
        return False
    before = text[:start]
    strong = _last_end(STRONG_CUE, before)
    if _last_end(BENEFIT, before) > strong:
        return False
    return _last_end(NOT_A_RATE, label) <= _last_end(STRONG_CUE, label)


def _is_tier(text: str, start: int, end: int, label: str) -> bool:
    if TIER_AFTER.match(text[end:]) or TIER_LABEL.search(label):
        return True
    return bool(OF_WAGE.search(label)) and bool(re.search(r"基数|档", text)) and not re.match(
        r"\s*(?:或\s*\d+(?:\.\d+)?%\s*)?(?:的比例)?(?:缴费|缴纳|缴)", text[end:])


def extract(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if "%" not in text:
        return
    prev_end, prev_kind = 0, None
    skip_until = -1
    for m in PERCENT.finditer(text):
        start, end = m.start(), m.end()
        if start < skip_until:
            continue
        value = float(m.group(1))
        clause_start, _ = clause_bounds(text, start)
        gap = text[prev_end:start] if prev_end else ""
        continues = prev_kind is not None and bool(LIST_JOIN.match(gap))
        label = text[clause_start:start]
        prev_end = end
        kind = prev_kind if continues else None
        prev_kind = None
        if not in_scope(sent, start):
            continue
        if not continues and not _contribution_percent(text, start, end, label):
            continue
        rng = RANGE_AFTER.match(text, end)
        if kind == "tier" or (kind is None and _is_tier(text, start, end, label)):
            if not MIN_TIER <= value <= MAX_TIER:
                continue
            prev_kind = "tier"
            if rng and MIN_TIER <= float(rng.group(1)) <= MAX_TIER:
                yield Candidate("base_tier_pct", number(m.group(1)), "percent", sent, start, qualifier="下限")
                yield Candidate("base_tier_pct", number(rng.group(1)), "percent", sent, rng.start(1), qualifier="上限")
                skip_until = prev_end = rng.end()
                continue
            bound = re.search(r"(下限|上限|最低|最高)[^%]{0,12}$", label)
            qualifier = None
            if bound:
                qualifier = "下限" if bound.group(1) in ("下限", "最低") else "上限"
            yield Candidate("base_tier_pct", number(m.group(1)), "percent", sent, start, qualifier=qualifier)
            continue
        if rng:
            skip_until = prev_end = rng.end()  # 0.2%-1.9%: a band of industry rates, not one rate
            continue
        if not 0 < value <= MAX_RATE:
            continue
        if kind != "rate" and not (RATE_CUE.search(label) or re.match(r"\s*(?:[(（][^)）]*[)）])?\s*(?:的比例)?(?:缴费|缴纳|缴)",
                                                                      text[end:])):
            continue
        prev_kind = "rate"
        parts = [p for p in (_payer(text, start), *_options(text, start, end)) if p]
        qualifier = "、".join(dict.fromkeys(parts)) or None
        yield Candidate("rate", number(m.group(1)), "percent", sent, start, qualifier=qualifier)
