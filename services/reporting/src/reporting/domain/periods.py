"""Reporting periods of the English local-government financial year (1 April to 31 March)."""
from __future__ import annotations

from datetime import date

PERIODS = ("month", "quarter", "year")


def financial_year(day: date) -> int:
    """The calendar year the financial year of `day` starts in: 0 for January to March of year 1."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_start(day: date) -> date:
    """1 April of the financial year of `day`; for January to March of year 1, whose financial year began
    before the calendar does (on 0000-04-01, which Python cannot name), the calendar's first day."""
    fy = financial_year(day)
    return date(fy, 4, 1) if fy >= 1 else date.min


def period_label(day: date, period: str) -> str:
    """month: 2026-04; quarter: FY2026-Q1 (April to June); year: FY2026/27."""
    fy = financial_year(day)
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "quarter":
        return f"FY{fy}-Q{((day.month - 4) % 12) // 3 + 1}"
    if period == "year":
        return f"FY{fy}/{(fy + 1) % 100:02d}"
    raise ValueError(f"period must be one of {PERIODS}, not {period!r}")
