"""Posting rules for allocation events: budgets, funding splits, contributions, commitments."""
from __future__ import annotations

from datetime import date, timedelta

from . import accounts as acct
from . import reasons
from .model import Book, BudgetTerms, Event, Noted, OrderTerms, Posting, Rejection
from .rules_common import can_spend, known_budget, move, open_budget, weekly_commitment

Result = Posting | Rejection | Noted
ONE_DAY = timedelta(days=1)


def personal_budget_agreed(book: Book, ev: Event) -> Result:
    p = ev.payload
    if p.budget_id in book.budgets:
        return Rejection(reasons.BUDGET_ALREADY_AGREED, f"budget {p.budget_id} was already agreed")
    c = ev.council_id
    book.budgets[p.budget_id] = BudgetTerms(p.budget_id, c, p.start_date, p.end_date, p.amount_pence)
    book.touch("budgets", p.budget_id)
    return Posting(tuple(move(acct.funding(c, p.budget_id, "council"), acct.budget(c, p.budget_id), p.amount_pence)))


def personal_budget_revised(book: Book, ev: Event) -> Result:
    p = ev.payload
    terms = open_budget(book, p.budget_id, p.effective_date)
    if isinstance(terms, Rejection):
        return terms
    c, delta = ev.council_id, p.amount_pence - terms.total
    if delta == 0:
        return Noted("amount unchanged")
    council_share = book.balance(acct.funding(c, p.budget_id, "council"))
    if delta < 0:
        if council_share + delta < 0:
            return Rejection(reasons.SPLIT_EXCEEDS_BUDGET, f"revised amount {p.amount_pence}p is below the other funders' shares")
        refused = can_spend(book, terms, -delta)
        if refused:
            return refused
    terms.total = p.amount_pence
    book.touch("budgets", p.budget_id)
    return Posting(tuple(move(acct.funding(c, p.budget_id, "council"), acct.budget(c, p.budget_id), delta)))


def _reshare(book: Book, terms: BudgetTerms, targets: dict[str, int]) -> Result:
    """Move shares between the council and other funders so each named source reaches its target."""
    c, b = terms.council_id, terms.budget_id
    others = sum(targets.values()) + sum(
        book.balance(acct.funding(c, b, s)) for s in acct.FUNDING_SOURCES if s != "council" and s not in targets
    )
    if others > terms.total:
        return Rejection(reasons.SPLIT_EXCEEDS_BUDGET, f"shares {others}p exceed the agreed {terms.total}p")
    lines = []
    for source, target in targets.items():
        lines += move(acct.funding(c, b, source), acct.funding(c, b, "council"), target - book.balance(acct.funding(c, b, source)))
    return Posting(tuple(lines)) if lines else Noted("split unchanged")


def funding_split_agreed(book: Book, ev: Event) -> Result:
    p = ev.payload
    terms = open_budget(book, p.budget_id, p.effective_date)
    if isinstance(terms, Rejection):
        return terms
    return _reshare(book, terms, {"icb": p.icb_pence, "pooled": p.pooled_pence})


def contribution_assessed(book: Book, ev: Event) -> Result:
    p = ev.payload
    terms = open_budget(book, p.budget_id, p.effective_date)
    if isinstance(terms, Rejection):
        return terms
    annual = p.weekly_pence * 52
    result = _reshare(book, terms, {"contribution": annual})
    if not isinstance(result, Rejection):
        terms.contribution_annual = annual
        book.touch("budgets", p.budget_id)
    return result


def personal_budget_ended(book: Book, ev: Event) -> Result:
    """Close the budget and hand what is neither committed nor spent back to its funders."""
    p = ev.payload
    terms = known_budget(book, p.budget_id)
    if isinstance(terms, Rejection):
        return terms
    if terms.status == "ended":
        return Rejection(reasons.BUDGET_CLOSED, f"budget {p.budget_id} already ended")
    c, b = ev.council_id, p.budget_id
    terms.status, terms.end_date = "ended", min(terms.end_date, p.end_date)
    terms.closed_on = min(terms.closed_on or terms.end_date, terms.end_date)
    book.touch("budgets", b)
    left = book.available(acct.budget(c, b))
    if left <= 0:
        return Noted("nothing left to release")
    lines = []
    for source in acct.FUNDING_SOURCES:  # release to the council first, then the other funders
        share = min(left, max(0, book.balance(acct.funding(c, b, source))))
        if share:
            lines += move(acct.budget(c, b), acct.funding(c, b, source), share)
            left -= share
    return Posting(tuple(lines)) if lines else Noted("nothing left to release")


def person_died(book: Book, ev: Event) -> Result:
    p = ev.payload
    terms = known_budget(book, p.budget_id)
    if isinstance(terms, Rejection):
        return terms
    terms.status, terms.died_on = "deceased", p.date_of_death
    terms.closed_on = min(terms.closed_on or p.date_of_death, p.date_of_death)
    book.touch("budgets", p.budget_id)
    return Noted(f"died on {p.date_of_death.isoformat()}")


def overspend_authorised(book: Book, ev: Event) -> Result:
    p = ev.payload
    terms = open_budget(book, p.budget_id, p.effective_date)
    if isinstance(terms, Rejection):
        return terms
    terms.authorised_limit = p.limit_pence
    book.touch("budgets", p.budget_id)
    return Noted(f"{p.authoriser} authorised up to {p.limit_pence}p over budget")


def _commit(book: Book, terms: BudgetTerms, amount: int) -> Result:
    c, b = terms.council_id, terms.budget_id
    if amount > 0:
        refused = can_spend(book, terms, amount)
        if refused:
            return refused
    return Posting(tuple(move(acct.budget(c, b), acct.committed(c, b), amount)))


def service_order_commissioned(book: Book, ev: Event) -> Result:
    p = ev.payload
    if p.order_id in book.orders:
        return Rejection(reasons.ORDER_EXISTS, f"order {p.order_id} already commissioned")
    terms = open_budget(book, p.budget_id, p.effective_date)
    if isinstance(terms, Rejection):
        return terms
    if p.start_date < terms.start_date or p.end_date > terms.end_date:
        return Rejection(reasons.ORDER_OUTSIDE_BUDGET, f"order {p.start_date}..{p.end_date} outside budget {terms.start_date}..{terms.end_date}")
    amount = weekly_commitment(p.rate_pence, p.planned_units_per_week, p.start_date, p.end_date)
    result = _commit(book, terms, amount)
    if isinstance(result, Posting):
        book.orders[p.order_id] = OrderTerms(p.order_id, p.budget_id, p.provider_id, p.rate_pence,
                                             p.planned_units_per_week, p.start_date, p.end_date, 0, amount)
        book.touch("orders", p.order_id)
    return result


def _recommit(book: Book, ev: Event, rate: int, units: int, end, shortening_ended: bool = False) -> Result:
    """Re-price an order from the event's effective date; post the difference in commitment. An ended
    order is re-priced only when `shortening_ended` (a death or budget end before its end date)."""
    p = ev.payload
    order = book.orders.get(p.order_id)
    if order is None or not (order.status == "active" or shortening_ended and order.status == "ended"):
        return Rejection(reasons.UNKNOWN_ORDER, f"no active order {p.order_id}")
    terms = book.budgets[order.budget_id]
    if terms.closed_on is not None and end > order.end_date and p.effective_date > terms.closed_on:
        return Rejection(reasons.BUDGET_CLOSED, f"budget {order.budget_id} is {terms.status}")
    # Dates at the calendar's edges (an open-ended 9999-12-31) must not overflow: the day after the last
    # day of the calendar is not needed (nothing can follow it), and nothing lies before its first day.
    pivot = max(order.segment_start, min(p.effective_date, end + ONE_DAY if end < date.max else date.max))
    fixed = order.fixed + (weekly_commitment(order.rate, order.units, order.segment_start, pivot - ONE_DAY)
                           if pivot > date.min else 0)
    new_total = fixed + weekly_commitment(rate, units, pivot, end)
    delta = new_total - order.committed
    if delta < 0:  # never release more than is still committed on the budget
        delta = -min(-delta, max(0, book.available(acct.committed(ev.council_id, order.budget_id))))
    result = _commit(book, terms, delta) if delta else Noted("commitment unchanged")
    if not isinstance(result, Rejection):
        order.fixed, order.segment_start, order.rate, order.units, order.end_date = fixed, pivot, rate, units, end
        order.committed += delta
        book.touch("orders", p.order_id)
    return result


def service_order_varied(book: Book, ev: Event) -> Result:
    p = ev.payload
    return _recommit(book, ev, p.rate_pence, p.planned_units_per_week, p.end_date)


def service_order_ended(book: Book, ev: Event) -> Result:
    p = ev.payload
    order = book.orders.get(p.order_id)
    # An ended order may be ended again, earlier only: a death (or the budget's end) before the end date
    # it was given releases what stays committed after it (rule version 2026.2).
    shortening = order is not None and order.status == "ended" and p.end_date < order.end_date
    if order is None or not (order.status == "active" or shortening):
        return Rejection(reasons.UNKNOWN_ORDER, f"no active order {p.order_id}")
    result = _recommit(book, ev, order.rate, order.units, min(p.end_date, order.end_date), shortening)
    if not isinstance(result, Rejection):
        order.status = "ended"
    return result
