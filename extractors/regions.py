"""Which city or province a page is about, in full official names.

A page's region comes from where a page names itself: its title, breadcrumb,
site name or publisher line — never from the first city the body mentions,
because generic guides cite cities as examples (如“淄博医保”“贺州医保”等)
and must yield region null.
"""
from __future__ import annotations

import csv
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    short: str
    province: str
    level: str  # province | city


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    text = resources.files(__package__).joinpath("data/regions.tsv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return tuple(Region(r["name"], r["short"], r["province"], r["level"]) for r in rows)


_AMBIGUOUS_SHORT = frozenset(
    "东方 大同 长治 安康 三明 新星 白杨 双河 昆玉 北屯 铁门关 胡杨河 可克达拉 五家渠 阿拉尔 图木舒克".split()
)


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Region], re.Pattern[str]]:
    by_word: dict[str, Region] = {}
    # Short names that are also common words (大同, 长治久安, 东方, 三明治) are
    # only recognised in full.
    # Full names first; a short name shared by a province and a city (吉林)
    # or two regions (海南) resolves to the province, the safer reading.
    for r in sorted(regions(), key=lambda r: r.level != "province"):
        by_word.setdefault(r.name, r)
        if len(r.short) >= 2 and r.short not in _AMBIGUOUS_SHORT:
            by_word.setdefault(r.short, r)
    words = sorted(by_word, key=len, reverse=True)
    return by_word, re.compile("|".join(map(re.escape, words)))


def region_named(name: str | None) -> Region | None:
    """The region a full or short name stands for (潍坊 → 潍坊市)."""
    if not name:
        return None
    return _index()[0].get(name.strip())


# Text right after a short name that shows it is not a place: 中山大学, 东方红.
_NOT_A_PLACE = re.compile(r"^(?:大学|医院|公园|路|街|红|学院|银行)")


@lru_cache(maxsize=2048)
def _all_mentions(text: str) -> tuple[tuple[tuple[int, int, Region], ...], tuple[int, ...]]:
    found = tuple(mentions(text))
    return found, tuple(e for _, e, _ in found)


def mentions(text: str) -> list[tuple[int, int, Region]]:
    """(start, end, region) of every region named in a text, in order."""
    by_word, rx = _index()
    found = []
    for m in rx.finditer(text):
        if _NOT_A_PLACE.match(text[m.end():]):
            continue
        found.append((m.start(), m.end(), by_word[m.group(0)]))
    return found


def regions_in(text: str) -> list[Region]:
    """Regions named in a line, in order, most specific spelling first."""
    return [r for _, _, r in mentions(text)]


# A city named as an example, inside quotes or as an organisation's name is
# not the subject of the figure.
_EXAMPLE_BEFORE = re.compile(r"(?:如|例如|比如|像|参照|参考|对比|比照|“|\"|《|「)\s*$")
_ORG_AFTER = re.compile(r"^(?:市|省)?(?:[^,，;；。\s]{0,6}?)(?:医保局|医疗保障局|税务局|人社局|人力资源|政府|医院|大学)")
_LEADING = re.compile(r"^\s*(?:相邻的|邻近的|周边的|而|但|其中|另外|此外|同时|在)?\s*$")


def subject_region(text: str, clause_start: int, pos: int) -> Region | None:
    """The city a figure's own clause (or its sentence's opening words) names as subject."""
    def usable(start: int, end: int) -> bool:
        return not _EXAMPLE_BEFORE.search(text[max(0, start - 3):start]) and not _ORG_AFTER.match(text[end:])

    named, ends = _all_mentions(text)
    before = named[:bisect_right(ends, pos)]
    in_clause = [(s, e, r) for s, e, r in before if s >= clause_start and usable(s, e)]
    if in_clause:
        return in_clause[-1][2]
    opening = [(s, e, r) for s, e, r in before[:3] if _LEADING.match(text[:s]) and usable(s, e)]
    return opening[0][2] if opening else None


def page_region(lines: Iterable[str]) -> Region | None:
    """The most specific region named by the first line that names one.

    Lines come in order of authority (title, breadcrumb, site name,
    publisher). Within a line a city beats its own province (山东省潍坊市 →
    潍坊市); two different cities in one line leave the line ambiguous.
    """
    for line in lines:
        found = regions_in(line)
        if not found:
            continue
        cities = {r.name: r for r in found if r.level == "city"}
        if len(cities) == 1:
            return next(iter(cities.values()))
        if len(cities) > 1:
            return None
        provinces = {r.name for r in found}
        if len(provinces) == 1:
            return found[0]
        return None
    return None
