"""CSV: one header row of column names, then the rows; pence as integers, dates ISO 8601, ratios as decimals."""
from __future__ import annotations

import csv
import io

from ..reports.contract import ReportTable
from .values import machine_value


def to_csv(table: ReportTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else machine_value(v, c.kind) for v, c in zip(row, table.columns)])
    return buffer.getvalue().encode("utf-8")
