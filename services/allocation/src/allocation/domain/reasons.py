"""Reason codes of allocation.CommandRejected.v1: what the allocation service refused, and why.

Stable UPPER_SNAKE names; the sending system matches a rejection to its command by `command_id` and
acts on `reason_code`. Where the ledger refuses the same thing it uses the same code.
"""
from __future__ import annotations

# Idempotency
DUPLICATE_CONFLICT = "DUPLICATE_CONFLICT"

# Which aggregate
UNKNOWN_BUDGET = "UNKNOWN_BUDGET"
BUDGET_ALREADY_AGREED = "BUDGET_ALREADY_AGREED"
PERSON_MISMATCH = "PERSON_MISMATCH"
UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
PROVIDER_ALREADY_REGISTERED = "PROVIDER_ALREADY_REGISTERED"
UNKNOWN_ORDER = "UNKNOWN_ORDER"
ORDER_EXISTS = "ORDER_EXISTS"

# Lifecycle
BUDGET_CLOSED = "BUDGET_CLOSED"
DEATH_ALREADY_RECORDED = "DEATH_ALREADY_RECORDED"
ORDER_ENDED = "ORDER_ENDED"

# Money
SPLIT_EXCEEDS_BUDGET = "SPLIT_EXCEEDS_BUDGET"
ROUTES_EXCEED_BUDGET = "ROUTES_EXCEED_BUDGET"
INSUFFICIENT_BUDGET = "INSUFFICIENT_BUDGET"
VARIANCE_REASON_REQUIRED = "VARIANCE_REASON_REQUIRED"
INDICATIVE_MISMATCH = "INDICATIVE_MISMATCH"

# Dates
ORDER_OUTSIDE_BUDGET = "ORDER_OUTSIDE_BUDGET"
DATE_OUT_OF_RANGE = "DATE_OUT_OF_RANGE"

# Council policy and details
CONTRIBUTION_MODE_NOT_ALLOWED = "CONTRIBUTION_MODE_NOT_ALLOWED"
HOLDER_REQUIRED = "HOLDER_REQUIRED"
BANK_DETAILS_UNCHANGED = "BANK_DETAILS_UNCHANGED"

MEANINGS: dict[str, str] = {
    DUPLICATE_CONFLICT: "The command id was used before with different content; the first outcome stands.",
    UNKNOWN_BUDGET: "No agreed personal budget with that id in this council.",
    BUDGET_ALREADY_AGREED: "The budget was already agreed; change it with RevisePersonalBudget.",
    PERSON_MISMATCH: "The command names a different person than the budget belongs to.",
    UNKNOWN_PROVIDER: "No registered provider with that id in this council.",
    PROVIDER_ALREADY_REGISTERED: "A provider with that id is already registered.",
    UNKNOWN_ORDER: "No service order with that id on this budget.",
    ORDER_EXISTS: "A service order with that id already exists in this council.",
    BUDGET_CLOSED: "The budget has ended or the person died; only closing commands are accepted.",
    DEATH_ALREADY_RECORDED: "The person's death was already recorded.",
    ORDER_ENDED: "The service order has already ended.",
    SPLIT_EXCEEDS_BUDGET: "ICB + pooled shares + yearly contribution would exceed the agreed budget "
                          "(the council's share would fall below zero).",
    ROUTES_EXCEED_BUDGET: "The delivery-route allocations would add up to more than the agreed budget.",
    INSUFFICIENT_BUDGET: "Service-order commitments would exceed the agreed budget plus any authorised overspend.",
    VARIANCE_REASON_REQUIRED: "The agreed amount differs from the indicative one by more than the council's "
                              "tolerance and no variance_reason was given.",
    INDICATIVE_MISMATCH: "The command's indicative amount differs from the one calculated for this budget.",
    ORDER_OUTSIDE_BUDGET: "The service order's dates fall outside the budget's start and end dates.",
    DATE_OUT_OF_RANGE: "A date is outside what the aggregate allows (e.g. ending after the current end).",
    CONTRIBUTION_MODE_NOT_ALLOWED: "The council's policy does not allow this contribution mode.",
    HOLDER_REQUIRED: "Managed-account and ISF routes must name who holds the money (holder_ref).",
    BANK_DETAILS_UNCHANGED: "The provider's bank account is already that account.",
}

ALL: tuple[str, ...] = tuple(sorted(MEANINGS))
