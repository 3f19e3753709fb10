"""The payments service's own view of the world: budgets, providers and service orders (read model of
allocation events), direct-payment schedules, payments, invoices and runs. Plain dataclasses."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused command: a reason code from domain.reasons and a sentence for people."""

    code: str
    detail: str


@dataclass(slots=True)
class BudgetView:
    """What payments needs of a personal budget: its dates, closure, contribution and DP payee."""

    budget_id: str
    person_ref: str
    start_date: date
    end_date: date
    ended_on: date | None = None
    died_on: date | None = None
    contribution_weekly_pence: int = 0
    contribution_mode: str | None = None
    dp_account_ref: str | None = None

    @property
    def last_payable_day(self) -> date:
        """No payment falls due after this day: the budget's end, its ending, or the death."""
        return min(d for d in (self.end_date, self.ended_on, self.died_on) if d is not None)

    def refuses_payment_on(self, day: date) -> tuple[str, str] | None:
        """(reason code, detail) when nothing may be paid for `day`, else None."""
        if self.died_on is not None and day > self.died_on:
            return "PAYMENT_AFTER_DEATH", f"{day} is after the date of death {self.died_on}"
        end = self.ended_on if self.ended_on is not None and self.ended_on < self.end_date else self.end_date
        if day > end:
            return "PAYMENT_AFTER_END", f"{day} is after the budget's end {end}"
        return None


@dataclass(frozen=True, slots=True)
class OrderTerms:
    """A service order's rate and planned units per week, in force from `effective_from`."""

    effective_from: date
    rate_pence: int
    planned_units_per_week: int


@dataclass(slots=True)
class OrderView:
    """A service order as the provider may invoice it: its current terms and dates, and the terms in force
    over time (`terms`, by effective date; see domain.orders)."""

    order_id: str
    budget_id: str
    provider_id: str
    rate_pence: int
    planned_units_per_week: int
    start_date: date
    end_date: date
    terms: tuple[OrderTerms, ...] = ()

    @property
    def history(self) -> tuple[OrderTerms, ...]:
        """The terms over time; an order known without its history has its current terms from its start."""
        return self.terms or (OrderTerms(self.start_date, self.rate_pence, self.planned_units_per_week),)


@dataclass(slots=True)
class Schedule:
    """A direct-payment schedule: `amount_pence` gross every `frequency_weeks`, in advance.

    `next_period` is the first period not yet made due (period n falls due on first_due_date + n
    periods); it is stored with the due payments it produced, in one transaction, so a restart
    neither skips nor repeats a period.
    """

    schedule_id: str
    budget_id: str
    amount_pence: int
    frequency_weeks: int
    first_due_date: date
    end_date: date
    contribution_mode: str
    status: str = "active"  # active | suspended
    next_period: int = 0


@dataclass(frozen=True, slots=True)
class DuePayment:
    """One direct-payment period that fell due."""

    schedule_id: str
    budget_id: str
    period: int
    due_date: date
    amount_pence: int

    @property
    def payment_id(self) -> str:
        return f"{self.schedule_id}-P{self.period:03d}"


@dataclass(frozen=True, slots=True)
class LineView:
    """An invoice line as matching needs it (cost = units x rate, never typed in)."""

    line_no: int
    order_id: str
    budget_id: str
    period_start: date
    period_end: date
    units: int
    rate_pence: int

    @property
    def cost_pence(self) -> int:
        return self.units * self.rate_pence


@dataclass(frozen=True, slots=True)
class PriorInvoice:
    """An earlier, not rejected, invoice of the same provider (for duplicate detection)."""

    invoice_id: str
    invoice_number: str
    total_pence: int
    periods: frozenset[tuple[str, date, date]] = field(default_factory=frozenset)  # (order, start, end)


@dataclass(frozen=True, slots=True)
class Hold:
    """Why an invoice waits for a person: a code of careschemas.reasons.INVOICE_HOLD_REASONS."""

    reason_code: str
    detail: str
