"""Helpers shared by the posting rules: budget look-ups, the overspend invariant, drawing money."""
from __future__ import annotations

from datetime import date

from . import accounts as acct
from . import reasons
from .model import Book, BudgetTerms, Line, Rejection


def weekly_commitment(rate: int, units_per_week: int, start: date, end: date) -> int:
    """rate x units per week over [start, end] inclusive, in whole pence (rounded down)."""
    days = (end - start).days + 1
    return rate * units_per_week * days // 7 if days > 0 else 0


def open_budget(book: Book, budget_id: str, on: date) -> BudgetTerms | Rejection:
    """The budget's terms if it is open on `on` (its effective date, not the day the ledger reads it).

    Judging by effective date keeps the outcome independent of whether the ledger happened to read a
    death or an ending (allocation topic) before or after a change dated earlier (another topic).
    """
    terms = book.budgets.get(budget_id)
    if terms is None:
        return Rejection(reasons.UNKNOWN_BUDGET, f"no agreed budget {budget_id}")
    if terms.closed_on is not None and on > terms.closed_on:
        return Rejection(reasons.BUDGET_CLOSED, f"budget {budget_id} is {terms.status} since {terms.closed_on}")
    return terms


def known_budget(book: Book, budget_id: str) -> BudgetTerms | Rejection:
    terms = book.budgets.get(budget_id)
    if terms is None:
        return Rejection(reasons.UNKNOWN_BUDGET, f"no agreed budget {budget_id}")
    return terms


def can_spend(book: Book, terms: BudgetTerms, amount: int) -> Rejection | None:
    """Invariant: the budget account never goes below zero, except within an authorised limit."""
    available = book.available(acct.budget(terms.council_id, terms.budget_id))
    if available - amount < -terms.authorised_limit:
        return Rejection(
            reasons.INSUFFICIENT_BUDGET,
            f"budget {terms.budget_id} has {available}p available"
            f" (+{terms.authorised_limit}p authorised), needs {amount}p",
        )
    return None


def draw(book: Book, terms: BudgetTerms, amount: int) -> list[Line] | Rejection:
    """Debit lines taking `amount` from the budget's commitments first, then from its free budget."""
    council, budget_id = terms.council_id, terms.budget_id
    committed = max(0, book.available(acct.committed(council, budget_id)))
    from_committed = min(committed, amount)
    from_budget = amount - from_committed
    if from_budget:
        refused = can_spend(book, terms, from_budget)
        if refused:
            return refused
    lines = []
    if from_committed:
        lines.append(Line(acct.committed(council, budget_id), debit=from_committed))
    if from_budget:
        lines.append(Line(acct.budget(council, budget_id), debit=from_budget))
    return lines


def move(debit_account: str, credit_account: str, amount: int) -> list[Line]:
    """Two lines moving `amount` (either sign) from credit_account to debit_account."""
    if amount > 0:
        return [Line(debit_account, debit=amount), Line(credit_account, credit=amount)]
    if amount < 0:
        return [Line(credit_account, debit=-amount), Line(debit_account, credit=-amount)]
    return []
