"""Reason codes known to the wire contracts, with what each means.

Reason-code fields are open UPPER_SNAKE strings (a new code is not a breaking change), so these tables
document the codes in use; they do not restrict the schemas. The services own their rules; the ledger's
list here is the catalogue's copy and is refined with the ledger.
"""
from __future__ import annotations

# Dead-letter topics: header `dlq.reason`.
DLQ_REASONS: dict[str, str] = {
    "MALFORMED_JSON": "The message value is not UTF-8 JSON (or not a JSON object).",
    "INVALID_ENVELOPE": "The JSON is not a valid CloudEvents envelope of this project (missing or bad attribute).",
    "UNKNOWN_TYPE": "The envelope's type names no model in careschemas (or a type not expected on this topic).",
    "INVALID_PAYLOAD": "The envelope's data does not validate against the model of its type.",
}

# ledger.PostingRejected.v1 reason_code.
POSTING_REJECTION_REASONS: dict[str, str] = {
    "AMOUNT_MISMATCH": "A settlement or return amount differs from the reserved amount.",
    "BUDGET_ALREADY_AGREED": "A second PersonalBudgetAgreed for a budget id already agreed.",
    "BUDGET_CLOSED": "The budget ended or the person died before the event's effective date.",
    "DUPLICATE_CONFLICT": "An event id already processed arrived again with different content.",
    "DUPLICATE_INVOICE": "The provider's invoice was already approved.",
    "DUPLICATE_PAYMENT": "A payment id already instructed was instructed again under another event id.",
    "INSUFFICIENT_BUDGET": "Posting would take the budget below zero beyond any authorised limit.",
    "INVALID_AMOUNT": "An amount beyond what the referenced record allows (e.g. recovering more than raised).",
    "NO_POSTING_RULE": "A valid message of a type the ledger does not post (e.g. a command on an events topic).",
    "ORDER_EXISTS": "A service order id commissioned twice.",
    "ORDER_OUTSIDE_BUDGET": "A service order's dates fall outside the budget's dates.",
    "PAYMENT_AFTER_DEATH": "A payment due after the person's date of death.",
    "PAYMENT_AFTER_END": "A payment due after the budget's end date.",
    "PAYMENT_EXCEEDS_PAYABLE": "Paying a provider more than its approved invoices owe.",
    "PAYMENT_NOT_PENDING": "Settlement or return of a payment that is not reserved (already settled or returned).",
    "RECOVERY_EXISTS": "A surplus recovery id raised twice.",
    "SCHEDULE_EXISTS": "A direct-payment schedule id created twice.",
    "SPLIT_EXCEEDS_BUDGET": "Funding shares plus contribution exceed the agreed budget.",
    "UNKNOWN_BUDGET": "No agreed budget with that id (after the allocation stream caught up).",
    "UNKNOWN_ORDER": "No active service order with that id (for an invoice line: of that provider and budget).",
    "UNKNOWN_PAYMENT": "Settlement or return of a payment that was never instructed.",
    "UNKNOWN_RECOVERY": "A recovery that was never raised.",
    "UNKNOWN_SCHEDULE": "A direct-payment schedule that was never created.",
}

# invoices.InvoiceHeld.v1 reason_code.
INVOICE_HOLD_REASONS: dict[str, str] = {
    "NO_ORDER": "A line names no active service order of this provider.",
    "OVER_PLAN": "A line's units exceed the order's unconsumed planned units (beyond the tolerance).",
    "FUTURE_PERIOD": "A line's period ends after the invoice date or outside the order's dates.",
    "SUSPECTED_DUPLICATE": "The same provider invoiced the same order and period before.",
    "RATE_MISMATCH": "A line's rate differs from the order's rate by more than the tolerance.",
    "DISPUTED": "A person disputed the invoice with the provider (DisputeInvoice).",
}
