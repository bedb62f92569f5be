"""Is a figure about medical insurance? Pension, unemployment and injury figures are out.

The insurance named nearest before the figure decides (养老保险费16%；医疗保险费9%);
a sentence naming none inherits from its lead-in, headings and title, so a
pension notice's 上限27501元 stays out even when its own sentence is bare.
"""
from __future__ import annotations

from .grammar import MEDICAL, OTHER_INSURANCE, nearest_insurance
from .sentences import Sentence


def context_scope(text: str) -> str | None:
    """'medical', 'other' or None for a context line (a heading, a title)."""
    if MEDICAL.search(text):
        return "medical"
    if OTHER_INSURANCE.search(text):
        return "other"
    return None


def in_scope(sent: Sentence, pos: int) -> bool:
    near = nearest_insurance(sent.norm, pos)
    if near is not None:
        return near == "medical"
    for text in sent.context:
        scope = context_scope(text)
        if scope is not None:
            return scope == "medical"
    return True
