"""Consultation phone numbers (phone), with their label.

A number is a phone only next to a phone cue (咨询电话, 服务热线, 拨打 …);
numbers in lists after the cue (16653658032、7282167) share it. The value
keeps the area code only when the page gives one. Footer lines (地址 … 电话 …
邮编) never reach here: main-content isolation removed them; lines that still
look like a footer are skipped as a second guard.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

import phonenumbers

from ..grammar import Candidate, any_of, clause_bounds
from ..sentences import Sentence

PHONE = re.compile(
    r"(?<![\d\-])(?:\+?86[-\s]?)?"
    r"(?:"
    r"(?P<area>\(?0\d{2,3}\)?)[-\s]?(?P<local>[2-9]\d{6,7}|12\d{3}|96\d{3,4})"
    r"|(?P<mobile>1[3-9]\d{9})"
    r"|(?P<service>400[-\s]?\d{3}[-\s]?\d{4}|800[-\s]?\d{3}[-\s]?\d{4}|12\d{3}|9[56]\d{3,4})"
    r"|(?P<bare>[2-9]\d{6,7})"
    r")(?:\s*(?:转|-|ext\.?)\s*(?P<ext>\d{1,5}))?(?![\d%元年月日号.])"
)
CUE = any_of("电话", "热线", "咨询", "拨打", "联系方式", "联系", "服务台", "客服", "座机", "手机", "Tel", "TEL", "tel",
             "致电", "专线", "服务号码", "号码")
FOOTER = any_of("邮编", "邮政编码", "传真", "ICP", "备案号", "版权", "主办", "承办", "网站标识码", "公网安备", "办公时间",
                "地址")
LIST_JOIN = re.compile(r"^\s*(?:[、,，/或和及;；]|\s)\s*$")
VERB_ONLY = re.compile(r"^(?:请|可|也可|或|并)?(?:拨打|致电|联系|咨询|电话|拨)$")


@lru_cache(maxsize=4096)
def _possible_cn(digits: str) -> bool:
    """phonenumbers' check of area code + number (a page names the same few numbers again and again)."""
    try:
        return bool(phonenumbers.is_possible_number(phonenumbers.parse(digits, "CN")))
    except phonenumbers.NumberParseException:
        return False


def phone_value(m: re.Match[str]) -> str | None:
    """Digits of a phone as the page gives it: 0536-7909603, 7909603, 16653658032, 12393."""
    if m.group("area"):
        area = m.group("area").strip("()")
        local = m.group("local")
        if local.startswith(("12", "96")):
            return f"{area}-{local}"  # a service number behind a city's area code: 0543-12393
        return f"{area}-{local}" if _possible_cn(area + local) else None
    for name in ("mobile", "service", "bare"):
        if m.group(name):
            return re.sub(r"[\s]", "", m.group(name))
    return None


LABEL_AFTER = re.compile(r"^\s*([^\d,，;；。()（）]{2,14}?(?:热线|电话|专线|服务号))")


def _label(text: str, clause_start: int, start: int, end: int | None = None) -> str | None:
    """The words naming a phone: before it (咨询电话：), or after it (拨打12366纳税缴费服务热线)."""
    if end is not None:
        after = LABEL_AFTER.match(text[end:])
        before = re.sub(r"(?:可|请|也可|或)?(?:拨打|致电|联系)\s*$", "", text[clause_start:start]).strip(" :：")
        if after and not CUE.search(before):
            return after.group(1).strip()
    label = text[clause_start:start].strip(" :：()（）")
    label = re.split(r"(?:或|和|及|以及)(?=[^或和及]*$)", label)[-1] if re.search(r"电话|热线|咨询", label) else label
    label = re.sub(r"^(?:[一二三四五六七八九十\d]+[、.]\s*)", "", label)
    label = re.sub(r"(?:为|是|请|可|拨打|致电)+$", "", label).strip(" :")
    label = re.sub(r"^(?:请|可|也可|或|并|如有疑问|如有问题)+", "", label).strip(" :,")
    if not label or VERB_ONLY.match(label) or len(label) > 24:
        return None
    return label


_FIVE_DIGITS = re.compile(r"\d{5}")


def extract(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if not _FIVE_DIGITS.search(text) or FOOTER.search(text):
        return
    cue_in_context = bool(sent.headings and CUE.search(sent.headings[0]) and len(sent.headings[0]) <= 12)
    prev_end = -1
    label: str | None = None
    for m in PHONE.finditer(text):
        start, end = m.start(), m.end()
        clause_start, _ = clause_bounds(text, start)
        joined = prev_end >= 0 and bool(LIST_JOIN.match(text[prev_end:start]))
        before = text[max(clause_start, prev_end if prev_end >= 0 else 0):start]
        if not joined:
            if not (CUE.search(before) or CUE.search(text[end:end + 6]) or cue_in_context):
                prev_end = -1
                continue
            if m.group("bare") and not (CUE.search(before) or CUE.search(text[end:end + 6])):
                prev_end = -1
                continue
            label = _label(text, max(clause_start, prev_end if prev_end >= 0 else 0), start, end)
            if label is None and cue_in_context:
                label = sent.headings[0]
        value = phone_value(m)
        prev_end = end
        if label and re.search(r"养老|失业|工伤|公积金", label) and not re.search(r"医保|医疗|社保|社会保险", label):
            continue  # 株洲市社会保险服务中心（养老、失业、工伤保险）: another insurance's line
        if value is None:
            continue
        yield Candidate("phone", value, "phone", sent, start, qualifier=label, year=None, year_fixed=True,
                        scheme=None, scheme_fixed=True)
