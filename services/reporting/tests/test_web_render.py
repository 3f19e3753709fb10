"""Unit tests of the web's HTML for people: values as read, accessible SVG charts, report and audit pack
pages (pure functions; no database, no server)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from hypothesis import given, strategies as st
from reporting.reports.contract import Column, ReportQuery, ReportTable
from reporting.web.assets import council_stylesheet
from reporting.web.charts import charts_for, render_svg
from reporting.web.html import render_audit_pack_page, render_report_page
from reporting.web.layout import PageAssets
from reporting.web.values import display, pounds

QUERY = ReportQuery("C001", date(2026, 6, 30))
SPEND_COLUMNS = (Column("period", "Period", "text"), Column("provider_type", "Provider type", "text"),
                 Column("provision", "Provision", "text"), Column("spend_pence", "Spend", "pence"),
                 Column("share", "Share of the period", "ratio"),
                 Column("external_share", "External share (period)", "ratio"),
                 Column("target_share", "Target", "ratio"), Column("meets_target", "Meets target", "text"))


def spend_table(rows) -> ReportTable:
    return ReportTable("provider_type_spend", "Spend by provider type", QUERY, SPEND_COLUMNS, tuple(rows))


SPEND = spend_table([
    ("2026-04", "in_house", "in-house", 40000, 0.4, 0.6, 0.8, "no"),
    ("2026-04", "private", "external", 60000, 0.6, 0.6, 0.8, "no"),
    ("2026-04", "ALL", "", 100000, 1.0, 0.6, 0.8, "no"),
    ("2026-05", "private", "external", 90000, 0.9, 0.9, 0.8, "yes"),
    ("2026-05", "in_house", "in-house", 10000, 0.1, 0.9, 0.8, "yes"),
    ("2026-05", "ALL", "", 100000, 1.0, 0.9, 0.8, "yes"),
])


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_pounds_reads_back_as_the_same_pence(pence):
    text = pounds(pence)
    assert re.fullmatch(r"-?£\d{1,3}(,\d{3})*\.\d{2}", text)
    assert round(float(text.replace("£", "").replace(",", "")) * 100) == pence


def test_display_of_each_kind():
    assert display(None, "pence") == "—"  # never mistaken for zero
    assert display(123456, "pence") == "£1,234.56"
    assert display(0.8, "ratio") == "80.0%"
    assert display(1234567, "int") == "1,234,567"
    assert display(date(2026, 3, 31), "date") == "2026-03-31"


def test_the_external_share_chart_is_drawn_against_the_target_the_report_used():
    external, by_type = charts_for(spend_table([(*r[:6], 0.75, r[7]) for r in SPEND.rows]), target=0.8)
    assert external.chart_id == "chart-external-share"
    assert [(b.label, b.value) for b in external.bars] == [("2026-04", 0.6), ("2026-05", 0.9)]
    assert external.target == (0.75, "Target 75%")
    assert "1 of 2 periods meet it" in external.description
    # weighted by each period's spend: (0.6 * 1000.00 + 0.9 * 1000.00) / 2000.00
    assert external.headline == ("From 2026-04 to 2026-05, 75.0% of spend went to external providers: "
                                 "meeting the target of 75%.")
    assert [(b.label, b.value) for b in by_type.bars] == [("private", 150000.0), ("in_house", 50000.0)]
    assert by_type.target is None and by_type.ticks[-1][0] >= 150000


def test_svg_is_labelled_by_its_own_title_and_description_and_says_every_value():
    svg = render_svg(charts_for(SPEND)[0])
    assert 'role="img"' in svg
    ids = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
    assert all(f'id="{i}"' in svg for i in ids) and len(ids) == 2
    desc = re.search(r"<desc[^>]*>(.*)</desc>", svg).group(1)
    assert "2026-04: 60.0%" in desc and "2026-05: 90.0%" in desc and "target of 80%" in desc
    assert svg.count("<rect") == 2 and 'class="app-chart__target"' in svg


def test_generic_tables_chart_their_first_money_column_and_escape_labels():
    table = ReportTable("trial_balance", "Trial balance", QUERY,
                        (Column("account_group", "Account group", "text"), Column("balance_pence", "Balance", "pence")),
                        (("<script>alert(1)</script>", -5000), ("bank", 12000)))
    [chart] = charts_for(table)
    svg = render_svg(chart)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert chart.ticks[0][0] <= -5000 and chart.ticks[-1][0] >= 12000  # negative bars have room too
    assert chart.target is None


def test_tables_without_a_label_or_with_too_many_rows_get_no_chart():
    numbers = ReportTable("n", "N", QUERY, (Column("x", "X", "pence"),), ((1,),))
    assert charts_for(numbers) == []
    many = ReportTable("m", "M", QUERY, (Column("k", "K", "text"), Column("x", "X", "pence")),
                       tuple((f"k{i}", i) for i in range(100)))
    assert charts_for(many) == []


def test_report_page_is_a_whole_accessible_document():
    html = render_report_page(SPEND, assets=PageAssets.served())
    assert html.startswith("<!DOCTYPE html><html lang=\"en\"")
    assert "<title>Spend by provider type – " in html
    assert html.count("<h1") == 1 and '<main class="govuk-main-wrapper" id="main-content">' in html
    assert 'href="#main-content"' in html  # skip link
    assert '<th scope="row" class="govuk-table__header">2026-04</th>' in html
    assert 'role="region"' in html and 'tabindex="0"' in html  # wide tables scroll by keyboard
    assert "as known now" in html and "£600.00" in html
    assert '<p class="govuk-body-l">From 2026-04 to 2026-05, 75.0% of spend went to external providers: below the' \
           ' target of 80%.</p>' in html
    assert 'href="/assets/govuk-frontend.min.css"' in html


def test_empty_report_says_so_and_names_its_scope():
    known = datetime(2026, 5, 1, tzinfo=timezone.utc)
    table = ReportTable("x", "X report", ReportQuery("C002", date(2026, 4, 30), known), SPEND_COLUMNS, ())
    html = render_report_page(table, assets=PageAssets.served())
    assert "No rows for this council as at this date." in html
    assert "Council C002, as at 2026-04-30, as known at 2026-05-01T00:00:00+00:00." in html


def test_audit_pack_lists_every_report_and_escapes_its_meta():
    other = ReportTable("trial_balance", "Trial balance", QUERY, (Column("account_group", "Group", "text"),), ())
    html = render_audit_pack_page([SPEND, other], {"Council": "C001", "Requested by": "<b>x</b>"},
                                  assets=PageAssets.served())
    assert '<a class="govuk-link" href="#provider-type-spend">' in html and 'href="#trial-balance"' in html
    assert 'id="provider-type-spend"' in html and 'id="trial-balance"' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_standalone_pages_carry_their_stylesheet_inline():
    page = render_audit_pack_page([SPEND], {"Council": "C001"}, assets=PageAssets(inline_css=".govuk-body{}"))
    assert "<style>.govuk-body{}" in page and "<link rel=\"stylesheet\"" not in page


def test_the_council_stylesheet_drops_the_gov_uk_typeface():
    css = ('@font-face{font-family:"GDS Transport";src:url(/assets/fonts/light.woff2)}'
           '.govuk-body{font-family:"GDS Transport",arial,sans-serif}.x{font-family:GDS Transport,arial,sans-serif}'
           '.y{font-family:GDS Transport}')
    out = council_stylesheet(css)
    assert "GDS Transport" not in out and "@font-face" not in out and "/assets/fonts" not in out
    assert out.count("font-family:arial,sans-serif") == 3
