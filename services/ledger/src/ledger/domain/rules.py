"""The posting rules, as one table: which event type posts what, under which rule version.

Auditors read this table (docs/posting-rules.md is generated from it). A change to what any rule posts
is a new RULE_VERSION; every journal entry records the version that produced it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import rules_allocation as alloc
from . import rules_payments as pay
from .model import Book, Event, Noted, Posting, Rejection

RULE_VERSION = "2026.2"
# What each version changed, for auditors replaying entries of an older version (docs/posting-rules.md).
VERSIONS = (
    ("2026.1", "First version."),
    ("2026.2", "`ServiceOrderEnded` for an order already ended, with an earlier end date (a death or the "
               "budget's end before the date the order was ended on), releases the commitment after the "
               "new end; before, it was rejected `UNKNOWN_ORDER` and the commitment stayed."),
)

Rule = Callable[[Book, Event], Posting | Rejection | Noted]


@dataclass(frozen=True)
class PostingRule:
    event_type: str
    debit: str
    credit: str
    apply: Rule


def _note(detail: str) -> Rule:
    return lambda book, ev: Noted(detail)


A, P, I = "allocation", "payments", "invoices"
TABLE: tuple[PostingRule, ...] = (
    PostingRule(f"{A}.PersonalBudgetAgreed.v1", "funding/B/council", "budget/B", alloc.personal_budget_agreed),
    PostingRule(f"{A}.PersonalBudgetRevised.v1", "funding/B/council (increase) or budget/B (decrease)", "the other", alloc.personal_budget_revised),
    PostingRule(f"{A}.FundingSplitAgreed.v1", "funding/B/icb, funding/B/pooled (their new shares)", "funding/B/council", alloc.funding_split_agreed),
    PostingRule(f"{A}.ContributionAssessed.v1", "funding/B/contribution (weekly x 52)", "funding/B/council", alloc.contribution_assessed),
    PostingRule(f"{A}.PersonalBudgetEnded.v1", "budget/B (what is left)", "funding/B/<source>, council first", alloc.personal_budget_ended),
    PostingRule(f"{A}.ServiceOrderCommissioned.v1", "budget/B (rate x units/week x days/7)", "committed/B", alloc.service_order_commissioned),
    PostingRule(f"{A}.ServiceOrderVaried.v1", "budget/B or committed/B (change in commitment)", "the other", alloc.service_order_varied),
    PostingRule(f"{A}.ServiceOrderEnded.v1", "committed/B (commitment after the end date)", "budget/B", alloc.service_order_ended),
    PostingRule(f"{A}.PersonDied.v1", "-", "- (budget closed to payments after the date of death)", alloc.person_died),
    PostingRule(f"{A}.OverspendAuthorised.v1", "-", "- (sets how far budget/B may go below zero)", alloc.overspend_authorised),
    PostingRule(f"{A}.IndicativeBudgetCalculated.v1", "-", "-", _note("indicative only")),
    PostingRule(f"{A}.DeliveryRouteAllocated.v1", "-", "-", _note("route recorded")),
    PostingRule(f"{A}.ProviderRegistered.v1", "-", "-", _note("provider recorded")),
    PostingRule(f"{A}.ProviderBankDetailsChanged.v1", "-", "-", _note("bank details change recorded")),
    PostingRule(f"{A}.CommandRejected.v1", "-", "-", _note("upstream rejection recorded")),
    PostingRule(f"{P}.DirectPaymentScheduled.v1", "budget/B (amount x periods to the end)", "committed/B", pay.direct_payment_scheduled),
    PostingRule(f"{P}.DirectPaymentSuspended.v1", "-", "-", pay.direct_payment_suspended),
    PostingRule(f"{P}.DirectPaymentResumed.v1", "-", "-", pay.direct_payment_resumed),
    PostingRule(f"{P}.PaymentInstructed.v1", "committed/B then budget/B (DP); payable/P (invoice)", "pending/B or pending/P (reserve)", pay.payment_instructed),
    PostingRule(f"{P}.OneOffPaymentMade.v1", "committed/B then budget/B", "pending/B (reserve)", pay.one_off_payment_made),
    PostingRule(f"{P}.PaymentSettled.v1", "pending/X", "bank", pay.payment_settled),
    PostingRule(f"{P}.PaymentReturned.v1", "pending/X (and bank, if settled)", "the reserved sources (reversal)", pay.payment_returned),
    PostingRule(f"{P}.SurplusRecoveryRaised.v1", "recoverable/B", "recovered", pay.surplus_recovery_raised),
    PostingRule(f"{P}.SurplusRecovered.v1", "bank (paid in) or committed/B then budget/B (offset_payment_id)", "recoverable/B", pay.surplus_recovered),
    PostingRule(f"{P}.CommandRejected.v1", "-", "-", _note("upstream rejection recorded")),
    PostingRule(f"{P}.PaymentRunCreated.v1", "-", "-", _note("run recorded")),
    PostingRule(f"{P}.PaymentRunApproved.v1", "-", "-", _note("run approval recorded")),
    PostingRule(f"{P}.PaymentFileGenerated.v1", "-", "-", _note("file hash recorded")),
    PostingRule(f"{I}.InvoiceApproved.v1", "committed/B then budget/B (rate x units per line)", "payable/P", pay.invoice_approved),
    PostingRule(f"{I}.CreditNoteReceived.v1", "payable/P", "budget/B", pay.credit_note_received),
    PostingRule(f"{I}.OverpaymentIdentified.v1", "recoverable/P", "budget/B", pay.overpayment_identified),
    PostingRule(f"{I}.InvoiceReceived.v1", "-", "-", _note("invoice received")),
    PostingRule(f"{I}.InvoiceMatched.v1", "-", "-", _note("invoice matched")),
    PostingRule(f"{I}.InvoiceHeld.v1", "-", "-", _note("invoice held")),
    PostingRule(f"{I}.InvoiceRejected.v1", "-", "-", _note("invoice rejected")),
)

RULES: dict[str, PostingRule] = {rule.event_type: rule for rule in TABLE}


def record_entry_id(book: Book, ev: Event, entry_id: str) -> None:
    """Remember which entry reserved or settled a payment, so a return can cite what it reverses."""
    name = ev.type.split(".")[1]
    if name in ("PaymentInstructed", "OneOffPaymentMade"):
        book.holds[ev.payload.payment_id].reserve_entry_id = entry_id
    elif name == "PaymentSettled":
        book.holds[ev.payload.payment_id].settle_entry_id = entry_id
