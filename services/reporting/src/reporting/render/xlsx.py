"""XLSX (openpyxl, write-only mode): one sheet per report, titles in the header row, pence as integers
with a thousands format, the query and notes under the table. Every text is a text cell (openpyxl would
write one starting with = as a formula) without the control characters XML cannot hold (values.xlsx_text)."""
from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ..reports.contract import ReportTable
from .values import xlsx_text

NUMBER_FORMATS = {"pence": "#,##0", "int": "#,##0", "ratio": "0.0%", "date": "yyyy-mm-dd"}


def _sheet_name(name: str, used: set[str]) -> str:
    base = name[:31]
    candidate, n = base, 2
    while candidate in used:
        suffix = f"~{n}"
        candidate, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate


def _cell(sheet, value) -> WriteOnlyCell:
    if not isinstance(value, str):
        return WriteOnlyCell(sheet, value=value)
    cell = WriteOnlyCell(sheet, value=xlsx_text(value))
    cell.data_type = "s"  # text, even when it starts with =
    return cell


def to_xlsx(tables: Sequence[ReportTable]) -> bytes:
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.name, used))
        bold = Font(bold=True)
        header = []
        for column in table.columns:
            cell = _cell(sheet, f"{column.title} ({column.kind})" if column.kind == "pence" else column.title)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            cells = []
            for value, column in zip(row, table.columns):
                cell = _cell(sheet, value)
                if column.kind in NUMBER_FORMATS and value is not None:
                    cell.number_format = NUMBER_FORMATS[column.kind]
                cells.append(cell)
            sheet.append(cells)
        sheet.append([])
        q = table.query
        sheet.append([_cell(sheet, f"{table.title}: council {q.council_id}, as at {q.as_of.isoformat()}"
                            + (f", as known at {q.known_at.isoformat()}" if q.known_at else ""))])
        for note in table.notes:
            sheet.append([_cell(sheet, note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
