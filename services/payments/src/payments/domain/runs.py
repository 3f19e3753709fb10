"""Payment runs: which due payments a run instructs and for how much, and who may approve it.

A run takes every due direct payment, one-off and approved invoice up to its date. Before a payment
is instructed:
- a budget payment dated after the budget's end or the person's death is cancelled, never paid;
- outstanding surplus recoveries of the budget (method offset) are taken off its DP payments first;
- a provider's unapplied credit (credit notes on invoices already paid: a clawback) is taken off its
  next invoice payments.
A payment reduced to nothing is settled by the offset alone and is not sent to the bank.
A run's total is one bigint (and PaymentRunCreated's Pence): a payment whose full amount would take it
beyond 2^63 - 1 pence is left due, untouched by offsets, for the next run (`left_due`).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from . import reasons
from .limits import MAX_PENCE
from .model import BudgetView, Rejection
from .recovery import offset


@dataclass(frozen=True, slots=True)
class Candidate:
    """A payment that is due: a DP period, a one-off (already reserved) or an approved invoice."""

    payment_id: str
    kind: str  # direct_payment | one_off | invoice
    amount_pence: int
    due_date: date
    budget_id: str | None = None
    provider_id: str | None = None
    invoice_id: str | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    candidate: Candidate
    amount_pence: int  # after offsets and clawbacks; > 0


@dataclass
class RunPlan:
    payments: list[Planned] = field(default_factory=list)
    cancelled: list[tuple[str, str, str]] = field(default_factory=list)  # (payment id, reason, detail)
    offset_in_full: list[str] = field(default_factory=list)  # payment ids paid by an offset alone
    recovered: list[tuple[str, str, int]] = field(default_factory=list)  # (recovery id, budget id, pence)
    recovered_from: list[str] = field(default_factory=list)  # the DP payment id of each `recovered` item
    credits_used: dict[str, int] = field(default_factory=dict)  # provider id -> pence clawed back
    left_due: list[str] = field(default_factory=list)  # payment ids that did not fit in the run's total

    @property
    def total_pence(self) -> int:
        return sum(p.amount_pence for p in self.payments)


def plan_run(candidates: Iterable[Candidate], budgets: Mapping[str, BudgetView],
             recoveries: Mapping[str, list[list]], provider_credit: Mapping[str, int],
             room: int = MAX_PENCE) -> RunPlan:
    """Decide the run. `recoveries`: budget id -> [[recovery id, outstanding pence], ...] (oldest
    first; updated in place); `provider_credit`: provider id -> pence the provider owes back; `room`:
    how much more the run may total (less than 2^63 - 1 for a later part of a run made in parts)."""
    plan = RunPlan()
    credit = dict(provider_credit)
    for cand in sorted(candidates, key=lambda c: (c.due_date, c.payment_id)):
        amount = cand.amount_pence
        if cand.kind == "direct_payment":  # a one-off is paid as made (checked and reserved then)
            budget = budgets.get(cand.budget_id)
            refused = ("UNKNOWN_BUDGET", f"no budget {cand.budget_id}") if budget is None else \
                budget.refuses_payment_on(cand.due_date)
            if refused:
                plan.cancelled.append((cand.payment_id, *refused))
                continue
        if amount > room:
            plan.left_due.append(cand.payment_id)
            continue
        if cand.kind == "direct_payment":
            for rec in recoveries.get(cand.budget_id, []):
                if rec[1] <= 0 or amount == 0:
                    continue
                amount, recovered = offset(amount, rec[1])
                rec[1] -= recovered
                plan.recovered.append((rec[0], cand.budget_id, recovered))
                plan.recovered_from.append(cand.payment_id)
        elif cand.kind == "invoice":
            owed_back = credit.get(cand.provider_id, 0)
            if owed_back:
                amount, used = offset(amount, owed_back)
                credit[cand.provider_id] = owed_back - used
                plan.credits_used[cand.provider_id] = plan.credits_used.get(cand.provider_id, 0) + used
        if amount == 0:
            plan.offset_in_full.append(cand.payment_id)
            continue
        plan.payments.append(Planned(cand, amount))
        room -= amount
    return plan


def check_approval(created_by: str, approved_by: str | None, approver: str) -> Rejection | None:
    """Separation of duties: the creator cannot approve, and a run is approved once."""
    if approved_by is not None:
        return Rejection(reasons.RUN_ALREADY_APPROVED, f"already approved by {approved_by}")
    if approver.strip().casefold() == created_by.strip().casefold():
        return Rejection(reasons.SELF_APPROVAL, f"{approver} created the run and cannot approve it")
    return None


def end_to_end_id(council_id: str, payment_id: str) -> str:
    """The payment's reference at the bank: short (fits Bacs' 18 characters), unique, derived."""
    return "E" + hashlib.sha256(f"{council_id}/{payment_id}".encode()).hexdigest()[:15].upper()
