"""How a value of each column kind is written in machine formats (one place, so CSV and JSON agree), and
how text is made safe for the spreadsheets an auditor opens them in."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes a cell starting with as a formula (OWASP "CSV injection")."""
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XML 1.0, so XLSX, cannot hold


def csv_text(text: str) -> str:
    """Text for a CSV cell that a spreadsheet shows and never runs: one starting with a formula character
    (free text such as a run's created_by may be any text but NUL) gets a leading apostrophe, as OWASP advises."""
    return "'" + text if text.startswith(FORMULA_START) else text


def xlsx_text(text: str) -> str:
    """Text an XLSX cell can hold: each control character XML cannot carry (openpyxl raised
    IllegalCharacterError on it) written out as `\\xNN`. The cell is typed as text by the writer."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


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
