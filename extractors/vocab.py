"""The fact vocabulary of ../shared/FACTS.md, as code.

Everything downstream (storage keys, webhook payloads, CSV columns) speaks in
these words, so they live in one place and nowhere else spells them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Final

#: Bump when a change to the extractors can change what they return for a
#: stored page: the pipeline re-extracts stored snapshots read by older versions.
EXTRACTOR_VERSION: Final = 1

SCHEMES: Final = ("flexible", "resident", "employee")

CORE_METRICS: Final = ("base_min", "base_max", "base_mid", "base", "rate", "window", "deadline", "phone")
SECONDARY_METRICS: Final = (
    "contribution", "subsidy", "funding", "assistance", "surcharge", "base_tier_pct", "waiting_days",
)
METRICS: Final = CORE_METRICS + SECONDARY_METRICS

UNITS: Final = ("CNY/month", "CNY/year", "percent", "day", "month", "date", "rule", "phone")

#: The unit a metric takes when the page does not force another one.
DEFAULT_UNIT: Final[dict[str, str]] = {
    "base_min": "CNY/month", "base_max": "CNY/month", "base_mid": "CNY/month", "base": "CNY/month",
    "rate": "percent", "window": "date", "deadline": "date", "phone": "phone",
    "contribution": "CNY/year", "subsidy": "CNY/year", "funding": "CNY/year", "assistance": "CNY/year",
    "surcharge": "CNY/month", "base_tier_pct": "percent", "waiting_days": "day",
}

Value = int | float | str


@dataclass(frozen=True, slots=True)
class Fact:
    """One figure a page states about one region's medical-insurance payment policy."""

    metric: str
    value: Value
    unit: str
    scheme: str | None = None
    year: int | None = None
    qualifier: str | None = None
    evidence: str = ""
    region: str | None = None
    province: str | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; valid: {', '.join(METRICS)}")
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {self.scheme!r}; valid: {', '.join(SCHEMES)}")
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; valid: {', '.join(UNITS)}")

    def with_(self, **changes: Any) -> Fact:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def normal_number(value: float) -> int | float:
    """4242.0 -> 4242, 4.2 -> 4.2: a figure prints the way the page wrote it."""
    rounded = round(value, 4)
    return int(rounded) if rounded == int(rounded) else rounded
