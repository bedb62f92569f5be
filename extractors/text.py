"""Normalising a sentence so one grammar reads every way a figure is written.

Full-width digits (４２４２), Chinese numerals in front of a unit (四百元,
三个月, 百分之八), 万元, thousands separators and dashes all become one
ASCII form. Chinese numerals are converted only where they are captured as a
quantity — converting a whole page turns 零星 into 0星.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


_CN_DIGITS = "零〇一二两三四五六七八九十百千万点"
_CN_NUMBER = rf"[{_CN_DIGITS}]+"
# A Chinese numeral followed by a unit it quantifies.
_CN_QUANTITY = re.compile(rf"({_CN_NUMBER})(?=(?:个)?(?:万?元|月|天|日|周岁|岁|档|年|倍|项|种|人))")
_CN_PERCENT = re.compile(rf"百分之({_CN_NUMBER})")
_CN_YEAR = re.compile(r"([〇零一二三四五六七八九]{4})(?=年)")
_CN_YEAR_MAP = str.maketrans("〇零一二三四五六七八九", "00123456789")
_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3})((?:,\d{3})+)(?![\d])")
_WAN = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)万元")
_DASHES = str.maketrans({"—": "-", "–": "-", "－": "-", "―": "-", "~": "-", "〜": "-", "∽": "-", "‐": "-", "‑": "-"})
_SPACE = re.compile(r"[ \t\u3000\u00a0]+")


@lru_cache(maxsize=4096)
def cn_number(token: str) -> str | None:
    """'一百五十' → '150'; None when the token is not a numeral (零星, 一是)."""
    if token in ("点", "万", "千", "百") or token.startswith("点") or token.endswith("点"):
        return None
    import cn2an  # its import builds big patterns: only pay for it on a page that has a Chinese numeral

    try:
        value = cn2an.cn2an(token, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    number = float(value)
    return str(int(number)) if number == int(number) else str(number)


def _cn_quantity(m: re.Match[str]) -> str:
    return cn_number(m.group(1)) or m.group(1)


def _cn_percent(m: re.Match[str]) -> str:
    number = cn_number(m.group(1))
    return f"{number}%" if number else m.group(0)


def _wan(m: re.Match[str]) -> str:
    value = float(m.group(1)) * 10000
    return f"{int(value) if value == int(value) else value}元"


_CN_ANY = re.compile(f"[{_CN_DIGITS}]")
_SPACED_FIGURE = re.compile(r"(\d) (?=[元%])")


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """One spelling for figures: ASCII digits and punctuation, numerals converted, no 万."""
    s = unicodedata.normalize("NFKC", text).translate(_DASHES)
    s = _SPACE.sub(" ", s)
    if _CN_ANY.search(s):
        s = _CN_YEAR.sub(lambda m: m.group(1).translate(_CN_YEAR_MAP), s)
        if "百分之" in s:
            s = _CN_PERCENT.sub(_cn_percent, s)
        s = _CN_QUANTITY.sub(_cn_quantity, s)
    if "," in s:
        s = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), s)
    if "万元" in s:
        s = _WAN.sub(_wan, s)
    if " " in s:
        # "4416 元" / "7 %" : a space a capture put inside a figure
        s = _SPACED_FIGURE.sub(r"\1", s)
    return s


_FIGURE_CHAR = re.compile(r"[0-9０-９一二三四五六七八九十百两]")


def has_figure(text: str) -> bool:
    """Cheap test run before any grammar: does the sentence hold a number at all?"""
    return _FIGURE_CHAR.search(text) is not None
