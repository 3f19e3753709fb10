"""One valid, deterministic example payload and envelope per type: used by the docs, the AsyncAPI
document and the tests, and handy as fixtures. Values come from a table by field name, with a few
overrides per type; every example is validated by its model when built."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from .registry import MODELS, kind, make_envelope
from .topics import message_key

COUNCIL_ID = "E08000025"
_NAMESPACE = uuid.UUID("6f1d2c1e-5a53-4c4e-9a55-6b0c2a6f0c11")
_TIME = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)

_LINE = {"line_no": 1, "order_id": "SO-0001", "budget_id": "PB-0001", "period_start": "2025-04-07",
         "period_end": "2025-04-13", "units": 14, "rate_pence": 2450}

SAMPLE: dict[str, Any] = {
    "budget_id": "PB-0001", "person_ref": "P-83921", "provider_id": "PRV-0042", "order_id": "SO-0001",
    "schedule_id": "DPS-0001", "payment_id": "PAY-0001", "run_id": "RUN-2025-04-07", "invoice_id": "INV-0001",
    "recovery_id": "REC-0001", "credit_note_id": "CN-0001", "overpayment_id": "OVP-0001", "entry_id": "E-000001",
    "command_id": "0b6e0e1c-6a52-4f0b-8d4e-2d1f5d1c9a10", "cause_event_id": "7a1c4b7e-2f6c-4e1a-9d5b-0c3e1f2a4b5c",
    "amount_pence": 1_820_000, "indicative_pence": 1_750_000, "icb_pence": 400_000, "pooled_pence": 0,
    "weekly_pence": 2_500, "rate_pence": 2_450, "limit_pence": 50_000, "total_pence": 8_400_000,
    "planned_units_per_week": 14, "frequency_weeks": 4, "payment_count": 120, "weeks_in_credit": 11, "units": 14,
    "variance_reason": "Night-time support not captured by the RAS questionnaire.",
    "ras_version": "RAS-2025.1", "reason": "Annual review", "detail": "", "name": "Meadowbank Home Care Ltd",
    "provider_type": "private", "route": "direct_payment", "mode": "netted", "contribution_mode": "netted",
    "unit": "hour", "payment_basis": "invoice", "service_type": "home_care", "holder_ref": "NOM-0007",
    "account_ref": "vault-tok-9f2c1a", "verified_by": "j.okafor@council.example", "authoriser": "head.of.asc",
    "created_by": "a.patel@council.example", "approved_by": "r.jones@council.example",
    "agreement_ref": "S75-2025-03", "kind": "direct_payment", "file_format": "bacs18",
    "file_name": "RUN-2025-04-07.bacs18", "sha256": "9c" * 32, "bank_ref": "BACS-7781234", "method": "offset",
    "invoice_number": "MHC-2025-0417", "reason_code": "NO_ORDER", "command_type": "allocation.AgreePersonalBudget.v1",
    "start_date": "2025-04-01", "end_date": "2026-03-31", "effective_date": "2025-04-01",
    "first_due_date": "2025-04-07", "due_date": "2025-04-07", "due_on": "2025-04-07", "invoice_date": "2025-04-14",
    "date_of_death": "2025-09-14", "lines": [_LINE],
    "shard": "ledger-3", "shard_seq": 1042, "recorded_at": "2025-04-01T09:30:02.125000Z",
    "cause_type": "allocation.PersonalBudgetAgreed.v1", "rule_version": "2025.1", "prev_hash": "3f" * 32,
    "hash": "a7" * 32, "balance_pence": 1_190_000, "liabilities_pence": 40_000,
}

_OVERRIDES: dict[str, dict[str, Any]] = {
    "allocation.CommandRejected.v1": {"reason_code": "UNKNOWN_BUDGET",
                                      "command_type": "allocation.RevisePersonalBudget.v1",
                                      "detail": "no personal budget PB-0001 in this council"},
    "payments.CommandRejected.v1": {"reason_code": "CREATOR_CANNOT_APPROVE",
                                    "command_type": "payments.ApprovePaymentRun.v1",
                                    "detail": "the creator of a payment run cannot approve it"},
    "allocation.ServiceOrderVaried.v1": {"rate_pence": 2_600, "effective_date": "2025-07-01"},
    "allocation.VaryServiceOrder.v1": {"rate_pence": 2_600, "effective_date": "2025-07-01"},
    "allocation.ServiceOrderEnded.v1": {"end_date": "2025-12-31", "reason": "Moved to residential care"},
    "allocation.EndServiceOrder.v1": {"end_date": "2025-12-31", "reason": "Moved to residential care"},
    "allocation.PersonalBudgetEnded.v1": {"end_date": "2025-09-14", "reason": "Person died"},
    "allocation.EndPersonalBudget.v1": {"end_date": "2025-09-14", "reason": "Person died"},
    "allocation.PersonDied.v1": {"effective_date": "2025-09-14"},
    "allocation.RecordDeath.v1": {"effective_date": "2025-09-14"},
    "allocation.DeliveryRouteAllocated.v1": {"amount_pence": 1_200_000},
    "allocation.AllocateDeliveryRoute.v1": {"amount_pence": 1_200_000},
    "allocation.OverspendAuthorised.v1": {"reason": "Hospital discharge: temporary double-handed care"},
    "allocation.AuthoriseOverspend.v1": {"reason": "Hospital discharge: temporary double-handed care"},
    "payments.DirectPaymentScheduled.v1": {"amount_pence": 130_000},
    "payments.ScheduleDirectPayment.v1": {"amount_pence": 130_000},
    "payments.DirectPaymentSuspended.v1": {"reason": "Account under review"},
    "payments.SuspendDirectPayment.v1": {"reason": "Account under review"},
    "payments.DirectPaymentResumed.v1": {"reason": "Review complete"},
    "payments.ResumeDirectPayment.v1": {"reason": "Review complete"},
    "payments.PaymentInstructed.v1": {"amount_pence": 130_000, "provider_id": None, "invoice_id": None},
    "payments.PaymentSettled.v1": {"amount_pence": 130_000, "provider_id": None, "effective_date": "2025-04-07"},
    "payments.RecordSettlement.v1": {"amount_pence": 130_000, "effective_date": "2025-04-07"},
    "payments.PaymentReturned.v1": {"amount_pence": 130_000, "reason": "Account closed (ARUDD 2)", "provider_id": None,
                                    "effective_date": "2025-04-10"},
    "payments.RecordReturn.v1": {"amount_pence": 130_000, "reason": "Account closed (ARUDD 2)",
                                 "effective_date": "2025-04-10"},
    "payments.OneOffPaymentMade.v1": {"amount_pence": 45_000, "reason": "Hoist and ceiling track"},
    "payments.MakeOneOffPayment.v1": {"amount_pence": 45_000, "reason": "Hoist and ceiling track"},
    "payments.SurplusRecoveryRaised.v1": {"amount_pence": 390_000},
    "payments.RaiseSurplusRecovery.v1": {"amount_pence": 390_000},
    "payments.SurplusRecovered.v1": {"amount_pence": 390_000},
    "invoices.InvoiceRejected.v1": {"reason_code": "NOT_OUR_CLIENT", "detail": "Person not known to this council"},
    "invoices.RejectInvoice.v1": {"reason_code": "NOT_OUR_CLIENT", "detail": "Person not known to this council"},
    "invoices.DisputeInvoice.v1": {"reason": "Visits on 9 April not delivered"},
    "invoices.OverpaymentIdentified.v1": {"amount_pence": 4_900, "reason": "Paid twice for 2 hours on 8 April"},
    "invoices.RecordOverpayment.v1": {"amount_pence": 4_900, "reason": "Paid twice for 2 hours on 8 April"},
    "invoices.CreditNoteReceived.v1": {"lines": [{**_LINE, "units": 2}]},
    "invoices.ReceiveCreditNote.v1": {"lines": [{**_LINE, "units": 2}]},
    "ledger.EntryPosted.v1": {"lines": [
        {"account": "E08000025/funding/PB-0001/council", "debit_pence": 1_420_000, "credit_pence": 0},
        {"account": "E08000025/funding/PB-0001/icb", "debit_pence": 400_000, "credit_pence": 0},
        {"account": "E08000025/budget/PB-0001", "debit_pence": 0, "credit_pence": 1_820_000},
    ]},
    "ledger.PostingRejected.v1": {"reason_code": "INSUFFICIENT_BUDGET", "cause_type": "payments.PaymentInstructed.v1",
                                  "detail": "needs 130000, 85000 available, no authorised overspend"},
}


def example_payload(type_name: str) -> dict[str, Any]:
    """A valid payload of the type, as JSON-ready data (validated by the model)."""
    model = MODELS[type_name]
    data = {name: SAMPLE[name] for name, field in model.model_fields.items()
            if field.is_required() or name in SAMPLE}
    data.update(_OVERRIDES.get(type_name, {}))
    return model.model_validate(data).model_dump(mode="json")


def example_envelope(type_name: str) -> dict[str, Any]:
    """A valid envelope carrying the example payload, as JSON-ready data."""
    payload = MODELS[type_name].model_validate(example_payload(type_name))
    return make_envelope(
        payload,
        id=str(uuid.uuid5(_NAMESPACE, type_name)),
        source=f"urn:careledger:{type_name.split('.')[0]}",
        subject=message_key(payload),
        council_id=COUNCIL_ID,
        correlation_id=str(uuid.uuid5(_NAMESPACE, "conversation")),
        causation_id=None if kind(type_name) == "command" else str(uuid.uuid5(_NAMESPACE, "cause")),
        time=_TIME,
    ).model_dump(mode="json")
