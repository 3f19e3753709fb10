"""How a value of each column kind is written in machine formats (one place, so CSV and JSON agree)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any


def machine_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in ("pence", "int"):
        return int(value)
    if kind == "ratio":
        return round(float(value), 6)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
