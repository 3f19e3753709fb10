"""Invoices are matched against the order terms in force for the invoiced period: given allocation events
(an order commissioned, then varied, cut back or ended), when an invoice arrives (often late, for weeks
before the change), then it is matched or held with a reason. The events are folded by the read
model's own `evolve_order`, the same function the worker applies to allocation.events.v1."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from careschemas import allocation_events as ev
from careschemas import invoice_events as inv
from careschemas.common import MAX_COUNT, MAX_INT

from payments.domain.invoices import SPANS_NAMED, match_invoice
from payments.domain.model import LineView, OrderTerms
from payments.domain.orders import terms_over
from payments.service.readmodel import evolve_order

D0 = date(2026, 4, 6)  # a Monday
CHANGE = date(2026, 5, 4)  # four weeks later
COMMISSIONED = ev.ServiceOrderCommissioned(
    order_id="SO-1", budget_id="PB-1", provider_id="PR-1", service_type="home_care", unit="hour", rate_pence=2_450,
    planned_units_per_week=14, payment_basis="invoice", start_date=D0, end_date=date(2026, 9, 27), effective_date=D0)


def varied(rate=2_450, units=14, end=date(2026, 9, 27), effective=CHANGE):
    return ev.ServiceOrderVaried(order_id="SO-1", budget_id="PB-1", rate_pence=rate, planned_units_per_week=units,
                                 end_date=end, effective_date=effective)


RATE_UP = varied(rate=2_600)
CUT_BACK = varied(units=7)


def given(*events):
    order = None
    for e in events:
        order = evolve_order(order, e)
    return order


def line(start, end, units=14, rate=2_450, no=1):
    return LineView(no, "SO-1", "PB-1", start, end, units, rate)


def when_invoiced(order, *lines, consumed=0, tolerance_bp=0, invoice_date=date(2026, 6, 30)):
    """The hold reason, or "MATCHED"."""
    hold = match_invoice(provider_id="PR-1", invoice_number="INV-1", invoice_date=invoice_date, lines=list(lines),
                         orders={"SO-1": order}, consumed=lambda *_: consumed, priors=(), tolerance_bp=tolerance_bp)
    return "MATCHED" if hold is None else hold.reason_code


WEEK_BEFORE = (date(2026, 4, 27), date(2026, 5, 3))  # the last week before the change
WEEK_AFTER = (date(2026, 5, 4), date(2026, 5, 10))
SPANNING = (date(2026, 4, 27), date(2026, 5, 10))  # one week each side


@pytest.mark.parametrize(("events", "period", "units", "rate", "expected"), [
    # a late invoice for weeks before a rate rise is priced at the old rate
    ((RATE_UP,), WEEK_BEFORE, 14, 2_450, "MATCHED"),
    ((RATE_UP,), WEEK_BEFORE, 14, 2_600, "RATE_MISMATCH"),
    ((RATE_UP,), WEEK_AFTER, 14, 2_600, "MATCHED"),
    ((RATE_UP,), WEEK_AFTER, 14, 2_450, "RATE_MISMATCH"),
    # a late invoice for weeks before a cut-back may use the plan of those weeks
    ((CUT_BACK,), WEEK_BEFORE, 14, 2_450, "MATCHED"),
    ((CUT_BACK,), WEEK_BEFORE, 15, 2_450, "OVER_PLAN"),
    ((CUT_BACK,), WEEK_AFTER, 7, 2_450, "MATCHED"),
    ((CUT_BACK,), WEEK_AFTER, 8, 2_450, "OVER_PLAN"),
    # a line spanning a change of units: planned pro rata, 14 + 7
    ((CUT_BACK,), SPANNING, 21, 2_450, "MATCHED"),
    ((CUT_BACK,), SPANNING, 22, 2_450, "OVER_PLAN"),
    # a line spanning a change of rate: one rate cannot be right on both sides, whichever it is
    ((RATE_UP,), SPANNING, 28, 2_450, "RATE_MISMATCH"),
    ((RATE_UP,), SPANNING, 28, 2_600, "RATE_MISMATCH"),
    # a variation redelivered (applied twice) is the same variation
    ((CUT_BACK, CUT_BACK), WEEK_BEFORE, 14, 2_450, "MATCHED"),
    ((CUT_BACK, CUT_BACK), WEEK_AFTER, 8, 2_450, "OVER_PLAN"),
    # two variations: each week is matched against its own terms
    ((CUT_BACK, varied(rate=2_600, units=10, effective=date(2026, 6, 1))), (date(2026, 5, 25), date(2026, 5, 31)),
     7, 2_450, "MATCHED"),
    ((CUT_BACK, varied(rate=2_600, units=10, effective=date(2026, 6, 1))), (date(2026, 6, 1), date(2026, 6, 7)),
     10, 2_600, "MATCHED"),
    ((CUT_BACK, varied(rate=2_600, units=10, effective=date(2026, 6, 1))), (date(2026, 6, 1), date(2026, 6, 7)),
     11, 2_600, "OVER_PLAN"),
])
def test_a_line_is_matched_against_the_terms_in_force_for_its_period(events, period, units, rate, expected):
    order = given(COMMISSIONED, *events)
    assert when_invoiced(order, line(*period, units=units, rate=rate)) == expected


def test_a_rate_change_inside_a_line_is_named_in_the_hold():
    hold = match_invoice(provider_id="PR-1", invoice_number="INV-1", invoice_date=date(2026, 6, 30),
                         lines=[line(*SPANNING)], orders={"SO-1": given(COMMISSIONED, RATE_UP)},
                         consumed=lambda *_: 0, priors=())
    assert hold.reason_code == "RATE_MISMATCH"
    assert "2450p 2026-04-27..2026-05-03, 2600p 2026-05-04..2026-05-10" in hold.detail
    # within the council's tolerance of both rates (2,600 is 6.1% above 2,450), the line matches
    assert when_invoiced(given(COMMISSIONED, RATE_UP), line(*SPANNING, units=28, rate=2_450), tolerance_bp=700) \
        == "MATCHED"
    assert when_invoiced(given(COMMISSIONED, RATE_UP), line(*SPANNING, units=28, rate=2_450), tolerance_bp=600) \
        == "RATE_MISMATCH"


def test_units_already_invoiced_count_against_the_plan_of_their_own_weeks():
    order = given(COMMISSIONED, CUT_BACK)
    assert when_invoiced(order, line(*WEEK_BEFORE, units=7), consumed=7) == "MATCHED"
    assert when_invoiced(order, line(*WEEK_BEFORE, units=7), consumed=8) == "OVER_PLAN"
    assert when_invoiced(order, line(*WEEK_AFTER, units=3), consumed=4) == "MATCHED"
    assert when_invoiced(order, line(*WEEK_AFTER, units=3), consumed=5) == "OVER_PLAN"
    # two lines of one invoice for the same week before the cut-back share that week's 14
    assert when_invoiced(order, line(*WEEK_BEFORE, units=10), line(*WEEK_BEFORE, units=4, no=2)) == "MATCHED"
    assert when_invoiced(order, line(*WEEK_BEFORE, units=10), line(*WEEK_BEFORE, units=5, no=2)) == "OVER_PLAN"


def test_an_order_cut_short_still_pays_its_earlier_weeks_and_nothing_after_its_end():
    order = given(COMMISSIONED, CUT_BACK, ev.ServiceOrderEnded(order_id="SO-1", budget_id="PB-1",
                                                              end_date=date(2026, 5, 31), reason="moved",
                                                              effective_date=date(2026, 6, 10)))
    assert order.end_date == date(2026, 5, 31)
    assert when_invoiced(order, line(*WEEK_BEFORE)) == "MATCHED"
    assert when_invoiced(order, line(date(2026, 5, 25), date(2026, 5, 31), units=7)) == "MATCHED"
    assert when_invoiced(order, line(date(2026, 6, 1), date(2026, 6, 7), units=7)) == "FUTURE_PERIOD"


def test_a_backdated_variation_applies_from_the_last_change_like_the_ledgers_commitment():
    """The segment rule: terms never change for days before the last change (the ledger committed them)."""
    later = varied(rate=2_600, effective=date(2026, 6, 1))
    backdated = varied(rate=2_600, units=7, effective=CHANGE)
    order = given(COMMISSIONED, later, backdated)
    assert order.terms == (OrderTerms(D0, 2_450, 14), OrderTerms(date(2026, 6, 1), 2_600, 7))
    assert when_invoiced(order, line(*WEEK_AFTER, units=14, rate=2_450)) == "MATCHED"
    assert when_invoiced(order, line(date(2026, 6, 1), date(2026, 6, 7), units=8, rate=2_600)) == "OVER_PLAN"


def test_a_variation_effective_after_the_new_end_only_moves_the_end():
    order = given(COMMISSIONED, varied(rate=9_999, units=1, end=date(2026, 6, 30), effective=date(2026, 8, 1)))
    assert order.end_date == date(2026, 6, 30)
    assert [(s.rate_pence, s.planned_units_per_week) for s in terms_over(order, D0, order.end_date)] == [(2_450, 14)]


def test_order_events_for_an_order_not_known_change_nothing_and_a_second_commissioning_is_ignored():
    assert given(CUT_BACK) is None
    first = given(COMMISSIONED)
    again = evolve_order(first, COMMISSIONED.model_copy(update={"rate_pence": 1}))
    assert again is first and again.rate_pence == 2_450


@pytest.mark.parametrize("changes", [7, 150])
@pytest.mark.parametrize(("reason", "line_rate", "line_units"), [("RATE_MISMATCH", MAX_INT, 1),
                                                                 ("OVER_PLAN", MAX_INT - 1, MAX_COUNT)])
def test_a_hold_names_at_most_eight_spans_so_its_detail_fits_the_event(changes, reason, line_rate, line_units):
    """The longest ids the contract allows, amounts at its maximum, and the order varied on every day of the
    line: the detail raised string_too_long in InvoiceHeld at 150 changes before SPANS_NAMED."""
    long_id = "X" * 128
    ids = {"order_id": long_id, "budget_id": long_id}
    order = given(COMMISSIONED.model_copy(update={**ids, "provider_id": long_id, "rate_pence": MAX_INT - 1}), *[
        varied(rate=MAX_INT - 1 if reason == "OVER_PLAN" else MAX_INT - 2 - k, units=1 + k % 2,
               effective=D0 + timedelta(days=k + 1)).model_copy(update=ids) for k in range(changes)])
    last = D0 + timedelta(days=changes)
    hold = match_invoice(provider_id=long_id, invoice_number="INV-1", invoice_date=date(2026, 9, 30),
                         lines=[LineView(1, long_id, long_id, D0, last, line_units, line_rate)],
                         orders={long_id: order}, consumed=lambda *_: MAX_COUNT, priors=())
    assert hold.reason_code == reason
    held = inv.InvoiceHeld(invoice_id=long_id, provider_id=long_id, reason_code=hold.reason_code,
                           detail=hold.detail, effective_date=D0)
    spans = changes + 1
    assert (f"(and {spans - SPANS_NAMED} more changes to {last})" if spans > SPANS_NAMED
            else f"{last}..{last}") in held.detail


def test_variations_at_the_calendars_edges_keep_their_terms_and_raise_nothing():
    """An order open to 9999-12-31 (the contract's last Day) has no day after its end; the segment rule took
    end + 1 day and raised OverflowError, failing the read model's batch on every retry."""
    open_ended = COMMISSIONED.model_copy(update={"end_date": date.max})
    order = given(open_ended, varied(rate=2_600, end=date.max))
    assert order.terms == (OrderTerms(D0, 2_450, 14), OrderTerms(CHANGE, 2_600, 14))
    order = given(open_ended, varied(rate=2_600, end=date.max, effective=date.max))
    assert order.terms[-1] == OrderTerms(date.max, 2_600, 14) and order.end_date == date.max
    first = COMMISSIONED.model_copy(update={"start_date": date.min, "effective_date": date.min})
    assert given(first, varied(rate=2_600, effective=date.min)).terms == (OrderTerms(date.min, 2_600, 14),)
