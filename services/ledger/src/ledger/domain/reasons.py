"""Reason codes of PostingRejected events: what the ledger refused, and why, in stable UPPER_SNAKE names."""

DUPLICATE_CONFLICT = "DUPLICATE_CONFLICT"  # same event id, different content
UNKNOWN_BUDGET = "UNKNOWN_BUDGET"  # no agreed budget with that id (after waiting for the allocation stream)
BUDGET_ALREADY_AGREED = "BUDGET_ALREADY_AGREED"
BUDGET_CLOSED = "BUDGET_CLOSED"  # ended budget, or person died, and the event is not a closing one
INSUFFICIENT_BUDGET = "INSUFFICIENT_BUDGET"  # would overspend the budget beyond any authorised limit
SPLIT_EXCEEDS_BUDGET = "SPLIT_EXCEEDS_BUDGET"  # funding shares + contribution exceed the agreed amount
ORDER_OUTSIDE_BUDGET = "ORDER_OUTSIDE_BUDGET"  # service order dates outside the budget's dates
UNKNOWN_ORDER = "UNKNOWN_ORDER"
ORDER_EXISTS = "ORDER_EXISTS"
UNKNOWN_SCHEDULE = "UNKNOWN_SCHEDULE"
SCHEDULE_EXISTS = "SCHEDULE_EXISTS"
DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"  # a payment id instructed twice under different event ids
UNKNOWN_PAYMENT = "UNKNOWN_PAYMENT"
PAYMENT_NOT_PENDING = "PAYMENT_NOT_PENDING"  # settle/return of a payment that is not reserved
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"  # settlement or return amount differs from the reservation
PAYMENT_AFTER_END = "PAYMENT_AFTER_END"
PAYMENT_AFTER_DEATH = "PAYMENT_AFTER_DEATH"
PAYMENT_EXCEEDS_PAYABLE = "PAYMENT_EXCEEDS_PAYABLE"  # paying a provider more than approved invoices owe
DUPLICATE_INVOICE = "DUPLICATE_INVOICE"
UNKNOWN_RECOVERY = "UNKNOWN_RECOVERY"
RECOVERY_EXISTS = "RECOVERY_EXISTS"
INVALID_AMOUNT = "INVALID_AMOUNT"
AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"  # a line or balance beyond the journal's 64-bit amounts
NO_POSTING_RULE = "NO_POSTING_RULE"  # a valid message of a type the ledger does not post (e.g. a command)

# Rejections that may only mean "the fact this depends on has not been read yet" (it lives on another
# topic). The service defers these while the other input streams are behind, and rejects them only
# once those streams are caught up.
RETRIABLE = frozenset({UNKNOWN_BUDGET, UNKNOWN_ORDER})

ALL = sorted(v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str))
