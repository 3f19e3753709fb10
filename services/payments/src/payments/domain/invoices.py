"""Provider invoices: match every line to an active service order of that provider, within the
council's tolerance and the order's planned units, or hold the invoice with a reason.

Checks, in order (the first that fails is the hold reason):
1. SUSPECTED_DUPLICATE: an earlier invoice of the provider with the same *normalised* number
   ("INV-0012" = "inv 12"), or with the same total for the same orders and periods.
2. NO_ORDER: a line names no service order of this provider and budget.
3. FUTURE_PERIOD: a line's period ends after the invoice date, or lies outside the order's dates.
4. RATE_MISMATCH: a line's rate differs by more than the tolerance from the order's rate in force on
   any day of the line's period (a line spanning a rate change matches only if both rates are within
   the tolerance of its one rate: otherwise it must be split at the change).
5. OVER_PLAN: a line's units, with the units already invoiced on the order for overlapping periods,
   exceed the planned units for the period plus the tolerance. Planned units are those of the terms in
   force on each day: planned per week x days / 7 summed over the spans of a period that spans a change.
The order's terms over time come from domain.orders (the segment rule of its variations), so a late
invoice for weeks before a variation or a cut-back is matched against the terms of those weeks.
An exact repeat of an invoice number is not a hold but a refusal (numbers are unique per provider).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from .model import Hold, LineView, OrderView, PriorInvoice
from .orders import TermsSpan, planned_units_x7, terms_over

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")

ConsumedUnits = Callable[[str, date, date], int]
"""(order id, period start, period end) -> units already invoiced on that order for overlapping periods."""


def normalise_number(invoice_number: str) -> str:
    """Upper case, letters and digits only, no leading zeros in a run of digits."""
    return _LEADING_ZEROS.sub("", _NOT_ALNUM.sub("", invoice_number.upper()))


def periods_of(lines: Iterable[LineView]) -> frozenset[tuple[str, date, date]]:
    return frozenset((ln.order_id, ln.period_start, ln.period_end) for ln in lines)


def suspected_duplicate(number: str, total: int, lines: Iterable[LineView],
                        priors: Iterable[PriorInvoice]) -> Hold | None:
    normalised, periods = normalise_number(number), periods_of(lines)
    for prior in priors:
        if normalise_number(prior.invoice_number) == normalised:
            return Hold("SUSPECTED_DUPLICATE", f"number {number!r} matches invoice {prior.invoice_id} "
                                               f"({prior.invoice_number!r}) once normalised")
        if prior.total_pence == total and prior.periods == periods:
            return Hold("SUSPECTED_DUPLICATE", f"same total {total}p for the same orders and periods as "
                                               f"invoice {prior.invoice_id}")
    return None


def _within(actual: int, allowed: int, tolerance_bp: int) -> bool:
    """actual <= allowed x (1 + tolerance), in integers."""
    return actual * 10_000 <= allowed * (10_000 + tolerance_bp)


def _line_hold(line: LineView, provider_id: str, invoice_date: date, order: OrderView | None,
               consumed: ConsumedUnits, tolerance_bp: int) -> Hold | None:
    n = line.line_no
    if order is None or order.provider_id != provider_id or order.budget_id != line.budget_id:
        return Hold("NO_ORDER", f"line {n}: no service order {line.order_id} of provider {provider_id} "
                                f"for budget {line.budget_id}")
    if line.period_end > invoice_date:
        return Hold("FUTURE_PERIOD", f"line {n}: period ends {line.period_end}, after the invoice date {invoice_date}")
    if line.period_start < order.start_date or line.period_end > order.end_date:
        return Hold("FUTURE_PERIOD", f"line {n}: period {line.period_start}..{line.period_end} is outside order "
                                     f"{order.order_id} ({order.start_date}..{order.end_date})")
    spans = terms_over(order, line.period_start, line.period_end)
    if not all(_within(line.rate_pence, s.rate_pence, tolerance_bp) and _within(s.rate_pence, line.rate_pence,
                                                                               tolerance_bp) for s in spans):
        return Hold("RATE_MISMATCH", f"line {n}: rate {line.rate_pence}p, order {order.order_id} "
                                     f"rate in force {_describe(spans, lambda t: f'{t.rate_pence}p')}")
    days = (line.period_end - line.period_start).days + 1
    used = consumed(line.order_id, line.period_start, line.period_end)
    # planned units for the period = sum of planned per week x days / 7; compare x7 to stay in integers
    if not _within((line.units + used) * 7, planned_units_x7(spans), tolerance_bp):
        return Hold("OVER_PLAN", f"line {n}: {line.units} units (+{used} already invoiced) exceed "
                                 f"{_describe(spans, lambda t: f'{t.planned_units_per_week}/week')} planned over {days} days "
                                 f"on {order.order_id}")
    return None


SPANS_NAMED = 8
"""A hold names at most this many spans of terms, so that its detail fits InvoiceHeld's (2,000 characters)
however often the order was varied within one line's period."""


def _describe(spans: list[TermsSpan], show: Callable[[TermsSpan], str]) -> str:
    """'2450p' for one span; '2450p 2026-04-06..2026-05-03, 2600p 2026-05-04..2026-05-10' across a change;
    past SPANS_NAMED spans, the first ones and '(and N more changes to 2026-09-10)'."""
    if len(spans) == 1:
        return show(spans[0])
    named = ", ".join(f"{show(s)} {s.start}..{s.end}" for s in spans[:SPANS_NAMED])
    if len(spans) <= SPANS_NAMED:
        return named
    return f"{named} (and {len(spans) - SPANS_NAMED} more changes to {spans[-1].end})"


def match_invoice(*, provider_id: str, invoice_number: str, invoice_date: date, lines: list[LineView],
                  orders: Mapping[str, OrderView], consumed: ConsumedUnits, priors: Iterable[PriorInvoice],
                  tolerance_bp: int = 0) -> Hold | None:
    """None when every line matches (InvoiceMatched), else the first reason to hold it (InvoiceHeld).

    Lines of the same invoice count against each other: a second line of one order and period sees
    the first one's units as already invoiced.
    """
    total = sum(ln.cost_pence for ln in lines)
    hold = suspected_duplicate(invoice_number, total, lines, priors)
    if hold:
        return hold
    earlier: list[LineView] = []

    def consumed_with_earlier_lines(order_id: str, start: date, end: date) -> int:
        own = sum(ln.units for ln in earlier if ln.order_id == order_id and ln.period_start <= end
                  and start <= ln.period_end)
        return consumed(order_id, start, end) + own

    for line in sorted(lines, key=lambda ln: ln.line_no):
        hold = _line_hold(line, provider_id, invoice_date, orders.get(line.order_id), consumed_with_earlier_lines,
                          tolerance_bp)
        if hold:
            return hold
        earlier.append(line)
    return None


def lines_without_order(lines: Iterable[LineView], orders: Mapping[str, OrderView], provider_id: str) -> list[int]:
    """Line numbers that name no service order of the provider and budget (such lines cannot be paid)."""
    return [ln.line_no for ln in lines
            if (o := orders.get(ln.order_id)) is None or o.provider_id != provider_id or o.budget_id != ln.budget_id]
