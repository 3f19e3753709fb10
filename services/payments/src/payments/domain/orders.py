"""Service orders over time: the terms (rate, planned units per week) in force on each day.

An order starts with the terms it was commissioned with; each ServiceOrderVaried (and each
ServiceOrderEnded) applies from a *pivot* day, by the segment rule the allocation service and the
ledger use to commit the order's money: pivot = max(previous pivot, min(effective date, new end + 1)).
So a variation never rewrites days before the last change, and a variation effective after the order's
new end changes only the end. Terms are kept in the order they were applied; on a day, the last terms
with a pivot on or before it are in force. Pure functions, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from .model import OrderTerms, OrderView

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TermsSpan:
    """Days start..end (inclusive) of a period under one set of terms."""

    start: date
    end: date
    rate_pence: int
    planned_units_per_week: int

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def next_pivot(last_pivot: date, effective: date, new_end: date) -> date:
    """The day new terms apply from (the ledger's and the allocation service's segment rule). An order open
    to 9999-12-31 has no day after its end (Python cannot make one); nothing can follow it, so its end stands in."""
    return max(last_pivot, min(effective, new_end + ONE_DAY if new_end < date.max else date.max))


def commissioned(order_id: str, budget_id: str, provider_id: str, rate_pence: int, planned_units_per_week: int,
                 start_date: date, end_date: date) -> OrderView:
    return OrderView(order_id, budget_id, provider_id, rate_pence, planned_units_per_week, start_date, end_date,
                     (OrderTerms(start_date, rate_pence, planned_units_per_week),))


def varied(order: OrderView, rate_pence: int, planned_units_per_week: int, end_date: date,
           effective: date) -> OrderView:
    """The order with new terms from the pivot of `effective` and its new end date."""
    pivot = next_pivot(order.history[-1].effective_from, effective, end_date)
    terms = OrderTerms(pivot, rate_pence, planned_units_per_week)
    kept = tuple(t for t in order.history if t.effective_from < pivot)  # same pivot: the later terms win
    return replace(order, rate_pence=rate_pence, planned_units_per_week=planned_units_per_week,
                   end_date=end_date, terms=(*kept, terms))


def ended(order: OrderView, end_date: date, effective: date) -> OrderView:
    """An order ending: only ever shortened; its terms carry on to the (new) end."""
    return varied(order, order.rate_pence, order.planned_units_per_week, min(end_date, order.end_date), effective)


def terms_over(order: OrderView, start: date, end: date) -> list[TermsSpan]:
    """The terms in force on each day of start..end, as consecutive spans (days before the first terms
    take the first terms: the order's dates are checked separately)."""
    history = order.history
    spans: list[TermsSpan] = []
    for n, terms in enumerate(history):
        until = history[n + 1].effective_from - ONE_DAY if n + 1 < len(history) else date.max
        lo = start if n == 0 else max(start, terms.effective_from)
        hi = min(end, until)
        if lo <= hi:
            spans.append(TermsSpan(lo, hi, terms.rate_pence, terms.planned_units_per_week))
    return spans


def planned_units_x7(spans: list[TermsSpan]) -> int:
    """Planned units over the spans, times 7 (planned per week x days / 7, kept in integers)."""
    return sum(s.planned_units_per_week * s.days for s in spans)
