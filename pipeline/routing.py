"""Which channel gets which event: per-channel filters, digest or immediate.

A channel's outbox rows are grouped into *batches*; one batch is one message
and carries one delivery id. Digest channels get one batch per run;
immediate channels one batch per event.
"""
from __future__ import annotations

import json
from typing import Any

from .config import AlertBase


def _relative_change(old: Any, new: Any) -> float | None:
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and old:
        return abs(float(new) - float(old)) / abs(float(old))
    return None


def matches(alert: AlertBase, region: str, province: str | None, scheme: str, metric: str, kind: str,
            old: str | None, new: str | None) -> bool:
    if alert.regions and region not in alert.regions:
        return False
    if alert.provinces and (province or "") not in alert.provinces:
        return False
    if alert.schemes and scheme not in alert.schemes:
        return False
    if alert.metrics and metric not in alert.metrics:
        return False
    if alert.kinds and kind not in alert.kinds:
        return False
    if alert.min_change and kind in ("changed", "new_period"):
        change = _relative_change(json.loads(old) if old else None, json.loads(new) if new else None)
        if change is not None and change < alert.min_change:
            return False
    return True


def batch_for(alert: AlertBase, channel: str, run_id: int | None, event_uid: str) -> str:
    if alert.mode == "immediate":
        return f"{channel}:event:{event_uid}"
    return f"{channel}:run:{run_id}"
