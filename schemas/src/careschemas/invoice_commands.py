"""Provider invoice commands (family "invoices"; they travel on payments.commands.v1), sent by provider
portals and finance staff. The payments service answers each with the event named by `LEADS_TO`, or
`payments.CommandRejected.v1` with a reason code."""
from __future__ import annotations

from typing import ClassVar

from .common import Actor, BudgetId, Command, Day, Detail, Id, InvoiceId, PositivePence, ProviderId, ReasonCode, Text
from .invoice_events import InvoiceNumber, Lines


class ReceiveInvoice(Command):
    """Take in a provider's invoice; the service matches it and emits InvoiceMatched or InvoiceHeld next."""

    TYPE: ClassVar[str] = "invoices.ReceiveInvoice.v1"
    LEADS_TO: ClassVar[str] = "invoices.InvoiceReceived.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    invoice_number: InvoiceNumber
    invoice_date: Day
    lines: Lines
    effective_date: Day


class ApproveInvoice(Command):
    """Approve a (matched or held) invoice for payment; the service copies the received lines."""

    TYPE: ClassVar[str] = "invoices.ApproveInvoice.v1"
    LEADS_TO: ClassVar[str] = "invoices.InvoiceApproved.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    approved_by: Actor
    effective_date: Day


class RejectInvoice(Command):
    """Refuse to pay an invoice."""

    TYPE: ClassVar[str] = "invoices.RejectInvoice.v1"
    LEADS_TO: ClassVar[str] = "invoices.InvoiceRejected.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    reason_code: ReasonCode
    detail: Detail
    effective_date: Day


class DisputeInvoice(Command):
    """Query an invoice with the provider; it is held (reason_code DISPUTED, detail = reason) meanwhile."""

    TYPE: ClassVar[str] = "invoices.DisputeInvoice.v1"
    LEADS_TO: ClassVar[str] = "invoices.InvoiceHeld.v1"
    invoice_id: InvoiceId
    provider_id: ProviderId
    reason: Text
    effective_date: Day


class ReceiveCreditNote(Command):
    """Take in a provider's credit note against one of its invoices."""

    TYPE: ClassVar[str] = "invoices.ReceiveCreditNote.v1"
    LEADS_TO: ClassVar[str] = "invoices.CreditNoteReceived.v1"
    credit_note_id: Id
    provider_id: ProviderId
    invoice_id: InvoiceId
    lines: Lines
    effective_date: Day


class RecordOverpayment(Command):
    """Record that a provider was overpaid for a budget."""

    TYPE: ClassVar[str] = "invoices.RecordOverpayment.v1"
    LEADS_TO: ClassVar[str] = "invoices.OverpaymentIdentified.v1"
    overpayment_id: Id
    provider_id: ProviderId
    budget_id: BudgetId
    amount_pence: PositivePence
    reason: Text
    effective_date: Day
