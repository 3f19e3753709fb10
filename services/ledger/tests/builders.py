"""Test builders: real wire payload models wrapped as the ledger's domain events (no I/O, no mocks)."""
from __future__ import annotations

import hashlib
import itertools
from datetime import date

from careschemas.registry import payload_model

from ledger.domain.model import Event

COUNCIL = "C001"
_ids = itertools.count(1)


def event(name: str, *, event_id: str | None = None, council: str = COUNCIL,
          recorded_at: str = "2026-04-01T09:00:00+00:00", **fields) -> Event:
    """Build `<family>.<name>.v1` with a validated payload; effective_date defaults to 2026-04-01."""
    family = "allocation" if name in ALLOCATION else "invoices" if name in INVOICES else "payments"
    type_name = f"{family}.{name}.v1"
    fields.setdefault("effective_date", date(2026, 4, 1))
    payload = payload_model(type_name).model_validate(fields)
    content = payload.model_dump_json()
    digest = hashlib.sha256(f"{type_name}|{content}".encode()).hexdigest()
    return Event(event_id or f"ev-{next(_ids)}", type_name, council, digest, recorded_at, payload)


ALLOCATION = {"PersonalBudgetAgreed", "PersonalBudgetRevised", "PersonalBudgetEnded", "FundingSplitAgreed",
              "ContributionAssessed", "ServiceOrderCommissioned", "ServiceOrderVaried", "ServiceOrderEnded",
              "PersonDied", "OverspendAuthorised", "ProviderRegistered", "IndicativeBudgetCalculated",
              "DeliveryRouteAllocated", "ProviderBankDetailsChanged", "CommandRejected", "AgreePersonalBudget"}
INVOICES = {"InvoiceApproved", "CreditNoteReceived", "OverpaymentIdentified", "InvoiceReceived", "InvoiceHeld"}


def agreed(budget_id: str = "PB-1", amount: int = 52_000_00, **kw) -> Event:
    kw.setdefault("start_date", date(2026, 4, 1))
    kw.setdefault("end_date", date(2027, 3, 31))
    return event("PersonalBudgetAgreed", budget_id=budget_id, person_ref=f"P-{budget_id}", amount_pence=amount, **kw)


def order(order_id: str = "SO-1", budget_id: str = "PB-1", rate: int = 2000, units: int = 10, **kw) -> Event:
    kw.setdefault("start_date", date(2026, 4, 1))
    kw.setdefault("end_date", date(2026, 4, 28))  # 28 days = 4 weeks
    return event("ServiceOrderCommissioned", order_id=order_id, budget_id=budget_id, provider_id="PR-1",
                 service_type="home_care", unit="hour", rate_pence=rate, planned_units_per_week=units,
                 payment_basis="invoice", **kw)


def instructed(payment_id: str = "PAY-1", budget_id: str | None = "PB-1", amount: int = 1000_00,
               kind: str = "direct_payment", due: date = date(2026, 4, 1), **kw) -> Event:
    return event("PaymentInstructed", payment_id=payment_id, run_id="RUN-1", kind=kind, budget_id=budget_id,
                 amount_pence=amount, due_date=due, **kw)


def settled(payment_id: str = "PAY-1", amount: int = 1000_00) -> Event:
    return event("PaymentSettled", payment_id=payment_id, amount_pence=amount, bank_ref="BANK-1")


def returned(payment_id: str = "PAY-1", amount: int = 1000_00) -> Event:
    return event("PaymentReturned", payment_id=payment_id, amount_pence=amount, reason="account closed")


def invoice_line(budget_id: str = "PB-1", order_id: str = "SO-1", units: int = 10, rate: int = 2000, no: int = 1) -> dict:
    return {"line_no": no, "order_id": order_id, "budget_id": budget_id, "period_start": date(2026, 4, 1),
            "period_end": date(2026, 4, 7), "units": units, "rate_pence": rate}
