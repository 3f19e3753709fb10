"""The demo's bad input: malformed, invalid, duplicate and conflicting messages, and business mistakes.

Each item says what it is and what the system must do with it, so the demo can show that nothing was
dropped silently and nothing was applied twice.
"""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import orjson

from .messages import Message, message


def bad_messages(valid: list[Message], council_id: str, seed: int = 7) -> list[Message]:
    rng = random.Random(seed)
    last = valid[-1].at
    topic = "allocation.events.v1"
    sample = orjson.loads(next(m.value for m in valid if b"PersonalBudgetAgreed" in m.value))
    out: list[Message] = []

    def raw(value: bytes, n: int) -> None:
        out.append(Message(topic, b"bad", value, last + timedelta(seconds=n)))

    def mutated(n: int, **changes) -> None:
        env = dict(sample, id=f"bad-{n}")
        for path, value in changes.items():
            if path.startswith("data."):
                env["data"] = dict(env["data"], **{path[5:]: value})
            elif value is None:
                env.pop(path)
            else:
                env[path] = value
        raw(orjson.dumps(env), n)

    raw(b'{"specversion": "1.0", "id": ', 1)  # MALFORMED_JSON: truncated
    raw(b"\xff\xfe not json at all", 2)  # MALFORMED_JSON: garbage bytes
    raw(b"[1, 2, 3]", 3)  # MALFORMED_JSON: JSON, but not an object, so not a message
    mutated(4, councilid=None)  # INVALID_ENVELOPE: missing extension
    mutated(5, type="allocation.BudgetTeleported.v1")  # UNKNOWN_TYPE
    mutated(6, **{"data.amount_pence": "lots"})  # INVALID_PAYLOAD: wrong type
    mutated(7, **{"data.amount_pence": -500})  # INVALID_PAYLOAD: negative money
    mutated(8, **{"data.end_date": "2026-01-01"})  # INVALID_PAYLOAD: ends before it starts
    mutated(9, **{"data.amount_pence": 12.5})  # INVALID_PAYLOAD: fractional pence

    for i, original in enumerate(rng.sample(valid, 20)):  # exact resends: same id, same content
        out.append(replace(original, at=last + timedelta(seconds=100 + i)))
    settlements = [m for m in valid if b"PaymentSettled" in m.value]
    for i, original in enumerate(rng.sample(settlements, 5)):  # same id, changed content: conflicts
        env = orjson.loads(original.value)
        env["data"]["amount_pence"] += 1
        out.append(replace(original, value=orjson.dumps(env), at=last + timedelta(seconds=200 + i)))

    out += _business_mistakes(valid, council_id, last)
    return out


def _business_mistakes(valid: list[Message], council_id: str, last) -> list[Message]:
    """Well-formed messages the ledger must refuse with a reason code."""
    died = [orjson.loads(m.value)["data"] for m in valid if b"PersonDied" in m.value]
    agreed = [orjson.loads(m.value)["data"] for m in valid if b"PersonalBudgetAgreed" in m.value]
    approved = next(orjson.loads(m.value)["data"] for m in valid if b"InvoiceApproved" in m.value)
    when = last + timedelta(seconds=300)
    mistakes = []
    if died:
        d = died[0]
        due = (d["effective_date"])
        mistakes.append(message("payments.PaymentInstructed.v1", "mistake-after-death", council_id, when,
                                payment_id="DP-AFTER-DEATH", run_id="RUN-X", kind="direct_payment",
                                budget_id=d["budget_id"], amount_pence=10_000,
                                due_date=_plus_days(due, 30), effective_date=due))
    a = agreed[0]
    mistakes.append(message("allocation.ServiceOrderCommissioned.v1", "mistake-overspend", council_id, when,
                            order_id="SO-TOO-BIG", budget_id=a["budget_id"], provider_id="PR-PRI-01",
                            service_type="home_care", unit="hour", rate_pence=3_000, planned_units_per_week=168,
                            payment_basis="invoice", start_date=a["start_date"], end_date=a["end_date"],
                            effective_date=a["start_date"]))
    mistakes.append(message("invoices.InvoiceApproved.v1", "mistake-invoice-twice", council_id, when, **approved))
    mistakes.append(message("payments.PaymentSettled.v1", "mistake-unknown-payment", council_id, when,
                            payment_id="NEVER-INSTRUCTED", amount_pence=1_000, bank_ref="BACS-?",
                            effective_date=a["start_date"]))
    return mistakes


def _plus_days(iso_day: str, days: int) -> str:
    from datetime import date
    return (date.fromisoformat(iso_day) + timedelta(days=days)).isoformat()
