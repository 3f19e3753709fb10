"""Provider invoice events (family "invoices"; they travel on payments.events.v1, keyed by provider).

An invoice line names a service order, a period, units and a rate; its cost is always units x rate and
is never typed in. An invoice that does not match an active order is held with a reason, not dropped.
"""
from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator
from pydantic.dataclasses import dataclass

from .common import (
    MAX_INT, WORDS, Actor, BudgetId, Day, Detail, Event, Id, InvoiceId, OrderId, PositiveInt, PositivePence, ProviderId,
    ReasonCode, Text, require_order,
)

MAX_LINES = 1000
"""The most lines an invoice or credit note may have. A document's lines travel again in the events it
leads to (InvoiceReceived, InvoiceApproved) and become up to two journal lines per budget in the ledger's
entry; at this many lines, with every id at its longest, the largest of those records is under 512 KiB
(InvoiceApproved ~400 KB: schemas/tests/test_schemas_invoices.py; the ledger's EntryPosted, two lines of
~240 bytes per budget, ~470 KB), inside both the ledger's 512 KiB partition fetch and Kafka's default 1 MiB record
limit. A provider with more lines sends more than one invoice. Without a cap, a command its producer
compressed (the broker limits the compressed size) could lead to an event no relay can publish, and
every later row of that outbox would wait behind it."""

InvoiceNumber = Annotated[str, StringConstraints(min_length=1, max_length=35, pattern=WORDS), Field(
    description="The provider's own invoice number; unique per provider.")]


@dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid"))
class InvoiceLine:
    """One line of an invoice or credit note: units of a service order in a period, at a rate."""

    # A slotted pydantic dataclass, not a BaseModel: the same validation and JSON Schema, but no __dict__
    # and fields-set per line, so it validates in ~1.0 µs instead of ~1.7 and its attributes read twice as
    # fast. An invoice has dozens of lines, and every consumer of invoices validates them all
    # (docs/performance.md, "Tenth pass"). Validate or dump one alone with `INVOICE_LINE`.
    line_no: PositiveInt
    order_id: OrderId
    budget_id: BudgetId
    period_start: Day
    period_end: Annotated[Day, Field(description="Last day of the period; on or after period_start.")]
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


INVOICE_LINE: TypeAdapter[InvoiceLine] = TypeAdapter(InvoiceLine)
"""`INVOICE_LINE.validate_python(data)` / `.dump_python(line, mode="json")`: what a model's
`model_validate` / `model_dump` are for one line on its own."""


def _unique_line_numbers_and_a_total_that_fits(lines: list[InvoiceLine]) -> list[InvoiceLine]:
    numbers = [line.line_no for line in lines]
    if len(numbers) != len(set(numbers)):
        raise ValueError("line_no must be unique within the document")
    if sum(line.cost_pence for line in lines) > MAX_INT:
        raise ValueError(f"the lines' units x rate add up to more than {MAX_INT} pence")
    return lines


Lines = Annotated[list[InvoiceLine], Field(
    min_length=1, max_length=MAX_LINES,
    description=f"At least one line, at most {MAX_LINES}; line_no unique; units x rate over all lines at most "
                f"{MAX_INT} pence."),
    AfterValidator(_unique_line_numbers_and_a_total_that_fits)]


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
