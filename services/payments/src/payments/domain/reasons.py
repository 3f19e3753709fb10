"""Reason codes of payments.CommandRejected.v1: what the payments service refused, and why.

Stable UPPER_SNAKE names; the sender matches a rejection to its command by `command_id`. Where the
ledger refuses the same thing it uses the same code. Invoice hold reasons are in
careschemas.reasons.INVOICE_HOLD_REASONS (a hold is not a rejection: the invoice waits for a person).
"""
from __future__ import annotations

DUPLICATE_CONFLICT = "DUPLICATE_CONFLICT"
UNKNOWN_BUDGET = "UNKNOWN_BUDGET"
BUDGET_CLOSED = "BUDGET_CLOSED"
UNKNOWN_SCHEDULE = "UNKNOWN_SCHEDULE"
SCHEDULE_EXISTS = "SCHEDULE_EXISTS"
SCHEDULE_NOT_ACTIVE = "SCHEDULE_NOT_ACTIVE"
SCHEDULE_NOT_SUSPENDED = "SCHEDULE_NOT_SUSPENDED"
PAYMENT_EXISTS = "PAYMENT_EXISTS"
UNKNOWN_PAYMENT = "UNKNOWN_PAYMENT"
PAYMENT_NOT_PENDING = "PAYMENT_NOT_PENDING"
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
BEFORE_INSTRUCTION = "BEFORE_INSTRUCTION"
PAYMENT_AFTER_END = "PAYMENT_AFTER_END"
PAYMENT_AFTER_DEATH = "PAYMENT_AFTER_DEATH"
UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
INVOICE_EXISTS = "INVOICE_EXISTS"
DUPLICATE_INVOICE_NUMBER = "DUPLICATE_INVOICE_NUMBER"
UNKNOWN_INVOICE = "UNKNOWN_INVOICE"
INVOICE_NOT_OPEN = "INVOICE_NOT_OPEN"
ORDER_REQUIRED = "ORDER_REQUIRED"
CREDIT_EXCEEDS_INVOICE = "CREDIT_EXCEEDS_INVOICE"
RUN_EXISTS = "RUN_EXISTS"
RUN_EMPTY = "RUN_EMPTY"
RUN_NOT_READY = "RUN_NOT_READY"
UNKNOWN_RUN = "UNKNOWN_RUN"
SELF_APPROVAL = "SELF_APPROVAL"
RUN_ALREADY_APPROVED = "RUN_ALREADY_APPROVED"
RUN_NOT_APPROVED = "RUN_NOT_APPROVED"
UNKNOWN_ACCOUNT_REF = "UNKNOWN_ACCOUNT_REF"
PAYMENT_FILE_INVALID = "PAYMENT_FILE_INVALID"
BANK_DIRECTORY_INVALID = "BANK_DIRECTORY_INVALID"
RECOVERY_EXISTS = "RECOVERY_EXISTS"
NO_SURPLUS = "NO_SURPLUS"
POLICY_INVALID = "POLICY_INVALID"
AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"

MEANINGS: dict[str, str] = {
    DUPLICATE_CONFLICT: "The command id was used before with different content; the first outcome stands.",
    UNKNOWN_BUDGET: "No agreed budget with that id in this council (in the payments read model).",
    BUDGET_CLOSED: "The budget ended or the person died before the date asked for.",
    UNKNOWN_SCHEDULE: "No direct-payment schedule with that id on that budget.",
    SCHEDULE_EXISTS: "A direct-payment schedule with that id already exists.",
    SCHEDULE_NOT_ACTIVE: "Only an active schedule can be suspended.",
    SCHEDULE_NOT_SUSPENDED: "Only a suspended schedule can be resumed.",
    PAYMENT_EXISTS: "A payment with that id already exists.",
    UNKNOWN_PAYMENT: "No payment with that id was instructed.",
    PAYMENT_NOT_PENDING: "The payment is not waiting for the bank (already settled, returned or not instructed).",
    AMOUNT_MISMATCH: "The statement amount differs from the instructed amount.",
    BEFORE_INSTRUCTION: "The settlement or return is dated before the payment run that instructed the payment.",
    PAYMENT_AFTER_END: "The payment would fall after the budget's end date.",
    PAYMENT_AFTER_DEATH: "The payment would fall after the person's date of death.",
    UNKNOWN_PROVIDER: "No registered provider with that id in this council.",
    INVOICE_EXISTS: "An invoice with that invoice_id was already received.",
    DUPLICATE_INVOICE_NUMBER: "The provider already sent an invoice with exactly that number (unique per provider).",
    UNKNOWN_INVOICE: "No invoice with that id from that provider.",
    INVOICE_NOT_OPEN: "The invoice was already approved, rejected or paid.",
    ORDER_REQUIRED: "An invoice whose lines name no service order of that provider cannot be approved.",
    CREDIT_EXCEEDS_INVOICE: "A credit note may not credit more than its invoice.",
    RUN_EXISTS: "A payment run with that id already exists.",
    RUN_EMPTY: "Nothing is due on or before that date: no run was created.",
    RUN_NOT_READY: "The run is still being made (in parts); it can be approved once PaymentRunCreated is out.",
    UNKNOWN_RUN: "No payment run with that id.",
    SELF_APPROVAL: "A payment run's creator cannot approve it.",
    RUN_ALREADY_APPROVED: "The payment run was already approved.",
    RUN_NOT_APPROVED: "A payment file is written only for an approved run.",
    UNKNOWN_ACCOUNT_REF: "A payee's account_ref is not in the council's bank directory.",
    PAYMENT_FILE_INVALID: "The run cannot be rendered in that bank format (detail says why).",
    BANK_DIRECTORY_INVALID: "The council's bank directory CSV is missing or malformed (detail says why).",
    RECOVERY_EXISTS: "A surplus recovery with that id was already raised.",
    NO_SURPLUS: "The direct-payment account holds no more than the allowed weeks of payments.",
    POLICY_INVALID: "The council's stored policy row is not valid (written by hand; `policy` refuses such values): "
                    "nothing of that council is decided until it is fixed; send the command again under a new id.",
    AMOUNT_OUT_OF_RANGE: "A number the command would make is more than can be stored (2^63 - 1 pence; 2^31 - 1 for a "
                         "count): a provider's credit owed back over its credit notes, or the weeks in credit of a "
                         "balance (detail says which).",
}
