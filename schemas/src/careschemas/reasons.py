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
    "DUPLICATE_CONFLICT": "An event id already posted arrived again with different content.",
    "INSUFFICIENT_BUDGET": "Posting would overspend the budget beyond any authorised limit.",
    "UNKNOWN_BUDGET": "No agreed budget with that id (after the allocation stream caught up).",
    "UNKNOWN_PAYMENT": "Settlement or return of a payment that was never instructed.",
    "PAYMENT_NOT_PENDING": "Settlement or return of a payment that is not reserved (already settled or returned).",
    "BUDGET_CLOSED": "The budget has ended or the person died, and the event is not a closing one.",
    "AMOUNT_MISMATCH": "A settlement or return amount differs from the reserved amount.",
    "SPLIT_EXCEEDS_BUDGET": "Funding shares plus contribution exceed the agreed budget.",
}

# invoices.InvoiceHeld.v1 reason_code.
INVOICE_HOLD_REASONS: dict[str, str] = {
    "NO_ORDER": "A line names no active service order of this provider.",
    "OVER_PLAN": "A line's units exceed the order's unconsumed planned units (beyond the tolerance).",
    "FUTURE_PERIOD": "A line's period ends after the invoice date or outside the order's dates.",
    "SUSPECTED_DUPLICATE": "The same provider invoiced the same order and period before.",
    "DISPUTED": "A person disputed the invoice with the provider (DisputeInvoice).",
}
