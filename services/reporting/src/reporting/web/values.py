"""How report values read to a person: pence as pounds, ratios as percentages, dates in ISO 8601.

Owns the display text of each column kind of the report contract (text, pence, int, date, ratio); the
machine formats (JSON, CSV, XLSX) keep the raw values and never go through here.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

NUMERIC_KINDS = frozenset({"pence", "int", "ratio"})


def pounds(pence: int) -> str:
    """Integer pence as pounds and pence with thousands separators: -123456 -> "-£1,234.56"."""
    sign = "-" if pence < 0 else ""
    whole, part = divmod(abs(int(pence)), 100)
    return f"{sign}£{whole:,}.{part:02d}"


def percent(ratio: float, places: int = 1) -> str:
    return f"{ratio * 100:.{places}f}%"


def display(value: Any, kind: str) -> str:
    """The text a person reads for one cell; an empty cell is an em dash so it is never mistaken for zero."""
    if value is None:
        return "—"
    if kind == "pence":
        return pounds(value)
    if kind == "ratio":
        return percent(float(value))
    if kind == "int":
        return f"{int(value):,}"
    if kind == "date" and isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)
