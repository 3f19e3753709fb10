"""Reason codes known to the wire contracts, with what each means.

Reason-code fields are open UPPER_SNAKE strings (a new code is not a breaking change), so these tables
document the codes in use; they do not restrict the schemas. The services own their rules; the ledger's
list here is the catalogue's copy and is refined with the ledger. The allocation service takes its
meanings from here (`ALLOCATION_REJECTION_REASONS`). Each table has a twin of examples, one per code,
shown beside the meanings in docs/events.md (a test fails when a code has no example).
"""
from __future__ import annotations

# Dead-letter topics: header `dlq.reason`.
DLQ_REASONS: dict[str, str] = {
    "MALFORMED_JSON": "The message value is not UTF-8 JSON (or not a JSON object).",
    "INVALID_ENVELOPE": "The JSON is not a valid CloudEvents envelope of this project (missing or bad attribute).",
    "UNKNOWN_TYPE": "The envelope's type names no model in careschemas (or a type not expected on this topic).",
    "INVALID_PAYLOAD": "The envelope's data does not validate against the model of its type.",
}

DLQ_EXAMPLES: dict[str, str] = {
    "MALFORMED_JSON": "A truncated record `{\"specversion\": \"1.0\", \"id\": `, or `[1, 2, 3]`.",
    "INVALID_ENVELOPE": "An envelope without its `councilid` extension.",
    "UNKNOWN_TYPE": "`allocation.BudgetTeleported.v1`; or a valid event sent to allocation.commands.v1.",
    "INVALID_PAYLOAD": "`amount_pence` of -500, 12.5 or \"lots\"; an end date before the start; a raw sort code.",
}

# allocation.CommandRejected.v1 reason_code: what the allocation service refused, and why.
ALLOCATION_REJECTION_REASONS: dict[str, str] = {
    "DUPLICATE_CONFLICT": "The command id was used before with different content; the first outcome stands.",
    "UNKNOWN_BUDGET": "No agreed personal budget with that id in this council.",
    "BUDGET_ALREADY_AGREED": "The budget was already agreed; change it with RevisePersonalBudget.",
    "PERSON_MISMATCH": "The command names a different person than the budget belongs to.",
    "UNKNOWN_PROVIDER": "No registered provider with that id in this council.",
    "PROVIDER_ALREADY_REGISTERED": "A provider with that id is already registered.",
    "UNKNOWN_ORDER": "No service order with that id on this budget.",
    "ORDER_EXISTS": "A service order with that id already exists in this council.",
    "BUDGET_CLOSED": "The budget has ended or the person died; only closing commands are accepted.",
    "DEATH_ALREADY_RECORDED": "The person's death was already recorded.",
    "ORDER_ENDED": "The service order has already ended.",
    "SPLIT_EXCEEDS_BUDGET": "ICB + pooled shares + yearly contribution would exceed the agreed budget "
                            "(the council's share would fall below zero).",
    "ROUTES_EXCEED_BUDGET": "The delivery-route allocations would add up to more than the agreed budget.",
    "INSUFFICIENT_BUDGET": "Service-order commitments would exceed the agreed budget plus any authorised overspend.",
    "VARIANCE_REASON_REQUIRED": "The agreed amount differs from the indicative one by more than the council's "
                                "tolerance and no variance_reason was given.",
    "INDICATIVE_MISMATCH": "The command's indicative amount differs from the one calculated for this budget.",
    "ORDER_OUTSIDE_BUDGET": "The service order's dates fall outside the budget's start and end dates.",
    "DATE_OUT_OF_RANGE": "A date is outside what the aggregate allows (e.g. ending after the current end).",
    "CONTRIBUTION_MODE_NOT_ALLOWED": "The council's policy does not allow this contribution mode.",
    "HOLDER_REQUIRED": "Managed-account and ISF routes must name who holds the money (holder_ref).",
    "BANK_DETAILS_UNCHANGED": "The provider's bank account is already that account.",
    "POLICY_INVALID": "The council's stored policy (council_policies) is not valid, so nothing of the council's "
                      "can be decided; fix it with `policy`, then send the command again under a new id.",
}

ALLOCATION_REJECTION_EXAMPLES: dict[str, str] = {
    "DUPLICATE_CONFLICT": "`c-17` agreed PB-1 at £52,000; a later `c-17` says £53,000.",
    "UNKNOWN_BUDGET": "`RevisePersonalBudget` for PB-404, or for a budget that only has an indicative amount.",
    "BUDGET_ALREADY_AGREED": "A second `AgreePersonalBudget` for PB-1 under a new command id.",
    "PERSON_MISMATCH": "`RecordDeath` for PB-1 naming P-2 when PB-1 is P-1's.",
    "UNKNOWN_PROVIDER": "`CommissionServiceOrder` from PR-9 before `RegisterProvider` PR-9 was accepted.",
    "PROVIDER_ALREADY_REGISTERED": "`RegisterProvider` PR-1 twice.",
    "UNKNOWN_ORDER": "`VaryServiceOrder` SO-7 on PB-1 when SO-7 belongs to PB-2.",
    "ORDER_EXISTS": "`CommissionServiceOrder` SO-1 again, on any budget of the council.",
    "BUDGET_CLOSED": "`RevisePersonalBudget` after `RecordDeath`; `EndPersonalBudget` twice.",
    "DEATH_ALREADY_RECORDED": "A second `RecordDeath` for PB-1.",
    "ORDER_ENDED": "`VaryServiceOrder` SO-1 after `EndServiceOrder` SO-1.",
    "SPLIT_EXCEEDS_BUDGET": "PB £10,000 with ICB £6,000 and pooled £2,000, then `RevisePersonalBudget` to £7,999.99.",
    "ROUTES_EXCEED_BUDGET": "PB £10,000 with £6,000 as a direct payment, then £4,000.01 commissioned.",
    "INSUFFICIENT_BUDGET": "PB £500, then an order for 10 h a week at £20 for 4 weeks (£800), no `AuthoriseOverspend`.",
    "VARIANCE_REASON_REQUIRED": "Indicative £50,000, `AgreePersonalBudget` £52,000 without `variance_reason` "
                                "(tolerance 0 %).",
    "INDICATIVE_MISMATCH": "Calculated £50,000; `AgreePersonalBudget` says `indicative_pence` 4,900,000.",
    "ORDER_OUTSIDE_BUDGET": "Budget 1 Apr 2026 – 31 Mar 2027; an order ending 1 Apr 2027.",
    "DATE_OUT_OF_RANGE": "`EndServiceOrder` with an end date after the order's current end (vary it instead).",
    "CONTRIBUTION_MODE_NOT_ALLOWED": "`AssessContribution` mode `gross` where the council allows only `netted`.",
    "HOLDER_REQUIRED": "`AllocateDeliveryRoute` `isf` £12,000 without `holder_ref`.",
    "BANK_DETAILS_UNCHANGED": "`ChangeProviderBankDetails` PR-1 to the token it already has.",
    "POLICY_INVALID": "A policy row written by hand with `variance_tolerance_bp` 20000; any command of that "
                      "council until it is fixed.",
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
    "AMOUNT_OUT_OF_RANGE": "A line of the posting, or the balance it would leave, exceeds the journal's 64-bit amounts "
                           "(±9,223,372,036,854,775,807 pence).",
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

POSTING_REJECTION_EXAMPLES: dict[str, str] = {
    "AMOUNT_MISMATCH": "PAY-1 reserved £1,300; `PaymentSettled` PAY-1 says £1,299.",
    "BUDGET_ALREADY_AGREED": "`PersonalBudgetAgreed` PB-1 twice under two event ids.",
    "BUDGET_CLOSED": "A direct payment for PB-1 dated after its `PersonalBudgetEnded`; an order extended after it.",
    "DUPLICATE_CONFLICT": "`PaymentSettled` e-9 resent with £1 more.",
    "DUPLICATE_INVOICE": "`InvoiceApproved` INV-7 of PR-1 a second time, under a new event id.",
    "DUPLICATE_PAYMENT": "`PaymentInstructed` PAY-1 again under another event id.",
    "INSUFFICIENT_BUDGET": "An order committing £2,400 on a budget with £500 left and no authorised overspend.",
    "INVALID_AMOUNT": "`SurplusRecovered` £500 against a recovery raised for £300.",
    "AMOUNT_OUT_OF_RANGE": "`ContributionAssessed` of 2^62 pence a week: 52 weeks of it is more than a bigint holds.",
    "NO_POSTING_RULE": "`allocation.AgreePersonalBudget.v1` (a command) on allocation.events.v1.",
    "ORDER_EXISTS": "`ServiceOrderCommissioned` SO-1 twice.",
    "ORDER_OUTSIDE_BUDGET": "Budget to 31 Mar 2027; `ServiceOrderCommissioned` ending 1 Apr 2027.",
    "PAYMENT_AFTER_DEATH": "Death on 14 Sep; a direct payment due 14 Oct.",
    "PAYMENT_AFTER_END": "Budget ended 30 Sep; a direct payment due 7 Oct.",
    "PAYMENT_EXCEEDS_PAYABLE": "PR-1 is owed £800 of approved invoices; `PaymentInstructed` pays it £900.",
    "PAYMENT_NOT_PENDING": "`PaymentReturned` for PAY-1 after it was already returned.",
    "RECOVERY_EXISTS": "`SurplusRecoveryRaised` REC-1 twice.",
    "SCHEDULE_EXISTS": "`DirectPaymentScheduled` DPS-1 twice.",
    "SPLIT_EXCEEDS_BUDGET": "PB £10,000; `FundingSplitAgreed` ICB £9,000 with a £2,000 yearly contribution.",
    "UNKNOWN_BUDGET": "`PaymentInstructed` for PB-404, still unknown after the allocation stream caught up.",
    "UNKNOWN_ORDER": "An approved invoice line naming SO-9, which is not PR-1's order for that budget.",
    "UNKNOWN_PAYMENT": "`PaymentSettled` NEVER-INSTRUCTED.",
    "UNKNOWN_RECOVERY": "`SurplusRecovered` REC-404.",
    "UNKNOWN_SCHEDULE": "`DirectPaymentSuspended` DPS-404.",
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

INVOICE_HOLD_EXAMPLES: dict[str, str] = {
    "NO_ORDER": "A line for SO-9, which PR-1 does not deliver.",
    "OVER_PLAN": "SO-1 plans 14 h a week; a line bills 60 h for one week (tolerance 0 %).",
    "FUTURE_PERIOD": "An invoice dated 14 Apr billing 14–20 Apr.",
    "SUSPECTED_DUPLICATE": "PR-1 bills SO-1 for 7–13 Apr on two invoices with different numbers.",
    "RATE_MISMATCH": "SO-1 at £24.50 an hour; a line at £26.00.",
    "DISPUTED": "`DisputeInvoice` INV-7: visits on 9 April not delivered.",
}
