"""Posting rules for payments and provider invoices: schedules, two-phase payments, invoices, recoveries.

Two-phase payments: an instruction reserves the money (source accounts -> pending), a settlement posts
it (pending -> bank), a return releases it (pending -> the sources). A return after settlement reverses
the settlement entry and then the reservation, citing both.
"""
from __future__ import annotations

from datetime import date

from . import accounts as acct
from . import reasons
from .model import Book, BudgetTerms, Event, Hold, Line, Noted, Posting, Recovery, Rejection, ScheduleTerms
from .rules_common import can_spend, draw, known_budget, move, open_budget

Result = Posting | Rejection | Noted


def schedule_periods(first_due: date, end: date, frequency_weeks: int) -> int:
    """Whole periods, paid in advance from each due date, that end on or before `end`."""
    return max(0, ((end - first_due).days + 1) // (7 * frequency_weeks))


def direct_payment_scheduled(book: Book, ev: Event) -> Result:
    p = ev.payload
    if p.schedule_id in book.schedules:
        return Rejection(reasons.SCHEDULE_EXISTS, f"schedule {p.schedule_id} already exists")
    terms = open_budget(book, p.budget_id, p.effective_date)
    if isinstance(terms, Rejection):
        return terms
    end = min(p.end_date, terms.end_date)
    amount = p.amount_pence * schedule_periods(p.first_due_date, end, p.frequency_weeks)
    refused = can_spend(book, terms, amount)
    if refused:
        return refused
    book.schedules[p.schedule_id] = ScheduleTerms(p.schedule_id, p.budget_id, p.amount_pence,
                                                  p.frequency_weeks, p.first_due_date, end, amount)
    book.touch("schedules", p.schedule_id)
    c = ev.council_id
    return Posting(tuple(move(acct.budget(c, p.budget_id), acct.committed(c, p.budget_id), amount)))


def _set_schedule_status(book: Book, ev: Event, status: str) -> Result:
    schedule = book.schedules.get(ev.payload.schedule_id)
    if schedule is None:
        return Rejection(reasons.UNKNOWN_SCHEDULE, f"no schedule {ev.payload.schedule_id}")
    schedule.status = status
    book.touch("schedules", schedule.schedule_id)
    return Noted(f"schedule {status}")


def direct_payment_suspended(book: Book, ev: Event) -> Result:
    return _set_schedule_status(book, ev, "suspended")


def direct_payment_resumed(book: Book, ev: Event) -> Result:
    return _set_schedule_status(book, ev, "active")


def _budget_payment_allowed(terms: BudgetTerms, due: date) -> Rejection | None:
    if terms.died_on is not None and due > terms.died_on:
        return Rejection(reasons.PAYMENT_AFTER_DEATH, f"due {due} after death on {terms.died_on}")
    if due > terms.end_date:
        return Rejection(reasons.PAYMENT_AFTER_END, f"due {due} after budget end {terms.end_date}")
    return None


def _reserve(book: Book, ev: Event, payment_id: str, kind: str, amount: int, due: date, party: str) -> Result:
    """Reserve a payment to `party`: the provider an invoice payment pays, or the budget any other pays
    from (the payload's schema requires the one its kind needs)."""
    if payment_id in book.holds:
        return Rejection(reasons.DUPLICATE_PAYMENT, f"payment {payment_id} was already instructed")
    c = ev.council_id
    if kind == "invoice":
        owed = book.available(acct.payable(c, party))
        if amount > owed:
            return Rejection(reasons.PAYMENT_EXCEEDS_PAYABLE, f"provider {party} is owed {owed}p, not {amount}p")
        sources, pending = [Line(acct.payable(c, party), debit=amount)], acct.pending(c, party)
    else:
        terms = known_budget(book, party)
        if isinstance(terms, Rejection):
            return terms
        refused = _budget_payment_allowed(terms, due)
        if refused:
            return refused
        drawn = draw(book, terms, amount)
        if isinstance(drawn, Rejection):
            return drawn
        sources, pending = drawn, acct.pending(c, party)
    book.holds[payment_id] = Hold(payment_id, c, pending, tuple((ln.account, ln.debit) for ln in sources),
                                  amount, "reserved", reserve_entry_id="")
    book.touch("holds", payment_id)
    return Posting(tuple(sources) + (Line(pending, credit=amount),))


def payment_instructed(book: Book, ev: Event) -> Result:
    p = ev.payload
    party = p.provider_id if p.kind == "invoice" else p.budget_id
    return _reserve(book, ev, p.payment_id, p.kind, p.amount_pence, p.due_date, party)


def one_off_payment_made(book: Book, ev: Event) -> Result:
    p = ev.payload
    return _reserve(book, ev, p.payment_id, "one_off", p.amount_pence, p.effective_date, p.budget_id)


def _hold_for(book: Book, payment_id: str, amount: int) -> Hold | Rejection:
    hold = book.holds.get(payment_id)
    if hold is None:
        return Rejection(reasons.UNKNOWN_PAYMENT, f"payment {payment_id} was never instructed")
    if amount != hold.amount:
        return Rejection(reasons.AMOUNT_MISMATCH, f"payment {payment_id} reserved {hold.amount}p, not {amount}p")
    return hold


def payment_settled(book: Book, ev: Event) -> Result:
    p = ev.payload
    hold = _hold_for(book, p.payment_id, p.amount_pence)
    if isinstance(hold, Rejection):
        return hold
    if hold.status != "reserved":
        return Rejection(reasons.PAYMENT_NOT_PENDING, f"payment {p.payment_id} is {hold.status}")
    hold.status = "settled"
    book.touch("holds", p.payment_id)
    return Posting(tuple(move(hold.pending_account, acct.bank(ev.council_id), hold.amount)))


def payment_returned(book: Book, ev: Event) -> Result:
    """Release a reservation (or undo a settlement) back to the accounts the money came from."""
    p = ev.payload
    hold = _hold_for(book, p.payment_id, p.amount_pence)
    if isinstance(hold, Rejection):
        return hold
    if hold.status == "returned":
        return Rejection(reasons.PAYMENT_NOT_PENDING, f"payment {p.payment_id} already returned")
    release = [Line(hold.pending_account, debit=hold.amount)] + [Line(a, credit=amt) for a, amt in hold.sources]
    if hold.status == "settled":  # money came back from the bank: it re-enters pending, then goes home
        lines = [Line(acct.bank(ev.council_id), debit=hold.amount), Line(hold.pending_account, credit=hold.amount)] + release
        reverses = hold.settle_entry_id
    else:
        lines, reverses = release, hold.reserve_entry_id
    hold.status = "returned"
    book.touch("holds", p.payment_id)
    return Posting(tuple(lines), reverses_entry_id=reverses)


def invoice_key(council: str, provider_id: str, invoice_id: str) -> str:
    return f"{council}/{provider_id}/{invoice_id}"


def _lines_by_budget(book: Book, ev: Event, lines, need_order: bool = False) -> dict[str, int] | Rejection:
    totals: dict[str, int] = {}
    for line in lines:
        if line.budget_id not in book.budgets:
            return Rejection(reasons.UNKNOWN_BUDGET, f"invoice line {line.line_no}: no agreed budget {line.budget_id}")
        order = book.orders.get(line.order_id)
        if need_order and (order is None or order.budget_id != line.budget_id or order.provider_id != ev.payload.provider_id):
            return Rejection(reasons.UNKNOWN_ORDER, f"invoice line {line.line_no}: no service order {line.order_id} "
                                                    f"of provider {ev.payload.provider_id} for budget {line.budget_id}")
        totals[line.budget_id] = totals.get(line.budget_id, 0) + line.units * line.rate_pence
    return totals


def invoice_approved(book: Book, ev: Event) -> Result:
    """Approved invoice lines consume the budgets' commitments (then free budget); the provider is owed."""
    p = ev.payload
    key = invoice_key(ev.council_id, p.provider_id, p.invoice_id)
    if key in book.invoices:
        return Rejection(reasons.DUPLICATE_INVOICE, f"invoice {p.invoice_id} of {p.provider_id} already approved")
    totals = _lines_by_budget(book, ev, p.lines, need_order=True)
    if isinstance(totals, Rejection):
        return totals
    lines: list[Line] = []
    for budget_id, amount in totals.items():
        drawn = draw(book, book.budgets[budget_id], amount)
        if isinstance(drawn, Rejection):
            return drawn
        lines += drawn
    book.invoices.add(key)
    book.touch("invoices", key)
    return Posting(tuple(lines) + (Line(acct.payable(ev.council_id, p.provider_id), credit=sum(totals.values())),))


def credit_note_received(book: Book, ev: Event) -> Result:
    p = ev.payload
    totals = _lines_by_budget(book, ev, p.lines)
    if isinstance(totals, Rejection):
        return totals
    c = ev.council_id
    lines = [Line(acct.payable(c, p.provider_id), debit=sum(totals.values()))]
    lines += [Line(acct.budget(c, b), credit=amount) for b, amount in totals.items()]
    return Posting(tuple(lines))


def overpayment_identified(book: Book, ev: Event) -> Result:
    p = ev.payload
    terms = known_budget(book, p.budget_id)
    if isinstance(terms, Rejection):
        return terms
    c = ev.council_id
    return Posting(tuple(move(acct.recoverable(c, p.provider_id), acct.budget(c, p.budget_id), p.amount_pence)))


def surplus_recovery_raised(book: Book, ev: Event) -> Result:
    p = ev.payload
    if p.recovery_id in book.recoveries:
        return Rejection(reasons.RECOVERY_EXISTS, f"recovery {p.recovery_id} already raised")
    terms = known_budget(book, p.budget_id)
    if isinstance(terms, Rejection):
        return terms
    book.recoveries[p.recovery_id] = Recovery(p.recovery_id, p.budget_id, p.amount_pence)
    book.touch("recoveries", p.recovery_id)
    c = ev.council_id
    return Posting(tuple(move(acct.recoverable(c, p.budget_id), acct.recovered(c), p.amount_pence)))


def surplus_recovered(book: Book, ev: Event) -> Result:
    p = ev.payload
    recovery = book.recoveries.get(p.recovery_id)
    if recovery is None:
        return Rejection(reasons.UNKNOWN_RECOVERY, f"no recovery {p.recovery_id}")
    if recovery.recovered + p.amount_pence > recovery.amount:
        return Rejection(reasons.INVALID_AMOUNT, f"recovery {p.recovery_id} raised {recovery.amount}p, recovered {recovery.recovered}p so far")
    c = ev.council_id
    if getattr(p, "offset_payment_id", None):
        # Kept back from a direct payment instructed for less: the part of the DP not paid out (its
        # commitment, then free budget) settles the recoverable instead of money from the bank.
        terms = known_budget(book, recovery.budget_id)
        if isinstance(terms, Rejection):
            return terms
        sources = draw(book, terms, p.amount_pence)
        if isinstance(sources, Rejection):
            return sources
        lines = tuple(sources) + (Line(acct.recoverable(c, recovery.budget_id), credit=p.amount_pence),)
    else:
        lines = tuple(move(acct.bank(c), acct.recoverable(c, recovery.budget_id), p.amount_pence))
    recovery.recovered += p.amount_pence
    book.touch("recoveries", p.recovery_id)
    return Posting(lines)
