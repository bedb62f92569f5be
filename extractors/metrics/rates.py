"""Contribution rates (rate) and bases chosen as a share of the average wage (base_tier_pct).

A percent is a rate when it is what a base is multiplied by — 缴费比例为7%,
费率有四种：6%…或7%…, 按上年度月平均工资的4.2%或8%缴费 — and a tier when it
picks the base — 60%、80%、100%、300%四个档次, 60%至300%之间. Percents of
what the fund pays (报销比例, 自付比例), what goes to the personal account
(划入个人账户比例), shares of an amount (应缴社会保险费的50%) and changes
(增长5%) are neither. Of the cue words before a percent, the nearest decides.
"""
from __future__ import annotations

import re
from typing import Iterator

from ..grammar import BENEFIT, PERCENT, Candidate, any_of, clause_bounds, number
from ..scope import in_scope
from ..sentences import Sentence

RATE_CUE = any_of("比例", "费率", "缴费率", "比率", "缴纳", "缴费", "征收", "费为", "征缴", "按", "计征",
                  "单位", "个人", "合计", "共计", "档次", "选择", "保险费", "险费", "医保费", "降至", "调整为", "调整到")
# Cues that make a percent a contribution even after a negative word: 缴费比例, 费率.
STRONG_CUE = any_of("缴费比例", "缴纳比例", "征收比例", "费率", "缴费率", r"缴费(?!基数|工资|年限)", "缴纳", "征收",
                    "保险费", "险费", "医保费")
NOT_A_RATE = any_of("划入", "划拨", "计入", "返还", "拨付", "增长", "同比", "提高了", "下降", "降低了", "上涨", "减少",
                    "占", "利率", "税率", "折", "优惠", "补贴", "补助", "资助", "奖励", "通胀", "覆盖", "参保率",
                    "以上", "达到", "达", "完成率", "人数", "满意", "减征", "减半", "上浮", "下浮", "浮动",
                    "个人账户比例", "支付", "先行")
SHARE_OF_AMOUNT = re.compile(r"(?:费|(?<!工资总)(?<!工资)额|部分|金额|标准|收入|费用)的\s*$")
TIER_LABEL = re.compile(r"档\s*[(（]?\s*$|档次\s*[:：]?\s*$")
OF_WAGE = re.compile(r"(?:平均工资|社平工资|工资|平均工资水平|社会平均工资|月平均工资)(?:的)?\s*$")
TIER_AFTER = re.compile(r"^\s*(?:(?:[、,，和及与或至到\-~])\s*\d+(?:\.\d+)?\s*%\s*)*(?:[两二三四五六七八九十\d]*个?)?\s*"
                        r"(?:档|档次|之间|的?范围)")
RANGE_AFTER = re.compile(r"\s*(?:至|到|-|~)\s*(\d+(?:\.\d+)?)\s*%")
LIST_JOIN = re.compile(r"^\s*(?:[(（][^()（）]{0,30}[)）])?\s*(?:或|、|和|及|与|,|，|或者)\s*$")
PAID_OUT_AFTER = re.compile(r"\s*(?:左右)?\s*(?:的)?[^,，;；。\d]{0,4}?(?:报销|支付|赔付|补偿|结算|报账|补贴|补助|返还|划入|计入)")
PAY_AFTER = re.compile(r"^\s*(?:[(（][^)）]*[)）])?\s*(?:的)?(?:缴费比例|缴费率|比例|缴费|缴纳|缴|征收)")
# An option word and what it is about: 不建立个人账户, 含生育保险, 无个人账户、带生育
OPTION = re.compile(
    r"((?:不建立?|建立|有|无|不设立?|设立?|不划入?|划入|不含|含|包含|包括|带|不带|不包括|不参加|参加|不享受|享受)"
    r"[^,，;；。()（）]{0,6}?(?:账户|个账|生育(?:保险)?)|统账结合|单建统筹(?:基金)?|单建统筹)"
)
SURCHARGE = (("长期护理保险", re.compile(r"长期护理|长护|护理保险")), ("大额医疗保险", re.compile(r"大额|大病")))
PAYER = re.compile(r"(用人单位|单位|企业|职工个人|个人)(?!账户|身份|缴费标准|账|医疗账户)")
LEAD_CUE = re.compile(r"(?:比例|费率)(?:为|是|如下)?\s*:")
MAX_RATE, MIN_TIER, MAX_TIER = 20.0, 40.0, 400.0


def _last_end(rx: re.Pattern[str], text: str) -> int:
    end = -1
    for m in rx.finditer(text):
        end = m.end()
    return end


def _options(text: str, start: int, end: int, value: str, prev_end: int = 0) -> list[str]:
    """The option words that tell one rate from its siblings, wherever the sentence puts them."""
    clause_start, clause_end = clause_bounds(text, start)
    own_start = max(clause_start, prev_end)
    after = re.match(r"\s*[(（]([^()（）]{1,30})[)）]", text[end:]) or re.search(
        r"[(（]([^()（）]{1,30})[)）]", text[end:clause_end])
    if after and re.search(r"\d", after.group(1)):
        after = None  # 统账结合(费率8%)或单建统筹(费率6%): a figure's own parentheses, not an option
    if after and OPTION.search(after.group(1)):
        return [after.group(1).strip()]
    found = [m.group(1) for m in OPTION.finditer(text[own_start:start])]
    previous = text[:clause_start].rstrip(",，")
    if not found and previous.endswith("的"):  # 选择建立个人账户的，按9%缴费
        prev_start, _ = clause_bounds(text, max(0, len(previous) - 1))
        found = [m.group(1) for m in OPTION.finditer(text[prev_start:len(previous)])]
    nxt = re.match(r"\s*[,，]?\s*((?:个人)?(?:不建立?|建立|不设|有|无|不划入?)[^,，;；。]{0,6}?(?:账户|个账))",
                   text[clause_end:clause_end + 20])
    if nxt:
        found.append(nxt.group(1))
    later = re.search(rf"(?:选择|选|按){re.escape(value)}%的\s*[,，]?\s*([^,，;；。]{{2,16}})", text[end:])
    if later and OPTION.search(later.group(1)):
        found.append(OPTION.search(later.group(1)).group(1))  # type: ignore[union-attr]
    if not found and after:
        found.append(after.group(1).strip())
    return found


def _payer(text: str, start: int) -> str | None:
    if not re.search(r"单位|企业", text):
        return None
    payers = [m.group(1) for m in PAYER.finditer(text, 0, start)]
    if not payers:
        return None
    return "单位" if payers[-1] in ("用人单位", "单位", "企业") else "个人"


def _surcharge(clause_before: str) -> str | None:
    for name, rx in SURCHARGE:
        if rx.search(clause_before):
            return name
    return None


def _contribution_percent(text: str, start: int, end: int, label: str) -> bool:
    """Whether a percent is paid in (a rate or tier) rather than paid out, credited or a change."""
    if SHARE_OF_AMOUNT.search(label) or PAID_OUT_AFTER.match(text[end:]):
        return False
    before = text[:start]
    if _last_end(BENEFIT, before) > _last_end(STRONG_CUE, before):
        return False
    return _last_end(NOT_A_RATE, label) <= _last_end(STRONG_CUE, label)


def _is_tier(text: str, start: int, end: int, label: str) -> bool:
    if TIER_AFTER.match(text[end:]) or TIER_LABEL.search(label):
        return True
    if re.search(r"(?:上限|下限)[^%]{0,30}$", label) and re.search(r"基数", text):
        return True  # 下限按上年平均工资60%核定，上限按300%核定
    return bool(OF_WAGE.search(label)) and bool(re.search(r"基数|档", text)) and not PAY_AFTER.match(text[end:])


def _tier_bound(label: str) -> str | None:
    bound = None
    for m in re.finditer(r"下限|上限|最低|最高", label):
        bound = "下限" if m.group(0) in ("下限", "最低") else "上限"
    return bound


def extract(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if "%" not in text:
        return
    lead_cue = LEAD_CUE.search(text) or (sent.kind in ("item", "row") and LEAD_CUE.search(sent.lead + ":"))
    prev_end, prev_kind = 0, None
    skip_until = -1
    for m in PERCENT.finditer(text):
        start, end = m.start(), m.end()
        if start < skip_until:
            continue
        value = float(m.group(1))
        clause_start, _ = clause_bounds(text, start)
        gap = text[prev_end:start] if prev_end else ""
        previous_end = prev_end
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
            yield Candidate("base_tier_pct", number(m.group(1)), "percent", sent, start, qualifier=_tier_bound(label))
            continue
        if rng:
            skip_until = prev_end = rng.end()  # 0.2%-1.9%: a band of industry rates, not one rate
            continue
        if not 0 < value <= MAX_RATE:
            continue
        cued = RATE_CUE.search(label) or PAY_AFTER.match(text[end:]) or (lead_cue and lead_cue.start() < start)
        if kind != "rate" and not cued:
            continue
        prev_kind = "rate"
        surcharge = _surcharge(label)
        row_options = [o.group(1) for o in OPTION.finditer(re.split(r"[;；]", text)[0])] if sent.kind == "row" else []
        parts = [surcharge] if surcharge else [_payer(text, start), *(row_options or _options(
            text, start, end, m.group(1), previous_end))]
        qualifier = "、".join(dict.fromkeys(p for p in parts if p)) or None
        yield Candidate("rate", number(m.group(1)), "percent", sent, start, qualifier=qualifier)
