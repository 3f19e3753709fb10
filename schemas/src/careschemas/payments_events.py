"""Payments events (family "payments", topic payments.events.v1): direct payment schedules, payment
instructions, runs and bank files, settlements and returns, surplus recovery, rejected payments commands.

Payments are two-phase: PaymentInstructed reserves the money, PaymentSettled posts it, PaymentReturned
releases it. Settlement and return should carry the instruction's budget_id / provider_id so that they
travel with the same message key, i.e. on the same partition, after the instruction.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from .common import (
    Actor, BudgetId, ContributionMode, Count, Day, Detail, Event, Id, InvoiceId, PaymentId, Pence, PositivePence,
    ProviderId, ReasonCode, RecoveryId, RunId, ScheduleId, Sha256Hex, ShortText, Text, TypeName, require_order,
)

PaymentKind = Literal["direct_payment", "invoice", "one_off"]
FileFormat = Literal["bacs18", "pain001"]
RecoveryMethod = Literal["offset", "invoice"]


class DirectPaymentScheduled(Event):
    """A direct payment of amount_pence every frequency_weeks weeks, in advance, from first_due_date."""

    TYPE: ClassVar[str] = "payments.DirectPaymentScheduled.v1"
    schedule_id: ScheduleId
    budget_id: BudgetId
    amount_pence: PositivePence = Field(description="Amount paid each period, in pence.")
    frequency_weeks: int = Field(default=4, ge=1, le=52, strict=True)
    first_due_date: Day
    end_date: Day = Field(description="No payment falls due after this date; on or after first_due_date.")
    contribution_mode: ContributionMode
    effective_date: Day

    @model_validator(mode="after")
    def _end_not_before_first_due(self) -> DirectPaymentScheduled:
        require_order(self.first_due_date, self.end_date, strict=False, what="end_date")
        return self


class DirectPaymentSuspended(Event):
    """No further payments fall due on the schedule until it is resumed."""

    TYPE: ClassVar[str] = "payments.DirectPaymentSuspended.v1"
    schedule_id: ScheduleId
    budget_id: BudgetId
    reason: Text
    effective_date: Day


class DirectPaymentResumed(Event):
    """A suspended schedule pays again."""

    TYPE: ClassVar[str] = "payments.DirectPaymentResumed.v1"
    schedule_id: ScheduleId
    budget_id: BudgetId
    reason: Text
    effective_date: Day


class PaymentInstructed(Event):
    """Money reserved for one payment (phase one). A DP or one-off names its budget; an invoice payment
    names its provider (its invoice lines name the budgets)."""

    TYPE: ClassVar[str] = "payments.PaymentInstructed.v1"
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"kind": {"const": "invoice"}}},
        "then": {"required": ["provider_id"], "properties": {"provider_id": {"type": "string"}}},
        "else": {"required": ["budget_id"], "properties": {"budget_id": {"type": "string"}}},
    })
    payment_id: PaymentId
    run_id: RunId | None = None
    kind: PaymentKind
    budget_id: BudgetId | None = Field(default=None, description="Required unless kind is invoice.")
    provider_id: ProviderId | None = Field(default=None, description="Required when kind is invoice.")
    invoice_id: InvoiceId | None = None
    amount_pence: PositivePence
    due_date: Day
    effective_date: Day

    @model_validator(mode="after")
    def _parties_match_kind(self) -> PaymentInstructed:
        if self.kind == "invoice" and self.provider_id is None:
            raise ValueError("provider_id is required when kind is invoice")
        if self.kind != "invoice" and self.budget_id is None:
            raise ValueError(f"budget_id is required when kind is {self.kind}")
        return self


class OneOffPaymentMade(Event):
    """A single payment from a budget outside any schedule (e.g. equipment, start-up costs)."""

    TYPE: ClassVar[str] = "payments.OneOffPaymentMade.v1"
    payment_id: PaymentId
    budget_id: BudgetId
    amount_pence: PositivePence
    reason: Text
    effective_date: Day


class PaymentRunCreated(Event):
    """A batch of payment instructions was gathered for one bank file."""

    TYPE: ClassVar[str] = "payments.PaymentRunCreated.v1"
    run_id: RunId
    created_by: Actor
    payment_count: Count
    total_pence: Pence
    due_on: Day | None = Field(default=None, description="The date the run's payments fall due (optional).")
    effective_date: Day


class PaymentRunApproved(Event):
    """A payment run was approved by someone other than its creator."""

    TYPE: ClassVar[str] = "payments.PaymentRunApproved.v1"
    run_id: RunId
    approved_by: Actor
    effective_date: Day


class PaymentFileGenerated(Event):
    """The bank file of a run was written (Bacs Standard 18 or ISO 20022 pain.001), with its digest."""

    TYPE: ClassVar[str] = "payments.PaymentFileGenerated.v1"
    run_id: RunId
    file_format: FileFormat
    file_name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
    sha256: Sha256Hex
    payment_count: Count
    total_pence: Pence
    effective_date: Day


class PaymentSettled(Event):
    """The bank paid the payment (phase two): the reservation is posted as spent."""

    TYPE: ClassVar[str] = "payments.PaymentSettled.v1"
    payment_id: PaymentId
    amount_pence: PositivePence
    bank_ref: ShortText | None = None
    budget_id: BudgetId | None = Field(default=None, description="As on the instruction (message key).")
    provider_id: ProviderId | None = Field(default=None, description="As on the instruction (message key).")
    effective_date: Day


class PaymentReturned(Event):
    """The bank returned the payment: the reservation is released."""

    TYPE: ClassVar[str] = "payments.PaymentReturned.v1"
    payment_id: PaymentId
    amount_pence: PositivePence
    reason: Text
    budget_id: BudgetId | None = Field(default=None, description="As on the instruction (message key).")
    provider_id: ProviderId | None = Field(default=None, description="As on the instruction (message key).")
    effective_date: Day


class SurplusRecoveryRaised(Event):
    """A DP account holds more than the allowed weeks of payments; the excess is to be recovered."""

    TYPE: ClassVar[str] = "payments.SurplusRecoveryRaised.v1"
    recovery_id: RecoveryId
    budget_id: BudgetId
    amount_pence: PositivePence
    weeks_in_credit: Count
    method: RecoveryMethod
    effective_date: Day


class SurplusRecovered(Event):
    """(Part of) a raised surplus recovery came back to the council: paid in, or (offset_payment_id set)
    kept back from that direct payment, which was instructed for less."""

    TYPE: ClassVar[str] = "payments.SurplusRecovered.v1"
    recovery_id: RecoveryId
    budget_id: BudgetId
    amount_pence: PositivePence
    offset_payment_id: PaymentId | None = Field(
        default=None, description="The DP payment this was offset against; absent when the money was paid in.")
    effective_date: Day


class CommandRejected(Event):
    """The payments service refused a payments or invoices command; nothing else changed."""

    TYPE: ClassVar[str] = "payments.CommandRejected.v1"
    command_id: Id = Field(description="Envelope id of the rejected command.")
    command_type: TypeName
    reason_code: ReasonCode
    detail: Detail
    effective_date: Day
