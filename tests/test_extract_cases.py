"""Table-driven extraction: sentences → expected facts (tests/data/extract_cases.yaml).

The cases were labelled by hand from FACTS.md and the Chinese text, never
pasted from the extractor's output. Each names what must come out; `exact`
cases also fail on any extra fact — that is where the traps live.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from extractors import Fact, extract_facts
from extractors.keys import qualifier_key

CASES = yaml.safe_load((Path(__file__).parent / "data" / "extract_cases.yaml").read_text("utf-8"))


def _digits(v: object) -> str:
    return re.sub(r"\D", "", str(v))


def same_value(metric: str, want: Any, got: Any) -> bool:
    if metric == "phone":
        a, b = sorted((_digits(want), _digits(got)), key=len)
        return a == b or (bool(a) and b.endswith(a) and re.fullmatch(r"0\d{2,3}", b[: -len(a)]) is not None)
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        try:
            return abs(float(want) - float(got)) < 1e-6
        except (TypeError, ValueError):
            return False
    return str(want) == str(got)


def similar_qualifier(metric: str, want: str | None, got: str | None) -> bool:
    if not want:
        return True
    if not got:
        return False
    if want in got or got in want:
        return True
    key = qualifier_key(metric, want)
    if key and key == qualifier_key(metric, got):
        return True
    a, b = set(want), set(got)
    return len(a & b) / len(a | b) >= 0.5


def matches(exp: dict[str, Any], f: Fact) -> bool:
    if f.metric != exp["metric"] or f.unit != exp["unit"] or not same_value(f.metric, exp["value"], f.value):
        return False
    if exp.get("scheme") is not None and f.scheme != exp["scheme"]:
        return False
    if "year" in exp and f.year != exp["year"]:
        return False
    if "region" in exp and f.region != exp["region"]:
        return False
    return similar_qualifier(f.metric, exp.get("qualifier"), f.qualifier)


def _show(facts: list[Fact]) -> str:
    return "\n".join(f"  {f.metric} {f.value} {f.unit} scheme={f.scheme} year={f.year} q={f.qualifier} "
                     f"region={f.region}" for f in facts) or "  (none)"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    facts = extract_facts(case["text"], region_hint=case.get("region_hint"), is_html=bool(case.get("html")))
    expected = case.get("expect") or []
    used: set[int] = set()
    missing = []
    for exp in expected:
        hit = next((i for i, f in enumerate(facts) if i not in used and matches(exp, f)), None)
        if hit is None:
            missing.append(exp)
        else:
            used.add(hit)
    extra = [f for i, f in enumerate(facts) if i not in used] if case.get("exact", True) else []
    assert not missing and not extra, (
        f"{case.get('note', '')}\nmissing: {missing}\nextra:\n{_show(extra)}\nall facts:\n{_show(facts)}")


def test_cases_cover_every_metric_and_trap_kinds() -> None:
    from extractors import METRICS

    seen = {e["metric"] for c in CASES for e in c.get("expect") or []}
    assert set(METRICS) <= seen
    assert len(CASES) >= 80
    assert sum(1 for c in CASES if c["id"].startswith("trap-")) >= 20
