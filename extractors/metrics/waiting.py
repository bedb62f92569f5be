"""Waiting periods before benefits start (waiting_days).

Only a duration attached to 等待期 counts: 待遇等待期为6个月, 零星缴费的待遇等待期为90天,
设置3个月待遇等待期. Exemptions (不受待遇等待期限制), grace periods before it,
continuous-contribution requirements (连续缴费满6个月) and years of contribution
are not waiting periods.
"""
from __future__ import annotations

import re
from typing import Iterator

from ..grammar import DURATION, Candidate, clause_bounds, number
from ..scope import in_scope
from ..sentences import Sentence

WAIT = re.compile(r"等待期")
EXEMPT = re.compile(r"(?:不受|免除|免于|免|不设|取消|无|没有|不再设置|不再设|不计|豁免)[^,，;；。]{0,10}等待期")
NEAR = 10


def extract(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if "等待期" not in text:
        return
    for m in DURATION.finditer(text):
        start, end = m.start(), m.end()
        unit_word = m.group(3)
        if unit_word not in ("月", "天", "日"):
            continue
        clause_start, clause_end = clause_bounds(text, start)
        clause = text[clause_start:clause_end]
        if EXEMPT.search(clause) or not in_scope(sent, start):
            continue
        waits = [w for w in WAIT.finditer(text, clause_start, clause_end)]
        if not any(-NEAR <= start - w.end() <= NEAR or 0 <= w.start() - end <= NEAR for w in waits):
            continue
        between = text[end:min(w.start() for w in waits)] if waits and waits[0].start() >= end else ""
        if re.search(r"内|后|以内|之内|起", between[:3]) and not re.search(r"的", between):
            continue  # 3个月内…不受等待期 / 缴费满3个月后: a grace period, not the wait
        qualifier = None
        label = re.search(r"([^,，;；:：。]{2,12}?)的(?:待遇)?等待期", clause)
        if label and not re.search(r"待遇|享受|医疗保险|医保", label.group(1)):
            qualifier = label.group(1).strip()
        unit = "month" if unit_word == "月" else "day"
        yield Candidate("waiting_days", number(m.group(1)), unit, sent, start, qualifier=qualifier)
