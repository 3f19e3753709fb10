"""Reason codes of allocation.CommandRejected.v1: what the allocation service refused, and why.

Stable UPPER_SNAKE names; the sending system matches a rejection to its command by `command_id` and
acts on `reason_code`. Where the ledger refuses the same thing it uses the same code.
"""
from __future__ import annotations

from careschemas.reasons import ALLOCATION_REJECTION_REASONS

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
POLICY_INVALID = "POLICY_INVALID"  # the council's stored policy row is not valid (written by hand)

# The meanings (and an example of each) are part of the wire contract, in careschemas.reasons, so that
# docs/events.md lists them; a test keeps the constants above and that table in step.
MEANINGS: dict[str, str] = ALLOCATION_REJECTION_REASONS

ALL: tuple[str, ...] = tuple(sorted(MEANINGS))
