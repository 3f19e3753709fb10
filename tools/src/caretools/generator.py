"""A seeded synthetic year of one council's personal budgets, as the messages the services consume.

About 2,000 people, providers of every type, budgets with funding splits and contributions, delivery
routes, service orders (a few varied or ended, some budgets revised, ended or authorised to overspend),
four-weekly direct payments (some returned), monthly provider invoices and their payments, a few deaths.
Deterministic for a seed: the same seed gives byte-identical messages.

The allocation side of the year comes in one of two forms, from the same plan:
- `allocation="commands"`: what a council's case system sends to allocation.commands.v1 (the demo:
  the allocation service decides them and emits the events);
- `allocation="events"` (default): the events those commands lead to, as if the allocation service had
  already run (the ledger's own tests and benchmark, which feed the ledger directly).
Payments and invoice facts are events in both forms (published directly until the payments service
drives them from its own commands).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from careschemas.registry import payload_model

from .messages import Message, at_noon, message

YEAR_START, YEAR_END = date(2026, 4, 1), date(2027, 3, 31)
PROVIDER_MIX = {"in_house": 6, "private": 24, "charity": 12, "social_enterprise": 6, "mutual": 5,
                "other_council": 2, "nhs": 2}
HOURLY_RATES = {"in_house": 2600, "private": 2300, "charity": 2200, "social_enterprise": 2250, "mutual": 2350,
                "other_council": 2500, "nhs": 2800}
ALLOCATION_FORMS = ("events", "commands")


@dataclass
class Order:
    """What the invoices of one service order need: its terms, and when they change or stop."""

    order_id: str
    budget_id: str
    rate: int
    units: int
    start: date
    end: date = YEAR_END
    varied_from: date | None = None  # from this day, planned units drop by one
    gone_after: date | None = None  # no deliveries after this day (order ended, budget ended, death)

    def units_in(self, period_start: date) -> int:
        return self.units - 1 if self.varied_from is not None and period_start >= self.varied_from else self.units


@dataclass
class Plan:
    council_id: str
    allocation: str = "events"
    messages: list[Message] = field(default_factory=list)
    seq: int = 0

    def add(self, type_name: str, day: date, **fields) -> str:
        self.seq += 1
        message_id = f"{self.council_id}-{self.seq:07d}"
        self.messages.append(message(type_name, message_id, self.council_id, at_noon(day, self.seq), **fields))
        return message_id

    def decide(self, command: str, day: date, **fields) -> str:
        """An allocation decision: the command itself, or the event it leads to when accepted."""
        type_name = f"allocation.{command}.v1"
        if self.allocation == "events":
            type_name = payload_model(type_name).LEADS_TO
        return self.add(type_name, day, **fields)


def generate(people: int = 2000, seed: int = 2026, council_id: str = "E10000099",
             allocation: str = "events") -> list[Message]:
    """All valid messages of the year, ordered by recorded time."""
    if allocation not in ALLOCATION_FORMS:
        raise ValueError(f"allocation must be one of {ALLOCATION_FORMS}")
    rng = random.Random(seed)
    # Budget and order changes draw from their own stream, so the rest of the year (who dies, who gets
    # direct payments, ...) is the same as before they were added.
    changes = random.Random(f"changes-{seed}")
    plan = Plan(council_id, allocation)
    providers = _providers(plan, rng)
    orders_by_provider: dict[str, list[Order]] = {p: [] for p, _ in providers}
    for n in range(1, people + 1):
        _person(plan, rng, changes, n, providers, orders_by_provider)
    _invoices(plan, rng, orders_by_provider)
    plan.messages.sort(key=lambda m: m.at)
    return plan.messages


def _providers(plan: Plan, rng: random.Random) -> list[tuple[str, str]]:
    providers = []
    for kind, count in PROVIDER_MIX.items():
        for i in range(1, count + 1):
            provider_id = f"PR-{kind[:3].upper()}-{i:02d}"
            plan.decide("RegisterProvider", YEAR_START - timedelta(days=7), provider_id=provider_id,
                        name=f"{kind.replace('_', ' ').title()} care {i}", provider_type=kind,
                        effective_date=YEAR_START - timedelta(days=7))
            plan.decide("ChangeProviderBankDetails", YEAR_START - timedelta(days=6), provider_id=provider_id,
                        account_ref=f"tok-{rng.randrange(10**9):09d}", verified_by="finance.officer.2",
                        effective_date=YEAR_START - timedelta(days=6))
            providers.append((provider_id, kind))
    return providers


def _person(plan: Plan, rng: random.Random, changes: random.Random, n: int, providers, orders_by_provider) -> None:
    budget_id, person_ref = f"PB-{n:05d}", f"P-{rng.randrange(16**10):010x}"
    start = YEAR_START + timedelta(days=rng.choice([0, 0, 0, 7, 14, 28, 56, 91]))
    weekly = rng.randrange(150_00, 900_00, 100)
    amount = weekly * 52
    indicative = amount + rng.choice([0, 0, 0, -2_000_00, 3_000_00])
    plan.decide("CalculateIndicativeBudget", start, budget_id=budget_id, person_ref=person_ref,
                amount_pence=indicative, ras_version="RAS-2026.1", effective_date=start)
    plan.decide("AgreePersonalBudget", start, budget_id=budget_id, person_ref=person_ref,
                amount_pence=amount, indicative_pence=indicative,
                variance_reason=None if indicative == amount else "support plan review", start_date=start,
                end_date=YEAR_END, effective_date=start)
    if rng.random() < 0.15:
        plan.decide("AgreeFundingSplit", start, budget_id=budget_id, icb_pence=amount * rng.choice([30, 40, 50]) // 100,
                    pooled_pence=amount // 20 if rng.random() < 0.3 else 0, agreement_ref="s75-2026-01",
                    effective_date=start)
    contribution = rng.choice([0, 0, 1500, 2500, 4000, 6500])
    mode = "netted" if rng.random() < 0.7 else "gross"
    plan.decide("AssessContribution", start, budget_id=budget_id, weekly_pence=contribution, mode=mode,
                effective_date=start)
    died_on = start + timedelta(days=rng.randrange(60, 300)) if rng.random() < 0.01 else None
    if rng.random() < 0.4:
        _direct_payments(plan, rng, budget_id, start, weekly, contribution, mode, died_on)
        orders: list[Order] = []
    else:
        orders = _commission(plan, rng, budget_id, start, weekly, providers, orders_by_provider)
    _changes(plan, changes, budget_id, start, amount, orders, died_on)
    if died_on:
        plan.decide("RecordDeath", died_on, budget_id=budget_id, person_ref=person_ref,
                    date_of_death=died_on, effective_date=died_on)
        for order in orders:  # the service ends them on the date of death; nothing is delivered after it
            order.gone_after = min(order.gone_after or died_on, died_on)


def _changes(plan: Plan, rng: random.Random, budget_id: str, start: date, amount: int, orders: list[Order],
             died_on: date | None) -> None:
    """Mid-year decisions that only ever fit: a revision upwards, an overspend authorisation, an order
    varied down by an hour a week or ended early, a commissioned budget ended early."""
    mid = max(start, YEAR_START + timedelta(days=rng.randrange(100, 250)))
    if died_on is not None and died_on <= mid:
        return  # nothing but closing commands after a death
    roll = rng.random()
    if roll < 0.05:
        plan.decide("RevisePersonalBudget", mid, budget_id=budget_id, amount_pence=amount + amount // 50,
                    reason="annual review: more support at night", effective_date=mid)
    elif roll < 0.07:
        plan.decide("AuthoriseOverspend", mid, budget_id=budget_id, authoriser="head.of.asc",
                    limit_pence=amount // 10, reason="hospital discharge: temporary double-handed care",
                    effective_date=mid)
    elif roll < 0.13 and orders:
        order = orders[0]
        if order.units > 1:
            order.varied_from = mid
            plan.decide("VaryServiceOrder", mid, order_id=order.order_id, budget_id=budget_id, rate_pence=order.rate,
                        planned_units_per_week=order.units - 1, end_date=order.end, effective_date=mid)
    elif roll < 0.15 and orders:
        order = orders[-1]
        order.end = order.gone_after = mid
        plan.decide("EndServiceOrder", mid, order_id=order.order_id, budget_id=budget_id, end_date=mid,
                    reason="person now supported by family", effective_date=mid)
    elif roll < 0.16 and orders and died_on is None:
        # Ending a budget hands back what is uncommitted; only commissioned budgets end here, so no
        # direct-payment schedule (published later by the demo) is left without money.
        plan.decide("EndPersonalBudget", mid, budget_id=budget_id, end_date=mid, reason="moved out of the area",
                    effective_date=mid)
        for order in orders:
            order.gone_after = min(order.gone_after or mid, mid)


def _direct_payments(plan: Plan, rng: random.Random, budget_id: str, start: date, weekly: int,
                     contribution: int, mode: str, died_on: date | None) -> None:
    period = 4 * (weekly - (contribution if mode == "netted" else 0))
    plan.decide("AllocateDeliveryRoute", start, budget_id=budget_id, route="direct_payment",
                amount_pence=weekly * 52, holder_ref=None, effective_date=start)
    schedule_id = f"DPS-{budget_id}"
    plan.add("payments.DirectPaymentScheduled.v1", start, schedule_id=schedule_id, budget_id=budget_id,
             amount_pence=period, frequency_weeks=4, first_due_date=start, end_date=YEAR_END,
             contribution_mode=mode, effective_date=start)
    due, k = start, 0
    while due + timedelta(days=27) <= YEAR_END and (died_on is None or due <= died_on):
        k += 1
        payment_id = f"DP-{budget_id}-{k:02d}"
        instructed_on = max(start, due - timedelta(days=3))  # never before the schedule exists
        plan.add("payments.PaymentInstructed.v1", instructed_on, payment_id=payment_id, run_id=f"RUN-DP-{due:%Y%m%d}",
                 kind="direct_payment", budget_id=budget_id, amount_pence=period, due_date=due,
                 effective_date=instructed_on)
        outcome = "payments.PaymentReturned.v1" if rng.random() < 0.01 else "payments.PaymentSettled.v1"
        extra = {"reason": "account closed"} if outcome.endswith("Returned.v1") else {"bank_ref": f"BACS-{payment_id}"}
        plan.add(outcome, due, payment_id=payment_id, amount_pence=period, budget_id=budget_id, effective_date=due, **extra)
        due += timedelta(weeks=4)


def _commission(plan: Plan, rng: random.Random, budget_id: str, start: date, weekly: int, providers,
                orders_by_provider) -> list[Order]:
    route = "isf" if rng.random() < 0.1 else "commissioned"
    plan.decide("AllocateDeliveryRoute", start, budget_id=budget_id, route=route, amount_pence=weekly * 52,
                holder_ref=f"ISF-{budget_id}" if route == "isf" else None, effective_date=start)
    chosen = rng.sample(providers, rng.choice([1, 1, 2]))
    share = weekly * 85 // 100 // len(chosen)
    orders = []
    for i, (provider_id, kind) in enumerate(chosen, 1):
        rate = HOURLY_RATES[kind] + rng.choice([-100, 0, 0, 150])
        order = Order(f"SO-{budget_id}-{i}", budget_id, rate, max(1, share // rate), start)
        plan.decide("CommissionServiceOrder", start, order_id=order.order_id, budget_id=budget_id,
                    provider_id=provider_id, service_type="home_care", unit="hour", rate_pence=rate,
                    planned_units_per_week=order.units, payment_basis="invoice", start_date=start, end_date=YEAR_END,
                    effective_date=start)
        orders_by_provider[provider_id].append(order)
        orders.append(order)
    return orders


def _invoices(plan: Plan, rng: random.Random, orders_by_provider: dict[str, list[Order]]) -> None:
    """Each provider invoices four weeks in arrears for the hours delivered, at most what was planned,
    and only for periods its orders fully ran in."""
    for provider_id, orders in orders_by_provider.items():
        period_start, n = YEAR_START, 0
        while period_start + timedelta(days=27) <= YEAR_END:
            period_end = period_start + timedelta(days=27)
            running = [o for o in orders if o.start <= period_start and (o.gone_after is None or period_end <= o.gone_after)]
            lines = [{"line_no": i + 1, "order_id": o.order_id, "budget_id": o.budget_id,
                      "period_start": max(period_start, o.start), "period_end": period_end,
                      "units": max(1, o.units_in(period_start) * 4 - rng.choice([0, 0, 1, 2])), "rate_pence": o.rate}
                     for i, o in enumerate(running)]
            if lines:
                n += 1
                invoice_id, day = f"INV-{provider_id}-{n:02d}", period_end + timedelta(days=3)
                common = dict(invoice_id=invoice_id, provider_id=provider_id)
                plan.add("invoices.InvoiceReceived.v1", day, **common, invoice_number=f"{n:05d}",
                         invoice_date=day, lines=lines, effective_date=day)
                plan.add("invoices.InvoiceApproved.v1", day + timedelta(days=2), **common, approved_by="finance.officer.1",
                         lines=lines, effective_date=day + timedelta(days=2))
                total = sum(ln["units"] * ln["rate_pence"] for ln in lines)
                payment_id = f"PP-{invoice_id}"
                plan.add("payments.PaymentInstructed.v1", day + timedelta(days=5), payment_id=payment_id, run_id=None,
                         kind="invoice", provider_id=provider_id, invoice_id=invoice_id, amount_pence=total,
                         budget_id=None, due_date=day + timedelta(days=7), effective_date=day + timedelta(days=5))
                plan.add("payments.PaymentSettled.v1", day + timedelta(days=7), payment_id=payment_id, amount_pence=total,
                         bank_ref=f"BACS-{payment_id}", provider_id=provider_id, effective_date=day + timedelta(days=7))
            period_start += timedelta(days=28)
