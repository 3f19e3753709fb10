"""Provider invoice events (family "invoices"; they travel on payments.events.v1, keyed by provider).

An invoice line names a service order, a period, units and a rate; its cost is always units x rate and
is never typed in. An invoice that does not match an active order is held with a reason, not dropped.
"""
from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .common import (
    Actor, BudgetId, Day, Detail, Event, Id, InvoiceId, OrderId, PositiveInt, PositivePence, ProviderId,
    ReasonCode, Text, require_order,
)

InvoiceNumber = Annotated[str, StringConstraints(min_length=1, max_length=35, pattern=r"\S"), Field(
    description="The provider's own invoice number; unique per provider.")]


class InvoiceLine(BaseModel):
    """One line of an invoice or credit note: units of a service order in a period, at a rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_no: PositiveInt
    order_id: OrderId
    budget_id: BudgetId
    period_start: Day
    period_end: Day = Field(description="Last day of the period; on or after period_start.")
    units: PositiveInt
    rate_pence: PositivePence

    @model_validator(mode="after")
    def _period_in_order(self) -> InvoiceLine:
        require_order(self.period_start, self.period_end, strict=False, what="period_end")
        return self

    @property
    def cost_pence(self) -> int:
        """Units x rate, in pence: the only way a line's cost is known."""
        return self.units * self.rate_pence


def _unique_line_numbers(lines: list[InvoiceLine]) -> list[InvoiceLine]:
    numbers = [line.line_no for line in lines]
    if len(numbers) != len(set(numbers)):
        raise ValueError("line_no must be unique within the document")
    return lines


Lines = Annotated[list[InvoiceLine], Field(min_length=1, description="At least one line; line_no unique."),
                  AfterValidator(_unique_line_numbers)]


class _Priced:
    """Adds the document total (the sum of its lines' units x rate) to a model with `lines`."""

    @property
    def total_pence(self) -> int:
        return sum(line.cost_pence for line in self.lines)  # type: ignore[attr-defined]


class InvoiceReceived(_Priced, Event):
    """A provider's invoice arrived; matching follows (InvoiceMatched or InvoiceHeld)."""

    TYPE: ClassVar[str] = "invoices.InvoiceReceived.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    invoice_number: InvoiceNumber
    invoice_date: Day
    lines: Lines
    effective_date: Day


class InvoiceMatched(Event):
    """Every line matches an active service order of the provider with unconsumed planned units."""

    TYPE: ClassVar[str] = "invoices.InvoiceMatched.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    effective_date: Day


class InvoiceHeld(Event):
    """The invoice cannot be paid as it stands (e.g. NO_ORDER, OVER_PLAN, FUTURE_PERIOD,
    SUSPECTED_DUPLICATE, DISPUTED); it waits for a person to approve or reject it."""

    TYPE: ClassVar[str] = "invoices.InvoiceHeld.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    reason_code: ReasonCode
    detail: Detail
    effective_date: Day


class InvoiceApproved(_Priced, Event):
    """The invoice is approved for payment; the lines are what the provider is owed."""

    TYPE: ClassVar[str] = "invoices.InvoiceApproved.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    approved_by: Actor
    lines: Lines
    effective_date: Day


class InvoiceRejected(Event):
    """The invoice will not be paid."""

    TYPE: ClassVar[str] = "invoices.InvoiceRejected.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    reason_code: ReasonCode
    detail: Detail
    effective_date: Day


class CreditNoteReceived(_Priced, Event):
    """A provider credited (part of) an invoice; the lines are the credited units."""

    TYPE: ClassVar[str] = "invoices.CreditNoteReceived.v1"
    credit_note_id: Id
    provider_id: ProviderId
    invoice_id: InvoiceId
    lines: Lines
    effective_date: Day


class OverpaymentIdentified(Event):
    """A provider was paid more than it was owed for a budget; the excess is to be recovered."""

    TYPE: ClassVar[str] = "invoices.OverpaymentIdentified.v1"
    overpayment_id: Id
    provider_id: ProviderId
    budget_id: BudgetId
    amount_pence: PositivePence
    reason: Text
    effective_date: Day
