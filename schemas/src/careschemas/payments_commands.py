"""Payments commands (family "payments", topic payments.commands.v1): schedules, one-off payments,
payment runs and files, bank settlements and returns, surplus recovery. The payments service answers
each with the event named by `LEADS_TO`, or `payments.CommandRejected.v1` with a reason code."""
from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from .common import (
    Actor, BudgetId, Command, ContributionMode, Count, Day, PaymentId, Pence, PositivePence, RecoveryId, RunId,
    ScheduleId, ShortText, Text, require_order,
)
from .payments_events import FileFormat, RecoveryMethod


class ScheduleDirectPayment(Command):
    """Start paying a direct payment every frequency_weeks weeks."""

    TYPE: ClassVar[str] = "payments.ScheduleDirectPayment.v1"
    LEADS_TO: ClassVar[str] = "payments.DirectPaymentScheduled.v1"
    schedule_id: ScheduleId
    budget_id: BudgetId
    amount_pence: PositivePence = Field(description="Amount paid each period, in pence.")
    frequency_weeks: Annotated[int, Field(ge=1, le=52, strict=True)] | None = Field(
        default=None, description="Weeks between payments; absent: the council's policy (default 4).")
    first_due_date: Day
    end_date: Day
    contribution_mode: ContributionMode
    effective_date: Day

    @model_validator(mode="after")
    def _end_not_before_first_due(self) -> ScheduleDirectPayment:
        require_order(self.first_due_date, self.end_date, strict=False, what="end_date")
        return self


class SuspendDirectPayment(Command):
    """Stop further payments on a schedule until resumed."""

    TYPE: ClassVar[str] = "payments.SuspendDirectPayment.v1"
    LEADS_TO: ClassVar[str] = "payments.DirectPaymentSuspended.v1"
    schedule_id: ScheduleId
    budget_id: BudgetId
    reason: Text
    effective_date: Day


class ResumeDirectPayment(Command):
    """Resume a suspended schedule."""

    TYPE: ClassVar[str] = "payments.ResumeDirectPayment.v1"
    LEADS_TO: ClassVar[str] = "payments.DirectPaymentResumed.v1"
    schedule_id: ScheduleId
    budget_id: BudgetId
    reason: Text
    effective_date: Day


class MakeOneOffPayment(Command):
    """Pay a single amount from a budget."""

    TYPE: ClassVar[str] = "payments.MakeOneOffPayment.v1"
    LEADS_TO: ClassVar[str] = "payments.OneOffPaymentMade.v1"
    payment_id: PaymentId
    budget_id: BudgetId
    amount_pence: PositivePence
    reason: Text
    effective_date: Day


class CreatePaymentRun(Command):
    """Gather every payment due on or before due_on into a new run (count and total are computed)."""

    TYPE: ClassVar[str] = "payments.CreatePaymentRun.v1"
    LEADS_TO: ClassVar[str] = "payments.PaymentRunCreated.v1"
    run_id: RunId
    created_by: Actor
    due_on: Day
    effective_date: Day


class ApprovePaymentRun(Command):
    """Approve a run; refused when approved_by is the run's creator (separation of duties)."""

    TYPE: ClassVar[str] = "payments.ApprovePaymentRun.v1"
    LEADS_TO: ClassVar[str] = "payments.PaymentRunApproved.v1"
    run_id: RunId
    approved_by: Actor
    effective_date: Day


class GeneratePaymentFile(Command):
    """Write the bank file of an approved run."""

    TYPE: ClassVar[str] = "payments.GeneratePaymentFile.v1"
    LEADS_TO: ClassVar[str] = "payments.PaymentFileGenerated.v1"
    run_id: RunId
    file_format: FileFormat
    effective_date: Day


class RecordSettlement(Command):
    """A bank statement line (camt.053/054) shows the payment was paid. Refused UNKNOWN_PAYMENT,
    PAYMENT_NOT_PENDING, AMOUNT_MISMATCH, or BEFORE_INSTRUCTION when dated before the payment's run."""

    TYPE: ClassVar[str] = "payments.RecordSettlement.v1"
    LEADS_TO: ClassVar[str] = "payments.PaymentSettled.v1"
    payment_id: PaymentId
    amount_pence: PositivePence
    bank_ref: ShortText | None = None
    effective_date: Day


class RecordReturn(Command):
    """A bank statement line shows the payment came back, settled or not. Refused UNKNOWN_PAYMENT,
    PAYMENT_NOT_PENDING (already returned), AMOUNT_MISMATCH, or BEFORE_INSTRUCTION when dated before the
    payment's run."""

    TYPE: ClassVar[str] = "payments.RecordReturn.v1"
    LEADS_TO: ClassVar[str] = "payments.PaymentReturned.v1"
    payment_id: PaymentId
    amount_pence: PositivePence
    reason: Text
    effective_date: Day


class RaiseSurplusRecovery(Command):
    """Recover the surplus of a DP account beyond the allowed weeks in credit."""

    TYPE: ClassVar[str] = "payments.RaiseSurplusRecovery.v1"
    LEADS_TO: ClassVar[str] = "payments.SurplusRecoveryRaised.v1"
    recovery_id: RecoveryId
    budget_id: BudgetId
    amount_pence: PositivePence
    weeks_in_credit: Count
    method: RecoveryMethod
    effective_date: Day


class ReportDirectPaymentBalance(Command):
    """A DP account's balance and liabilities (from an audit or the managed-account provider). When the
    balance after liabilities is more than the council's allowed weeks of payments (default 8), the
    service raises a surplus recovery of the excess (SurplusRecoveryRaised, method from the council's
    policy); otherwise the command is refused with NO_SURPLUS."""

    TYPE: ClassVar[str] = "payments.ReportDirectPaymentBalance.v1"
    LEADS_TO: ClassVar[str] = "payments.SurplusRecoveryRaised.v1"
    recovery_id: RecoveryId = Field(description="Id of the recovery raised if there is a surplus.")
    budget_id: BudgetId
    balance_pence: Pence
    liabilities_pence: Pence = Field(description="Money the account owes (unpaid invoices, wages due).")
    effective_date: Day
