"""Page → facts: the one entry point every caller uses (Scrapy, the CLI, tests).

A pure function of (bytes, URL, observation time, region hint): no I/O, no
clock, no database. The stages are decode → main content → sentences with
context → metric grammars (``metrics.REGISTRY``) → page context fills scheme,
year and region → duplicates folded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from bisect import bisect_left
from collections import Counter
from functools import lru_cache
from datetime import datetime
from typing import Iterable

from .blocked import document_wall
from .content import Document, document_of
from .decode import decode_body
from .grammar import Candidate, year_in, year_near
from .metrics import PAGE_RULES, REGISTRY
from .grammar import clause_bounds
from .regions import page_region, region_named, subject_region
from .sentences import Sentence, sentences_of
from .vocab import EXTRACTOR_VERSION, Fact  # noqa: F401 - re-exported


MEDICAL_PAGE = re.compile(r"医保|医疗保险|医疗保障|医疗险|合作医疗|新农合|长期护理|大额医疗|职工医保|居民医保|医疗费|医疗")
# A page that names only these is about another insurance (or wages) and states no medical facts.
OTHER_PAGE = re.compile(r"养老|失业|工伤|住房公积金|退休年龄")
OTHER_TITLE = re.compile(r"养老|失业|工伤|住房公积金|退休年龄|最低工资|工资指导线")
SCHEME_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("flexible", re.compile(r"灵活就业|个体工商户|个体户|个体参保|个体人员|个体劳动者|自由职业|以个人身份|个人身份参|无雇工|"
                            r"个人参保")),
    ("resident", re.compile(r"城乡居民|居民医保|居民基本医疗|居民医疗保险|新农合|新型农村合作医疗|合作医疗|城镇居民|参保居民|"
                            r"居民参保|学生|儿童|未成年|居民个人|农村居民|一老一小|集中参保期|成年居民|婴幼儿|新生儿")),
    ("employee", re.compile(r"职工(?!医保|基本医疗保险|医疗保险|基本医保|大额|基本养老|养老)|单位|在职|职保|企业|员工")),
)
# People, not insurance names: 在职职工和灵活就业人员 names two groups, and a
# 灵活就业 elsewhere in the sentence does not make 退休人员 flexible.
EMPLOYEE_PEOPLE = re.compile(r"在职职工|退休人员|退休职工|用人单位|单位职工|参保单位|单位缴|单位和个人|职工个人|企业职工|"
                             r"机关事业单位")
# 职工医保 is the insurance flexible workers join too: employee only when it is the figure's own subject.
WEAK_EMPLOYEE = re.compile(r"职工医保|职工基本医疗保险|职工医疗保险|职工基本医保|职工大额")
PAIR = re.compile(r"(?:在职职工|职工|用人单位|单位职工|退休人员)\s*(?:和|及|与|、|以及)\s*(?:灵活就业|个体)|"
                  r"(?:灵活就业人员|个体工商户|灵活就业)\s*(?:和|及|与|、|以及)\s*(?:在职职工|职工|单位职工|退休人员)")
RESIDENT_METRICS = frozenset({"contribution", "subsidy", "funding", "assistance"})
MULTI_QUALIFIER = frozenset({"rate", "base_tier_pct", "surcharge", "assistance", "contribution"})


@lru_cache(maxsize=2048)
def schemes_in(text: str) -> list[tuple[int, str]]:
    """(position, scheme) of every scheme cue; 灵活就业 people pay 职工医保, so it silences generic employee cues."""
    found = [(m.start(), name) for name, rx in SCHEME_CUES for m in rx.finditer(text)]
    if any(name == "flexible" for _, name in found):
        found = [f for f in found if f[1] != "employee"]
    found += [(m.start(), "employee") for m in EMPLOYEE_PEOPLE.finditer(text)]
    return sorted(set(found))


def scheme_at(text: str, pos: int) -> str | None:
    """The scheme named nearest before pos (a figure's subject comes before it)."""
    before = [name for p, name in schemes_in(text) if p < pos]
    return before[-1] if before else None


def scheme_after(text: str, pos: int) -> str | None:
    after = [name for p, name in schemes_in(text) if p >= pos]
    return after[0] if after else None


def sole_scheme(text: str) -> str | None:
    """The scheme a heading or title names, when it names only one (潍坊灵活就业医保居民医保缴费 names two)."""
    names = {name for _, name in schemes_in(text)}
    return names.pop() if len(names) == 1 else None


def dominant_scheme(doc: Document) -> str | None:
    counts = Counter(name for _, name in schemes_in(doc.text))
    if not counts:
        return None
    (top, n), *rest = counts.most_common()
    return top if not rest or n > rest[0][1] else None


class PageContext:
    """What the whole page says, consulted when a sentence does not say it."""

    def __init__(self, doc: Document, region_hint: str | None, province_hint: str | None) -> None:
        self.doc = doc
        self.title = doc.title
        self.dominant = dominant_scheme(doc)
        hinted = region_named(region_hint)
        if region_hint:
            self.region: str | None = hinted.name if hinted else region_hint
            self.province = province_hint or (hinted.province if hinted else None)
        else:
            lines = [doc.title, *[b.text for b in doc.blocks[:2]], doc.site_name or "", *doc.publisher]
            found = page_region(line for line in lines if line)
            self.region = found.name if found else None
            self.province = found.province if found else province_hint

    def schemes(self, cand: Candidate) -> list[str | None]:
        """Usually one; two when the figure's clause names two groups (在职职工和灵活就业人员按每人每年96元)."""
        if not (cand.scheme_fixed or cand.scheme):
            text = cand.sentence.norm
            clause_start, _ = clause_bounds(text, cand.pos)
            if PAIR.search(text[clause_start:cand.pos]):
                return ["employee", "flexible"]
        return [self.scheme(cand)]

    def scheme(self, cand: Candidate) -> str | None:
        if cand.scheme_fixed or cand.scheme:
            return cand.scheme
        sent = cand.sentence
        found = scheme_at(sent.norm, cand.pos)
        for text in sent.context:
            if found:
                break
            found = sole_scheme(text)
        if found is None and WEAK_EMPLOYEE.search(sent.norm[:cand.pos]):
            found = "employee"  # 2025年度全市职工基本医疗保险缴费基数上限为…
        found = found or scheme_after(sent.norm, cand.pos) or self.dominant
        if found is None and any(WEAK_EMPLOYEE.search(t) for t in (sent.norm, *sent.context)):
            found = "employee"
        if cand.metric in RESIDENT_METRICS and found != "resident":
            return "resident"
        return found

    def year(self, cand: Candidate) -> int | None:
        if cand.year_fixed:
            return cand.year
        if cand.year is not None:
            return cand.year
        sent = cand.sentence
        found = year_near(sent.norm, cand.pos)
        for text in sent.context:
            if found is not None:
                break
            found = year_in(text)
        return found


    def region_of(self, cand: Candidate) -> tuple[str | None, str | None]:
        """A figure's own clause may name another city (相邻的济南市…8%); 本市 is the page's."""
        text = cand.sentence.norm
        clause_start, _ = clause_bounds(text, cand.pos)
        if _names_own_city(text, clause_start, cand.pos):
            return self.region, self.province
        found = subject_region(text, clause_start, cand.pos)
        if found is None or found.name == self.region:
            return self.region, self.province
        if self.region and found.level == "province" and found.name == self.province:
            return self.region, self.province  # 山东省…: the province of the page's city
        return found.name, found.province


@lru_cache(maxsize=2048)
def _own_city_positions(text: str) -> tuple[int, ...]:
    return tuple(m.start() for m in re.finditer("本市|我市|全市", text))


def _names_own_city(text: str, start: int, end: int) -> bool:
    positions = _own_city_positions(text)
    i = bisect_left(positions, start)
    return i < len(positions) and positions[i] < end


def _facts(cand: Candidate, page: PageContext) -> list[Fact]:
    region, province = (cand.region, None) if cand.region else page.region_of(cand)
    year = page.year(cand)
    return [Fact(metric=cand.metric, value=cand.value, unit=cand.unit, scheme=scheme, year=year,
                 qualifier=cand.qualifier, evidence=cand.sentence.raw, region=region, province=province)
            for scheme in page.schemes(cand)]


def fold_duplicates(facts: Iterable[Fact]) -> list[Fact]:
    """One fact per figure: a page that restates a figure states it once.

    Rates and other multi-option metrics keep one fact per distinct
    qualifier (options are different figures); a bare mention of a value
    that also appears with a qualifier is the same figure.
    """
    facts = list(facts)
    dated = {(f.metric, f.scheme, str(f.value), f.region) for f in facts if f.year is not None}
    # a restatement without a year of a figure the page dates elsewhere is that figure
    facts = [f for f in facts if f.year is not None or (f.metric, f.scheme, str(f.value), f.region) not in dated]
    groups: dict[tuple[object, ...], list[Fact]] = {}
    for f in facts:
        groups.setdefault((f.metric, f.scheme, f.year, str(f.value), f.region), []).append(f)
    out: list[Fact] = []
    for group in groups.values():
        qualified = [f for f in group if f.qualifier]
        if group[0].metric in MULTI_QUALIFIER and qualified:
            seen: set[str] = set()
            for f in qualified:
                if f.qualifier not in seen:
                    seen.add(f.qualifier or "")
                    out.append(f)
        else:
            out.append(qualified[0] if qualified else group[0])
    return out


_DIGIT = re.compile(r"\d")


def candidates_of(sentences: Iterable[Sentence]) -> list[Candidate]:
    found: list[Candidate] = []
    for sent in sentences:
        if not _DIGIT.search(sent.norm):
            continue  # 统一、一并: Chinese numeral characters in words, no figure once normalised
        for grammar in REGISTRY.values():
            found.extend(grammar(sent))
    return found


def is_medical_page(doc: Document) -> bool:
    """False for a page about pension, unemployment or wages, even one that names 医保 in passing.

    The title decides when it names only another insurance (…养老保险缴费基数上下限的通知); otherwise
    a page whose text names other insurances five times as often as medical insurance is theirs.
    """
    title = doc.title if len(doc.title) <= 60 else ""  # a text capture's first line may be a sentence
    if OTHER_TITLE.search(title) and not MEDICAL_PAGE.search(title):
        return False
    medical = len(MEDICAL_PAGE.findall(doc.text))
    other = len(OTHER_PAGE.findall(doc.text))
    if medical == 0:
        return other == 0
    return not (medical <= 3 and other >= 5 * medical)


def facts_of_document(doc: Document, region_hint: str | None = None, province_hint: str | None = None) -> list[Fact]:
    if not is_medical_page(doc):
        return []
    page = PageContext(doc, region_hint, province_hint)
    cands = candidates_of(sentences_of(doc))
    for rule in PAGE_RULES:
        cands = rule(cands)
    return fold_duplicates(f for c in _claimed_once(cands) for f in _facts(c, page))


def _claimed_once(cands: list[Candidate]) -> list[Candidate]:
    """A figure is read by one grammar: the first in registry order that claimed its position."""
    taken: set[tuple[int, int]] = set()
    out = []
    for c in cands:
        spot = (c.sentence.index, c.pos)
        if spot in taken and c.metric != "phone":
            continue
        taken.add(spot)
        out.append(c)
    return out


@dataclass(frozen=True, slots=True)
class Reading:
    """A fetched page read once: its facts, or why it is a wall and not the page."""

    facts: list[Fact]
    wall: str | None = None


def warm_up() -> None:
    """Build the lazily built parts (numeral patterns, the region index, site profiles) now.

    A process that forks readers calls this first, so each reader does not
    pay a quarter of a second for them on its first page.
    """
    read_page("<html><head><title>潍坊</title></head><body><p>缴费基数为四千元，等待期三个月。</p></body></html>",
              content_type="text/html")


def read_page(
    body: bytes | str,
    url: str | None = None,
    region_hint: str | None = None,
    province_hint: str | None = None,
    content_type: str | None = None,
    check_wall: bool = True,
) -> Reading:
    """Decode and parse once; tell a verification page or empty shell from content, then extract."""
    text = decode_body(body, content_type).text if isinstance(body, bytes) else body
    is_html = ("html" in content_type.lower() or None) if content_type else None
    # the publisher line only tells the region, which a configured source already gave
    doc = document_of(text, url, is_html, need_publisher=region_hint is None)
    facts = facts_of_document(doc, region_hint, province_hint)
    # a page that states figures is content; one that states none may be a wall in front of it
    wall = document_wall(doc) if check_wall and not facts else None
    return Reading(facts, wall)


def extract_facts(
    body: bytes | str,
    url: str | None = None,
    observed_at: datetime | None = None,
    region_hint: str | None = None,
    province_hint: str | None = None,
    content_type: str | None = None,
    is_html: bool | None = None,
) -> list[Fact]:
    """Every medical-insurance payment fact the page's main content states.

    ``observed_at`` is accepted so callers pass what they know; the grammar
    never reads the clock, so the same page gives the same facts tomorrow.
    """
    text = decode_body(body, content_type).text if isinstance(body, bytes) else body
    if is_html is None and content_type:
        is_html = "html" in content_type.lower() or None
    doc = document_of(text, url, is_html, need_publisher=region_hint is None)
    return facts_of_document(doc, region_hint, province_hint)
