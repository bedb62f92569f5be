"""Payment windows (window) and deadlines (deadline).

A window is a span of dates that the page says is for paying or enrolling:
集中征缴期：2024年9月23日至2025年2月28日; 每年的9月1日至12月31日集中办理下一年度参保.
The benefit year (医保年度 7月1日至次年6月30日), benefit periods, validity and
effective dates are not windows. A deadline is a date before which payment
must be made: 每月20日前 → monthly:20, 每年12月31日前 → --12-31.
"""
from __future__ import annotations

import calendar
import re
from typing import Iterator

from ..grammar import Candidate, any_of, clause_bounds
from ..scope import in_scope
from ..sentences import Sentence

_D = r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号])?"
_ISO = r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})"
SPAN = re.compile(
    rf"(每年的?|每年度的?)?\s*(?:{_D}|{_ISO})\s*(?:起|开始)?\s*[,，]?\s*(?:至|到|-|~|—)\s*(次年|当年|翌年|同年|下一年)?\s*(?:{_D}|{_ISO})"
)
WINDOW_CUE = any_of("征缴期", "缴费期", "缴费时间", "缴费日期", "参保缴费", "集中缴费", "集中征缴", "征缴", "缴纳时间",
                    "集中办理", "缴费周期", "缴费期限", "零星缴费", "集中参保", "参保时间", "参保期", "缴费窗口",
                    "办理参保", "参保登记", "缴费", "缴纳", "征收期", "申报缴费", "续保", "参保")
NOT_A_WINDOW = any_of("医保年度", "医疗保险年度", "待遇享受期", "享受期", "待遇期", "享受待遇", "待遇", "有效期", "执行期",
                      "执行时间", "施行", "报销", "结算", "统计", "基数", "工资", "试点", "过渡期", "备案", "申请",
                      "年度为", "补贴期", "领取", "发放", "退休", "期间内缴", "费款所属期", "所属期", "计算")
LABEL_CUE = re.compile(
    r"((?:集中|零星|正常|常规|补)?(?:征缴|缴费|参保缴费|参保|征收)(?:期|时间|周期|期限|日期)|集中征缴|集中缴费|缴费周期)"
)
AFTER_CUE = re.compile(r"^\s*(?:为|是)?\s*(?:集中|统一)?(?:办理|进行|开展)?[^,，;；。()（）]{0,8}?(?:参保|缴费|征缴|缴纳)"
                       r"(?!基数|工资|比例|标准|档次|年限)[^,，;；。]{0,8}")

MONTHLY = re.compile(r"(?:每月|次月|当月)(?:的)?\s*(\d{1,2})\s*[日号](?:\s*\(含\))?\s*(?:之前|以前|前|止)"
                     r"|(?:每月|当月)(?:的)?\s*\d{1,2}\s*[日号]?\s*(?:至|到|-)\s*(\d{1,2})\s*[日号](?=[^,，;；。]{0,8}缴)")
YEARLY = re.compile(r"(?:每年|当年|每年度|次年|翌年)(?:的)?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号](?:\s*\(含\))?\s*(?:之前|以前|前|止|截止)"
                    r"|截(?:止|至)(?:到)?\s*每年(?:的)?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"
                    r"|截止(?:时间|日期)?\s*(?:为|是|:)?\s*(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
DATED = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号](?:\s*\(含\))?\s*(?:24时|24:00)?\s*(?:之前|以前|前|截止|为止|止)"
)
CUT_OFF = re.compile(r"截(?:止|至)(?:时间|日期)?[^,，;；。\d]{0,4}?(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
PAY_CUE = any_of("缴费", "缴纳", "缴清", "征缴", "参保", "扣款", "扣费", "缴")
NOT_A_DEADLINE = any_of("报销", "申请", "备案", "领取", "认定", "提交", "申领", "登记(?!缴费)", "审核", "公示", "退费",
                        "结算", "施行", "执行", "生效", "统计", "截至目前", "比对", "通报", "进度", "核查", "上报", "报送",
                        "汇总", "公布", "核对", "完成率")
QUAL_TRIM = re.compile(r"^(?:完成|进行|办理|及时|足额|按时)+")


def _day(month: int, day: str | None, end: bool, year: int | None = None) -> int:
    if day:
        return int(day)
    if not end:
        return 1
    return calendar.monthrange(year or 2001, month)[1]


def _valid(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _span_value(m: re.Match[str]) -> tuple[str, int | None] | None:
    """The ISO interval a span match spells, and its end year (None when recurring)."""
    g = m.groups()
    every, (y1, m1, d1), (iy1, im1, id1) = g[0], g[1:4], g[4:7]
    next_year, (y2, m2, d2), (iy2, im2, id2) = g[7], g[8:11], g[11:14]
    if iy1:
        y1, m1, d1 = iy1, im1, id1
    if im2:
        y2, m2, d2 = iy2, im2, id2
    month1, month2 = int(m1), int(m2)
    start_year = int(y1) if y1 else None
    end_year = int(y2) if y2 else None
    if end_year is None and start_year is not None:
        end_year = start_year + (1 if next_year in ("次年", "翌年", "下一年") or month2 < month1 else 0)
    day1, day2 = _day(month1, d1, False), _day(month2, d2, True, end_year)
    if not (_valid(month1, day1) and _valid(month2, day2)):
        return None
    if start_year is None or every:
        if start_year is not None and not every:
            return None
        return f"--{month1:02d}-{day1:02d}/--{month2:02d}-{day2:02d}", None
    assert end_year is not None
    return f"{start_year:04d}-{month1:02d}-{day1:02d}/{end_year:04d}-{month2:02d}-{day2:02d}", end_year


def _window_label(text: str, start: int, end: int) -> str | None:
    clause_start, clause_end = clause_bounds(text, start)
    before = text[clause_start:start]
    cues = list(LABEL_CUE.finditer(before))
    if cues:
        return cues[-1].group(1)
    after = AFTER_CUE.match(text[end:clause_end])
    if after:
        return after.group(0).strip(" 为是") or None
    return None


def windows(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if "月" not in text and not re.search(r"\d{4}[-./]\d", text):
        return
    for m in SPAN.finditer(text):
        start, end = m.start(), m.end()
        clause_start, clause_end = clause_bounds(text, start)
        # the cue of a window sits near it; a bounded look keeps a page of spans linear
        before = text[max(clause_start, start - 60):start]
        after = text[end:min(clause_end, end + 60)]
        context = before + after[:20]
        if NOT_A_WINDOW.search(before[-12:]) or NOT_A_WINDOW.search(after[:20]):
            continue
        if re.search(r"\d{4}\s*年度\s*[(（]\s*$", text[max(0, start - 12):start]):
            continue  # 2025年度（2025年1月至12月）: the span defines the year, it is not a window
        if not (WINDOW_CUE.search(before) or AFTER_CUE.match(after) or (
                sent.kind in ("item", "row") and WINDOW_CUE.search(sent.lead + " ".join(sent.headings[:1])))):
            continue
        if not in_scope(sent, start):
            continue
        spelled = _span_value(m)
        if spelled is None:
            continue
        value, end_year = spelled
        policy = re.search(r"(\d{4})\s*年度", context)
        if end_year is None:
            year = int(policy.group(1)) if policy else None
            yield Candidate("window", value, "date", sent, start, qualifier=_window_label(text, start, end),
                            year=year, year_fixed=bool(m.group(1)) or policy is not None)
        else:
            year = int(policy.group(1)) if policy else end_year
            yield Candidate("window", value, "date", sent, start, qualifier=_window_label(text, start, end),
                            year=year, year_fixed=True)


def _deadline_qualifier(text: str, end: int, start: int) -> str | None:
    _, clause_end = clause_bounds(text, end)
    after = QUAL_TRIM.sub("", text[end:clause_end].strip(" ,，:"))
    if 2 <= len(after) <= 16:
        return after
    clause_start, _ = clause_bounds(text, start)
    before = text[clause_start:start].strip(" :")
    before = re.sub(r"(?:需|应|须|请|务必|要|需要|应当|必须)?\s*(?:在|于)?\s*$", "", before)
    return before[-12:] or None


def deadlines(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if "日" not in text and "号" not in text:
        return
    found: list[tuple[int, int, str, int | None, bool]] = []
    for m in MONTHLY.finditer(text):
        day = int(m.group(1) or m.group(2))
        if 1 <= day <= 31:
            found.append((m.start(), m.end(), f"monthly:{day}", None, True))
    for m in YEARLY.finditer(text):
        groups = [g for g in m.groups() if g is not None]
        month, day = int(groups[0]), int(groups[1])
        if _valid(month, day):
            found.append((m.start(), m.end(), f"--{month:02d}-{day:02d}", None, True))
    for rx in (DATED, CUT_OFF):
        for m in rx.finditer(text):
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if _valid(mo, d):
                found.append((m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", y, False))
    seen: set[str] = set()
    for start, end, value, year, fixed in sorted(found):
        if value in seen:
            continue
        clause_start, clause_end = clause_bounds(text, start)
        clause = text[clause_start:clause_end]
        if not PAY_CUE.search(clause) or NOT_A_DEADLINE.search(clause) or not in_scope(sent, start):
            continue
        if SPAN.search(text, max(0, start - 30), end) and not re.search(r"前|截止", text[start:end]):
            continue
        seen.add(value)
        policy = re.search(r"(\d{4})\s*年度", clause)
        if policy and not fixed:
            year = int(policy.group(1))
        yield Candidate("deadline", value, "rule" if value.startswith("monthly") else "date", sent, start,
                        qualifier=_deadline_qualifier(text, end, start), year=year, year_fixed=True)
