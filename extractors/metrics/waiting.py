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
# Which wait it is: the group or situation it applies to, named anywhere before it.
SITUATION = re.compile(
    r"(零星(?:参保)?缴费|零星参保|中断缴费(?:后重新(?:参保|缴费))?|断缴|断保|首次参(?:保|加)|新参保|"
    r"集中(?:征缴|参保|缴费)期(?:结束)?后(?:参保)?|"
    r"未(?:在集中参保期内|连续)参保|固定待遇等待期|变动待遇等待期|逾期(?:参保|缴费))"
)
CAP = re.compile(r"(?:合计|总计|累计|最长|最多)[^,，;；。]{0,6}(不超过|不得超过|最长不超过)?\s*$")


# 自缴费次月起满3个月后方可享受医保待遇 / 连续缴费满6个月后，方可享受统筹基金支付的待遇:
# a wait stated without the word 等待期.
ENTITLE = re.compile(r"满\s*(\d+)\s*(个)?\s*(月|天|日)\s*(?:后|以后|之后)?\s*[,，]?\s*(?:方可|才能|才可|可|即可|开始|起)?\s*"
                     r"(?:按规定)?享受[^,，;；。]{0,20}待遇")


def _entitlement_waits(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    for m in ENTITLE.finditer(text):
        clause_start, clause_end = clause_bounds(text, m.start())
        if EXEMPT.search(text[clause_start:clause_end]) or re.search(r"年限|累计缴费满\s*\d+\s*年", text[clause_start:m.start()]):
            continue
        if not in_scope(sent, m.start()):
            continue
        situations = SITUATION.findall(text[:m.start()])
        yield Candidate("waiting_days", number(m.group(1)), "month" if m.group(3) == "月" else "day", sent,
                        m.start(1), qualifier=situations[-1] if situations else None)


def extract(sent: Sentence) -> Iterator[Candidate]:
    text = sent.norm
    if "等待期" not in text:
        if "享受" in text and "满" in text:
            yield from _entitlement_waits(sent)
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
        cap = CAP.search(text[clause_start:start])
        if cap and not waits and "等待期" in text[:clause_start]:
            # 两者合计原则上不超过6个月: the cap of the waits named just before
            yield Candidate("waiting_days", number(m.group(1)), "month" if unit_word == "月" else "day", sent, start,
                            qualifier="合计" + (cap.group(1) or ""))
            continue
        if not any(-NEAR <= start - w.end() <= NEAR or 0 <= w.start() - end <= NEAR for w in waits):
            continue
        between = text[end:min(w.start() for w in waits)] if waits and waits[0].start() >= end else ""
        if re.search(r"内|后|以内|之内|起", between[:3]) and not re.search(r"的", between):
            continue  # 3个月内…不受等待期 / 缴费满3个月后: a grace period, not the wait
        qualifier = None
        label = re.search(r"([^,，;；:：。]{2,12}?)的(?:待遇)?等待期", clause)
        if label and not re.search(r"待遇|享受|医疗保险|医保|\d|设置|设立|实行", label.group(1)):
            qualifier = label.group(1).strip()
        situations = SITUATION.findall(text[:end + 12])
        if qualifier is None and situations:
            qualifier = situations[-1]
        bound = re.search(r"(不超过|不得超过|最长|不少于|最短)\s*$", text[clause_start:start])
        if bound:
            qualifier = f"{qualifier}、{bound.group(1)}" if qualifier else bound.group(1)
        unit = "month" if unit_word == "月" else "day"
        yield Candidate("waiting_days", number(m.group(1)), unit, sent, start, qualifier=qualifier)
