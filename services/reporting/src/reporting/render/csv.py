"""CSV: one header row of column names, then the rows; pence as integers, dates ISO 8601, ratios as decimals,
text that a spreadsheet would run as a formula quoted with a leading apostrophe (values.csv_text); rows end
with CRLF (RFC 4180), so a CR or LF inside a text is always within quotes."""
from __future__ import annotations

import csv
import io

from ..reports.contract import ReportTable
from .values import csv_text, machine_value


def to_csv(table: ReportTable) -> bytes:
    buffer = io.StringIO()
    # RFC 4180's CRLF: with "\n" alone, a text holding a bare CR went unquoted and split its row in two.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else csv_text(v) if isinstance(v, str) else machine_value(v, c.kind)
                         for v, c in zip(row, table.columns)])
    return buffer.getvalue().encode("utf-8")
