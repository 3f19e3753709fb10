"""The demo's bad input: malformed, invalid, duplicate and conflicting messages, and business mistakes.

Each item says what it is and what the system must do with it, so the demo can show that nothing was
dropped silently and nothing was applied twice.

- `bad_messages`: for a year whose allocation side is events (the ledger's own tests): bad records on
  allocation.events.v1, resends, conflicting settlements, and events the ledger must refuse.
- `bad_commands`: for a year whose allocation side is commands (the demo): malformed, invalid,
  foreign, resent and conflicting commands on allocation.commands.v1 and commands the allocation
  service must refuse with a reason code; bad invoice commands for the payments service
  (`bad_payments_commands`); and bad payment events for the ledger (undecodable ones, and events the
  ledger must refuse). `resent_payment_events` makes resends and conflicts for the ledger from what the
  payments service really published.
"""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import orjson

from .messages import Message, message

COMMANDS, EVENTS, PAYMENTS = "allocation.commands.v1", "allocation.events.v1", "payments.events.v1"
COMMANDS_PAYMENTS = "payments.commands.v1"

# What the allocation service must answer to each command of `_command_mistakes` (CommandRejected.reason_code).
COMMAND_MISTAKES = {
    "mistake-overspend": "INSUFFICIENT_BUDGET",
    "mistake-unknown-budget": "UNKNOWN_BUDGET",
    "mistake-outside-dates": "ORDER_OUTSIDE_BUDGET",
    "mistake-unknown-provider": "UNKNOWN_PROVIDER",
    "mistake-routes": "ROUTES_EXCEED_BUDGET",
    "mistake-no-holder": "HOLDER_REQUIRED",
    "mistake-split": "SPLIT_EXCEEDS_BUDGET",
    "mistake-agree-twice": "BUDGET_ALREADY_AGREED",
    "mistake-register-twice": "PROVIDER_ALREADY_REGISTERED",
    "mistake-after-death-change": "BUDGET_CLOSED",  # only when the year has a death
}


def _undecodable(topic: str, sample: dict, last, out: list[Message]) -> None:
    """Nine records no consumer can turn into a message; each must become a dead letter."""

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


def _conflicting_settlements(valid: list[Message], rng: random.Random, last, count: int = 5) -> list[Message]:
    """Settlements resent under their own id with one penny more: DUPLICATE_CONFLICT in the ledger."""
    out = []
    settlements = [m for m in valid if b"PaymentSettled" in m.value]
    for i, original in enumerate(rng.sample(settlements, count)):
        env = orjson.loads(original.value)
        env["data"]["amount_pence"] += 1
        out.append(replace(original, value=orjson.dumps(env), at=last + timedelta(seconds=200 + i)))
    return out


def bad_messages(valid: list[Message], council_id: str, seed: int = 7) -> list[Message]:
    """Bad input for a year whose allocation side is events (generate(allocation="events"))."""
    rng = random.Random(seed)
    last = valid[-1].at
    sample = orjson.loads(next(m.value for m in valid if b"PersonalBudgetAgreed" in m.value))
    out: list[Message] = []
    _undecodable(EVENTS, sample, last, out)
    for i, original in enumerate(rng.sample(valid, 20)):  # exact resends: same id, same content
        out.append(replace(original, at=last + timedelta(seconds=100 + i)))
    out += _conflicting_settlements(valid, rng, last)
    out += _business_mistakes(valid, council_id, last)
    return out


def _business_mistakes(valid: list[Message], council_id: str, last) -> list[Message]:
    """Well-formed events the ledger must refuse with a reason code."""
    agreed = [orjson.loads(m.value)["data"] for m in valid if b"PersonalBudgetAgreed" in m.value]
    a = agreed[0]
    when = last + timedelta(seconds=300)
    mistakes = _payment_mistakes(valid, council_id, when)
    after_death = 1 if mistakes[0].value.find(b"mistake-after-death") >= 0 else 0
    mistakes.insert(after_death, message(
        "allocation.ServiceOrderCommissioned.v1", "mistake-overspend", council_id, when,
        order_id="SO-TOO-BIG", budget_id=a["budget_id"], provider_id="PR-PRI-01", service_type="home_care",
        unit="hour", rate_pence=3_000, planned_units_per_week=168, payment_basis="invoice",
        start_date=a["start_date"], end_date=a["end_date"], effective_date=a["start_date"]))
    return mistakes


def _payment_mistakes(valid: list[Message], council_id: str, when) -> list[Message]:
    """Payment and invoice events the ledger must refuse: a payment after a death (when the year has
    one), an invoice approved twice, a settlement of a payment never instructed."""
    died = [_data(m) for m in valid if b"PersonDied" in m.value or b"RecordDeath" in m.value]
    first_start = next(_data(m)["start_date"] for m in valid if b"PersonalBudget" in m.value)
    approved = next(_data(m) for m in valid if b"InvoiceApproved" in m.value)
    mistakes = []
    if died:
        d = died[0]
        mistakes.append(message("payments.PaymentInstructed.v1", "mistake-after-death", council_id, when,
                                payment_id="DP-AFTER-DEATH", run_id="RUN-X", kind="direct_payment",
                                budget_id=d["budget_id"], amount_pence=10_000,
                                due_date=_plus_days(d["effective_date"], 30), effective_date=d["effective_date"]))
    mistakes.append(message("invoices.InvoiceApproved.v1", "mistake-invoice-twice", council_id, when, **approved))
    mistakes.append(message("payments.PaymentSettled.v1", "mistake-unknown-payment", council_id, when,
                            payment_id="NEVER-INSTRUCTED", amount_pence=1_000, bank_ref="BACS-?",
                            effective_date=first_start))
    return mistakes


def bad_commands(valid: list[Message], council_id: str, seed: int = 7) -> list[Message]:
    """Bad input for a year whose allocation side is commands (generate(allocation="commands"))."""
    rng = random.Random(seed)
    last = valid[-1].at
    commands = [m for m in valid if m.topic == COMMANDS]
    payments = [m for m in valid if m.topic == PAYMENTS]
    agree = [m for m in commands if b"AgreePersonalBudget" in m.value]
    out: list[Message] = []
    _undecodable(COMMANDS, orjson.loads(agree[0].value), last, out)
    # Well-formed, but not an allocation command: an event and a payments event sent to the commands topic.
    for n, original in enumerate((payments[0], next(m for m in payments if b"PaymentSettled" in m.value))):
        out.append(replace(original, topic=COMMANDS, at=last + timedelta(seconds=20 + n)))
    # Bad records for the ledger too: two undecodable payment events.
    out.append(Message(PAYMENTS, b"bad", b"{not json", last + timedelta(seconds=30)))
    env = orjson.loads(payments[0].value)
    env["id"], env["data"] = "bad-payment", dict(env["data"], amount_pence=-1)
    out.append(Message(PAYMENTS, b"bad", orjson.dumps(env), last + timedelta(seconds=31)))
    # Exact resends (same id, same content): 20 commands. (Resent payment events come from the payments
    # service's own events: `resent_payment_events`.)
    for i, original in enumerate(rng.sample(commands, 20)):
        out.append(replace(original, at=last + timedelta(seconds=100 + i)))
    # The same command id with changed content: DUPLICATE_CONFLICT, the first outcome stands.
    for i, original in enumerate(rng.sample(agree, 5)):
        env = orjson.loads(original.value)
        env["data"]["amount_pence"] += 100
        out.append(replace(original, value=orjson.dumps(env), at=last + timedelta(seconds=150 + i)))
    when = last + timedelta(seconds=300)
    out += _command_mistakes(valid, council_id, when)
    out += _payment_mistakes(valid, council_id, when)
    out += bad_payments_commands(valid, council_id, when)
    return out


# What the payments service must answer to each command of `bad_payments_commands` (its outcome in
# processed_messages, or the invoice's hold reason); the undecodable ones are dead letters instead.
PAYMENTS_MISTAKES = {
    "mistake-invoice-number-again": "DUPLICATE_INVOICE_NUMBER",
    "mistake-invoice-changed": "DUPLICATE_CONFLICT",
    "mistake-invoice-after-end": "FUTURE_PERIOD",  # held: the order ended with the budget (death or end)
}
PAYMENTS_DEAD_LETTERS = {"MALFORMED_JSON": 1, "INVALID_PAYLOAD": 1}


def bad_payments_commands(valid: list[Message], council_id: str, when) -> list[Message]:
    """Bad input for the payments service (payments.commands.v1), sent after the year's cycles: a
    malformed invoice command, one with an invalid payload (negative units), a provider's invoice number
    used again, an exact resend (nothing new), the same command id with changed content, and an invoice
    for a period after the budget closed (a death, or an end)."""
    received = [m for m in valid if b"invoices.InvoiceReceived" in m.value]
    first = _data(received[0])
    receive = {k: first[k] for k in ("invoice_id", "provider_id", "invoice_number", "invoice_date", "lines",
                                     "effective_date")}
    out = [Message(COMMANDS_PAYMENTS, b"bad", b'{"specversion": "1.0", "type": "invoices.ReceiveInvoice.v1", "data": {',
                   when)]
    env = orjson.loads(message("invoices.ReceiveInvoice.v1", "mistake-invoice-units", council_id, when,
                               **receive).value)
    env["data"]["lines"][0]["units"] = -3
    out.append(Message(COMMANDS_PAYMENTS, b"bad", orjson.dumps(env), when))
    out.append(message("invoices.ReceiveInvoice.v1", "mistake-invoice-number-again", council_id, when,
                       **{**receive, "invoice_id": "INV-NUMBER-AGAIN"}))
    # The demo sends each invoice as `recv-<invoice id>` (demo_payments_year): a resend, then a change.
    out.append(message("invoices.ReceiveInvoice.v1", f"recv-{first['invoice_id']}", council_id, when, **receive))
    changed = dict(receive, lines=[dict(ln, units=ln["units"] + 1) for ln in receive["lines"]])
    out.append(message("invoices.ReceiveInvoice.v1", f"recv-{first['invoice_id']}", council_id, when, **changed))
    closed = {d["budget_id"]: d.get("date_of_death") or d["end_date"] for d in
              (_data(m) for m in valid if b"RecordDeath" in m.value or b"EndPersonalBudget" in m.value)}
    order = next(d for d in (_data(m) for m in valid if b"CommissionServiceOrder" in m.value) if d["budget_id"] in closed)
    gone = date.fromisoformat(str(closed[order["budget_id"]]))
    start = gone + timedelta(days=1)
    out.append(message("invoices.ReceiveInvoice.v1", "mistake-invoice-after-end", council_id, when,
                       invoice_id="INV-AFTER-END", provider_id=order["provider_id"], invoice_number="AFTER-END-1",
                       invoice_date=start + timedelta(days=10), effective_date=start + timedelta(days=10),
                       lines=[{"line_no": 1, "order_id": order["order_id"], "budget_id": order["budget_id"],
                               "period_start": start, "period_end": start + timedelta(days=6), "units": 1,
                               "rate_pence": order["rate_pence"]}]))
    return out


def resent_payment_events(service_events: list[tuple[bytes, bytes]], seed: int = 7) -> list[tuple[bytes, bytes]]:
    """Bad input for the ledger from what the payments service published on payments.events.v1: ten
    exact resends (nothing new) and five settlements resent under their own id with a penny more
    (DUPLICATE_CONFLICT). Same keys, so each lands after its original on the same partition."""
    rng = random.Random(seed)
    out = list(rng.sample(service_events, min(10, len(service_events))))
    settled = [(k, v) for k, v in service_events if b"payments.PaymentSettled" in v]
    for key, value in rng.sample(settled, min(5, len(settled))):
        env = orjson.loads(value)
        env["data"]["amount_pence"] += 1
        out.append((key, orjson.dumps(env)))
    return out


def _command_mistakes(valid: list[Message], council_id: str, when) -> list[Message]:
    """Well-formed commands the allocation service must refuse, each with its own reason code."""
    died = [_data(m) for m in valid if b"RecordDeath" in m.value]
    closed = {d["budget_id"] for d in died} | {_data(m)["budget_id"] for m in valid if b"EndPersonalBudget" in m.value}
    a, b = [d for d in (_data(m) for m in valid if b"AgreePersonalBudget" in m.value) if d["budget_id"] not in closed][:2]
    start, end = date.fromisoformat(a["start_date"]), date.fromisoformat(a["end_date"])

    def cmd(command_id: str, short: str, **fields) -> Message:
        fields.setdefault("effective_date", start)
        return message(f"allocation.{short}.v1", command_id, council_id, when, **fields)

    order = dict(budget_id=a["budget_id"], provider_id="PR-PRI-01", service_type="home_care", unit="hour",
                 rate_pence=3_000, payment_basis="invoice", start_date=start)
    out = [
        cmd("mistake-overspend", "CommissionServiceOrder", order_id="SO-TOO-BIG", planned_units_per_week=168,
            end_date=end, **order),
        cmd("mistake-unknown-budget", "RevisePersonalBudget", budget_id="PB-NEVER-AGREED", amount_pence=100_000,
            reason="typo in the budget id"),
        cmd("mistake-outside-dates", "CommissionServiceOrder", order_id="SO-TOO-LONG", planned_units_per_week=1,
            end_date=end + timedelta(days=1), **order),
        cmd("mistake-unknown-provider", "CommissionServiceOrder", order_id="SO-NOBODY", planned_units_per_week=1,
            end_date=end, **{**order, "provider_id": "PR-NOT-REGISTERED"}),
        cmd("mistake-routes", "AllocateDeliveryRoute", budget_id=b["budget_id"], route="managed_account",
            amount_pence=b["amount_pence"], holder_ref="MA-0001"),  # on top of the route it has: twice the PB
        cmd("mistake-no-holder", "AllocateDeliveryRoute", budget_id=b["budget_id"], route="isf", amount_pence=1,
            holder_ref=None),
        cmd("mistake-split", "AgreeFundingSplit", budget_id=b["budget_id"], icb_pence=2 * b["amount_pence"],
            pooled_pence=0, agreement_ref="s75-typo"),
        cmd("mistake-agree-twice", "AgreePersonalBudget", **{**a, "amount_pence": a["amount_pence"] + 1}),
        cmd("mistake-register-twice", "RegisterProvider", provider_id="PR-PRI-01", name="Private care 1 again",
            provider_type="private"),
    ]
    if died:
        d = died[0]
        out.append(cmd("mistake-after-death-change", "RevisePersonalBudget", budget_id=d["budget_id"],
                       amount_pence=1_000_000, reason="review after the death", effective_date=d["date_of_death"]))
    return out


def _data(m: Message) -> dict:
    return orjson.loads(m.value)["data"]


def _plus_days(iso_day: str, days: int) -> str:
    return (date.fromisoformat(iso_day) + timedelta(days=days)).isoformat()
