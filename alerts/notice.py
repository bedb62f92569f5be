"""What a channel delivers: its own types, so alerts depend on no other stage.

A :class:`Notice` is one message: the changes of one run (or a source-health
notice, or a test), with a delivery id that stays the same across retries so
receivers can de-duplicate.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

METRIC_LABELS = {
    "base_min": "缴费基数下限", "base_max": "缴费基数上限", "base_mid": "缴费基数（社平档）", "base": "缴费基数",
    "rate": "缴费比例", "window": "缴费期", "deadline": "缴费截止", "phone": "咨询电话", "contribution": "个人缴费标准",
    "subsidy": "财政补助标准", "funding": "筹资标准", "assistance": "定额资助", "surcharge": "附加险费用",
    "base_tier_pct": "缴费档次（社平工资%）", "waiting_days": "待遇等待期",
}
SCHEME_LABELS = {"flexible": "灵活就业", "resident": "城乡居民", "employee": "职工", "": "", None: ""}
KIND_LABELS = {"added": "新增", "changed": "变更", "new_period": "新年度", "removed": "取消", "conflict": "来源不一致"}
UNIT_SUFFIX = {"CNY/month": "元/月", "CNY/year": "元/年", "percent": "%", "day": "天", "month": "个月"}


@dataclass(frozen=True, slots=True)
class Change:
    event_id: str
    kind: str
    region: str | None
    province: str | None
    scheme: str | None
    metric: str
    qualifier: str | None
    year: int | None
    old: Any
    new: Any
    unit: str
    source_url: str
    evidence: str
    detected_at: str  # ISO 8601

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def label(self) -> str:
        """潍坊市 灵活就业 缴费基数上限（2025）"""
        parts = [self.region or "（未定地区）", SCHEME_LABELS.get(self.scheme, self.scheme or ""),
                 METRIC_LABELS.get(self.metric, self.metric)]
        text = " ".join(p for p in parts if p)
        if self.qualifier:
            text += f"·{self.qualifier}"
        if self.year:
            text += f"（{self.year}）"
        return text

    def show(self, value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, list):
            return "、".join(self.show(v) for v in value)
        return f"{value}{UNIT_SUFFIX.get(self.unit, '')}"

    def relative_change(self) -> float | None:
        """|new − old| / |old| for numeric changes; None when not comparable."""
        if isinstance(self.old, (int, float)) and isinstance(self.new, (int, float)) and self.old:
            return abs(float(self.new) - float(self.old)) / abs(float(self.old))
        return None


@dataclass(frozen=True, slots=True)
class HealthNotice:
    source_id: str
    url: str
    state: str  # broken | recovered
    failures: int
    error: str | None
    detected_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Notice:
    delivery_id: str
    run_id: int | None
    changes: tuple[Change, ...] = ()
    health: tuple[HealthNotice, ...] = ()
    test: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def regions(self) -> list[str]:
        return list(dict.fromkeys(c.region or "未定地区" for c in self.changes))

    def payload(self) -> dict[str, Any]:
        """The webhook body: the contract receivers code against (README)."""
        body: dict[str, Any] = {"run_id": self.run_id, "changes": [c.as_dict() for c in self.changes]}
        if self.health:
            body["health"] = [h.as_dict() for h in self.health]
        if self.test:
            body["test"] = True
        return body


class DeliveryFailed(Exception):
    """A channel could not deliver; ``retry`` says whether trying later can help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry
