"""XLSX (openpyxl, write-only mode): one sheet per report, titles in the header row, pence as integers
with a thousands format, the query and notes under the table."""
from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ..reports.contract import ReportTable

NUMBER_FORMATS = {"pence": "#,##0", "int": "#,##0", "ratio": "0.0%", "date": "yyyy-mm-dd"}


def _sheet_name(name: str, used: set[str]) -> str:
    base = name[:31]
    candidate, n = base, 2
    while candidate in used:
        suffix = f"~{n}"
        candidate, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate


def to_xlsx(tables: Sequence[ReportTable]) -> bytes:
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.name, used))
        bold = Font(bold=True)
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=f"{column.title} ({column.kind})" if column.kind == "pence" else column.title)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            cells = []
            for value, column in zip(row, table.columns):
                cell = WriteOnlyCell(sheet, value=value)
                if column.kind in NUMBER_FORMATS and value is not None:
                    cell.number_format = NUMBER_FORMATS[column.kind]
                cells.append(cell)
            sheet.append(cells)
        sheet.append([])
        q = table.query
        sheet.append([f"{table.title}: council {q.council_id}, as at {q.as_of.isoformat()}"
                      + (f", as known at {q.known_at.isoformat()}" if q.known_at else "")])
        for note in table.notes:
            sheet.append([note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
