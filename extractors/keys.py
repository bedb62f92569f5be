"""A fact's identity is its meaning, not its wording.

Two pages — or two versions of one page — that say 无个人账户、带生育 and
不建个人账户，含生育 state the same option; a diff keyed on the raw words
would cry wolf on every rewording. ``qualifier_key`` reduces a qualifier to
the tokens that tell siblings apart (account / maternity / payer /
surcharge / tier end / group) and drops the rest.
"""
from __future__ import annotations

import re

_ACCOUNT_NO = re.compile(r"(?:无|不建立?|不设立?|不划入?|没有|不含|未建立?)(?:个人)?(?:医疗)?(?:账户|个账)")
_ACCOUNT_YES = re.compile(r"(?:有|建立|设立?|划入|含|带|包含|包括)(?:个人)?(?:医疗)?(?:账户|个账)")
_MATERNITY_NO = re.compile(r"(?:不含|无|不带|不包括|不包含|没有|未含|不参加)生育")
_MATERNITY_YES = re.compile(r"(?:含|带|包含|包括|有|参加|合并)生育")
_PAYER_EMPLOYER = re.compile(r"单位|企业|用人单位|雇主")
_PAYER_PERSON = re.compile(r"个人(?!账户|医疗账户|身份)|职工个人")
_SURCHARGE = (("ltc", re.compile(r"长期护理|长护|护理保险")), ("major", re.compile(r"大额|大病|补充医疗")))
_GROUPS = (("student", re.compile(r"学生|儿童|未成年|婴幼儿|少年")), ("elder", re.compile(r"老年|60周岁|七十|70周岁")),
           ("adult", re.compile(r"成年|一般居民|城乡居民")), ("college", re.compile(r"大学生|在校")))
_WINDOW = (("sporadic", re.compile(r"零星|补缴|非集中")), ("concentrated", re.compile(r"集中|征缴期|统一")))
_WAIT = (("sporadic", re.compile(r"零星|集中.*(?:后|外)|逾期|过期")), ("interrupted", re.compile(r"中断|断缴")),
         ("first", re.compile(r"首次|新参保|初次")))
_NOISE = re.compile(r"[\s、，,;；:：()（）\[\]【】“”\"'·.。等的]|电话|热线|号码|咨询|服务|专线|联系|方式|科室|标准|对象|"
                    r"定额资助|资助")


def _tokens(table: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> list[str]:
    return [name for name, rx in table if rx.search(text)]


def rate_key(qualifier: str) -> str:
    parts = []
    if _ACCOUNT_NO.search(qualifier):
        parts.append("account=no")
    elif _ACCOUNT_YES.search(qualifier):
        parts.append("account=yes")
    if _MATERNITY_NO.search(qualifier):
        parts.append("maternity=no")
    elif _MATERNITY_YES.search(qualifier):
        parts.append("maternity=yes")
    stripped = _ACCOUNT_NO.sub("", _ACCOUNT_YES.sub("", qualifier))
    if _PAYER_EMPLOYER.search(stripped):
        parts.append("payer=employer")
    elif _PAYER_PERSON.search(stripped):
        parts.append("payer=person")
    parts += [f"surcharge={name}" for name in _tokens(_SURCHARGE, qualifier)]
    return ";".join(parts)


def qualifier_key(metric: str, qualifier: str | None) -> str:
    """The part of a qualifier that is identity; '' when it only rewords."""
    q = qualifier or ""
    if not q:
        return ""
    if metric == "rate":
        return rate_key(q)
    if metric == "surcharge":
        return ",".join(_tokens(_SURCHARGE, q)) or _NOISE.sub("", q)
    if metric == "base_tier_pct":
        return "min" if re.search(r"下限|最低", q) else "max" if re.search(r"上限|最高", q) else ""
    if metric in ("contribution",):
        return ",".join(_tokens(_GROUPS, q))
    if metric == "window":
        return ",".join(_tokens(_WINDOW, q))
    if metric == "waiting_days":
        return ",".join(_tokens(_WAIT, q))
    if metric in ("phone", "assistance"):
        return _NOISE.sub("", q)
    return ""
