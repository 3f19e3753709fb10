"""Invoice matching and holds: no order, future period, rate, over plan, suspected duplicates."""
from __future__ import annotations

from datetime import date

import pytest

from payments.domain.invoices import lines_without_order, match_invoice, normalise_number
from payments.domain.model import LineView, OrderView, PriorInvoice

ORDER = OrderView("SO-1", "PB-1", "PR-1", rate_pence=2_450, planned_units_per_week=14,
                  start_date=date(2026, 4, 1), end_date=date(2026, 9, 30))


def line(no=1, order="SO-1", budget="PB-1", start=date(2026, 4, 6), end=date(2026, 4, 12), units=14, rate=2_450):
    return LineView(no, order, budget, start, end, units, rate)


def match(lines, priors=(), consumed=0, tolerance_bp=0, number="INV-100", invoice_date=date(2026, 4, 30)):
    return match_invoice(provider_id="PR-1", invoice_number=number, invoice_date=invoice_date, lines=lines,
                         orders={"SO-1": ORDER}, consumed=lambda *_: consumed, priors=priors,
                         tolerance_bp=tolerance_bp)


def test_a_line_within_plan_at_the_order_rate_matches():
    assert match([line()]) is None
    assert line().cost_pence == 14 * 2_450


@pytest.mark.parametrize(("lines", "code"), [
    ([line(order="SO-9")], "NO_ORDER"),
    ([line(budget="PB-2")], "NO_ORDER"),
    ([line(start=date(2026, 5, 1), end=date(2026, 5, 7))], "FUTURE_PERIOD"),
    ([line(start=date(2026, 3, 20), end=date(2026, 3, 26))], "FUTURE_PERIOD"),
    ([line(rate=2_500)], "RATE_MISMATCH"),
    ([line(units=15)], "OVER_PLAN"),
    ([line(no=1, units=10), line(no=2, units=5)], "OVER_PLAN"),
])
def test_holds_with_a_reason(lines, code):
    hold = match(lines)
    assert hold is not None and hold.reason_code == code, hold


def test_units_already_invoiced_count_against_the_plan():
    assert match([line(units=7)], consumed=7) is None
    assert match([line(units=7)], consumed=8).reason_code == "OVER_PLAN"


def test_tolerance_lets_a_little_over_plan_through():
    assert match([line(units=15)], tolerance_bp=1_000) is None   # 15 <= 14 x 1.1
    assert match([line(units=16)], tolerance_bp=1_000).reason_code == "OVER_PLAN"


def test_normalised_numbers_and_same_amount_for_same_periods_are_suspected_duplicates():
    assert normalise_number(" inv-0012 ") == normalise_number("INV12") == "INV12"
    prior = PriorInvoice("I-1", "INV-0100", 1, frozenset())
    assert match([line()], priors=[prior], number="inv 100").reason_code == "SUSPECTED_DUPLICATE"
    same = PriorInvoice("I-2", "OTHER-7", 14 * 2_450, frozenset({("SO-1", date(2026, 4, 6), date(2026, 4, 12))}))
    assert match([line()], priors=[same]).reason_code == "SUSPECTED_DUPLICATE"
    assert match([line()], priors=[PriorInvoice("I-3", "INV-101", 14 * 2_450, frozenset())]) is None


def test_lines_without_an_order_are_listed():
    assert lines_without_order([line(), line(no=2, order="SO-X")], {"SO-1": ORDER}, "PR-1") == [2]
