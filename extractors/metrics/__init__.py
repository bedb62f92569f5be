"""Metric grammars, one module per family, run in the order of :data:`REGISTRY`."""
from __future__ import annotations

from typing import Callable, Iterator

from ..grammar import Candidate
from ..sentences import Sentence
from . import amounts, bases, periods, phones, rates, waiting

Grammar = Callable[[Sentence], Iterator[Candidate]]
PageRule = Callable[[list[Candidate]], list[Candidate]]

#: name → grammar; the order is the order of precedence when two grammars
#: claim the same figure (a 长护 4元 is a surcharge before it is anything else).
REGISTRY: dict[str, Grammar] = {
    "bases": bases.extract,
    "rates": rates.extract,
    "windows": periods.windows,
    "deadlines": periods.deadlines,
    "phones": phones.extract,
    "amounts": amounts.extract,
    "waiting": waiting.extract,
}

#: Rules that need every candidate of the page at once (a table's rows), in order.
PAGE_RULES: tuple[PageRule, ...] = (bases.tier_tables,)
