"""Article blocks → sentences, each with the context an analyst reads it in.

A figure's scheme and year are often stated once, above it: in the title
(潍坊灵活就业医保缴费2023), a section heading (缴费时间), or a lead-in line
ending with a colon (2025年居民医保的缴费标准如下：). Each sentence carries
those so the metric grammars stay sentence-local.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from .content import Block, Document, looks_like_heading
from .text import has_figure, normalize

_SPLIT = re.compile(r"(?<=[。！？!?])")
# 4416×7%+5=314.12元 / 假设…: a worked example restates figures and computes others; none is a fact.
WORKED_EXAMPLE = re.compile(r"\d\s*[×xX*╳]\s*\d|\d\s*%?\s*[+＋]\s*\d[^。]*=|=\s*\d+(?:\.\d+)?\s*元|假设|假如|举个例子|计算[:：]")
_LEAD_END = re.compile(r"(?:[:：]|如下|以下|如下[:：])\s*$")


@dataclass(frozen=True, slots=True)
class Sentence:
    raw: str  # as the page has it: the evidence
    norm: str  # normalised for matching
    kind: str  # para | item | row | heading
    headings: tuple[str, ...]  # nearest first, normalised
    lead: str  # a lead-in sentence above a list or table, normalised ('' when none)
    header: tuple[str, ...] = ()  # table column labels, for rows
    index: int = 0  # position in the article, for ordering and de-duplication

    @property
    def context(self) -> tuple[str, ...]:
        """Texts to consult for scheme and year, nearest first."""
        return ((self.lead,) if self.lead else ()) + self.headings


def _row_text(block: Block) -> str:
    """A table row read with its column labels: 档次:一档；缴费基数(元/月):4416；…"""
    cells = block.text.split(" | ")
    if block.header and len(block.header) == len(cells):
        return "；".join(f"{h}:{c}" for h, c in zip(block.header, cells))
    return "；".join(cells)


def sentences_of(doc: Document) -> Iterator[Sentence]:
    """Every sentence of the article that holds a figure, with its context."""
    headings: list[str] = []
    lead = ""
    index = 0
    title = normalize(doc.title)
    for block in doc.blocks:
        if block.kind == "heading":
            norm = normalize(block.text)
            headings.insert(0, norm)
            del headings[3:]
            lead = ""
            if has_figure(block.text):
                index += 1
                yield Sentence(block.text, norm, "heading", tuple(headings[1:]) + (title,), "", (), index)
            continue
        if block.kind == "row":
            text = _row_text(block)
            index += 1
            yield Sentence(block.text, normalize(text), "row", tuple(headings) + (title,), lead, block.header, index)
            continue
        parts = [p.strip() for p in _SPLIT.split(block.text) if p.strip()]
        local = headings
        for i, part in enumerate(parts):
            figure = has_figure(part)
            if not figure and not (i == 0 and len(parts) > 1) and i != len(parts) - 1:
                continue  # a sentence without a number states no figure and leads nothing
            norm = normalize(part)
            if i == 0 and len(parts) > 1 and looks_like_heading(part):
                # <p><b>（三）职工大额医疗互助。</b>在职职工按每人每年240元缴纳…</p>: a run-in heading
                local = [norm, *headings][:3]
                continue
            if figure and not WORKED_EXAMPLE.search(norm):
                index += 1
                yield Sentence(part, norm, block.kind, tuple(local) + (title,),
                               lead if block.kind in ("item", "para") else "", (), index)
        last = normalize(parts[-1]) if parts else ""
        if _LEAD_END.search(last):
            lead = last
        elif block.kind == "para" and len(block.text) > 60:
            lead = ""
