"""Machine formats of a ReportTable: CSV, JSON and XLSX (HTML for people comes from reporting.web.html)."""
from __future__ import annotations

from collections.abc import Callable

from ..reports.contract import ReportTable
from .csv import to_csv
from .json import to_json
from .xlsx import to_xlsx

FORMATS: dict[str, tuple[str, Callable[[ReportTable], bytes]]] = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "json": ("application/json", to_json),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", lambda t: to_xlsx([t])),
}


def render(table: ReportTable, fmt: str) -> bytes:
    try:
        return FORMATS[fmt][1](table)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; one of {sorted(FORMATS)}") from None


__all__ = ["FORMATS", "render", "to_csv", "to_json", "to_xlsx"]
