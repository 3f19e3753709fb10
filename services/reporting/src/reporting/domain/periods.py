"""Reporting periods of the English local-government financial year (1 April to 31 March)."""
from __future__ import annotations

from datetime import date

PERIODS = ("month", "quarter", "year")


def financial_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def period_label(day: date, period: str) -> str:
    """month: 2026-04; quarter: FY2026-Q1 (April to June); year: FY2026/27."""
    fy = financial_year_start(day).year
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "quarter":
        return f"FY{fy}-Q{((day.month - 4) % 12) // 3 + 1}"
    if period == "year":
        return f"FY{fy}/{(fy + 1) % 100:02d}"
    raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
