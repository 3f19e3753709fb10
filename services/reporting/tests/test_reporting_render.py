"""Unit tests of the contract and the renderers: CSV, JSON, XLSX and text agree on every value kind."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from reporting.render import FORMATS, render, to_xlsx
from reporting.render.text import to_text
from reporting.reports import REGISTRY, UnknownReport, run_report
from reporting.reports.contract import Column, ReportQuery, ReportTable

QUERY = ReportQuery("E1", date(2027, 3, 31), datetime(2027, 4, 2, 9, tzinfo=timezone.utc), {"period": "year"})
TABLE = ReportTable("demo", "Demo, with <html> & commas", QUERY, (
    Column("name", "Name", "text"), Column("amount_pence", "Amount", "pence"), Column("count", "Count", "int"),
    Column("day", "Day", "date"), Column("share", "Share", "ratio")),
    (("a,b", 123456, 3, date(2026, 4, 1), 0.8), ("c", -5, 0, None, None)), ("a note",))


def test_columns_have_a_known_kind():
    with pytest.raises(ValueError):
        Column("x", "X", "money")


def test_csv_keeps_pence_as_integers_and_dates_iso():
    rows = list(csv.reader(io.StringIO(render(TABLE, "csv").decode())))
    assert rows == [["name", "amount_pence", "count", "day", "share"], ["a,b", "123456", "3", "2026-04-01", "0.8"],
                    ["c", "-5", "0", "", ""]]


def test_json_carries_the_query_columns_rows_and_notes():
    doc = json.loads(render(TABLE, "json"))
    assert doc["query"] == {"council_id": "E1", "as_of": "2027-03-31", "known_at": "2027-04-02T09:00:00+00:00",
                            "params": {"period": "year"}}
    assert [c["kind"] for c in doc["columns"]] == ["text", "pence", "int", "date", "ratio"]
    assert doc["rows"][0] == {"name": "a,b", "amount_pence": 123456, "count": 3, "day": "2026-04-01", "share": 0.8}
    assert doc["rows"][1]["day"] is None and doc["notes"] == ["a note"]


def test_xlsx_one_sheet_per_report_with_exact_values():
    book = load_workbook(io.BytesIO(to_xlsx([TABLE, TABLE])))
    assert book.sheetnames == ["demo", "demo~2"]
    sheet = book["demo"]
    assert [c.value for c in sheet[1]] == ["Name", "Amount (pence)", "Count", "Day", "Share"]
    assert [c.value for c in sheet[2]][:3] == ["a,b", 123456, 3] and sheet["E2"].value == 0.8
    assert sheet["D2"].value.date() == date(2026, 4, 1)
    assert render(TABLE, "xlsx")[:2] == b"PK"


def test_text_shows_pounds_and_percentages():
    text = to_text(TABLE)
    assert "1,234.56" in text and "80.0%" in text and "as known at 2027-04-02T09:00:00+00:00" in text


def test_unknown_format_and_unknown_report():
    with pytest.raises(ValueError):
        render(TABLE, "pdf")
    assert set(FORMATS) == {"csv", "json", "xlsx"}
    import asyncio
    with pytest.raises(UnknownReport):
        asyncio.run(run_report(None, "nope", QUERY))


def test_the_registry_holds_every_report_the_auditors_expect():
    assert set(REGISTRY) == {
        "trial_balance", "budget_statement", "provider_type_spend", "dp_balances", "planned_delivered_paid",
        "duplicate_invoices", "payments_after_end_or_death", "payment_run_reconciliation", "ledger_integrity",
        "ascfr_analysis"}
    assert all(spec.name == name and spec.description for name, spec in REGISTRY.items())
