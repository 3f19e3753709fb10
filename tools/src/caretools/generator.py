"""A seeded synthetic year of one council's personal budgets, as the messages the ledger consumes.

About 2,000 people, providers of every type, budgets with funding splits and contributions, service
orders, four-weekly direct payments (some returned), monthly provider invoices and their payments,
a few deaths. Deterministic for a seed: the same seed gives byte-identical messages.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from .messages import Message, at_noon, message

YEAR_START, YEAR_END = date(2026, 4, 1), date(2027, 3, 31)
PROVIDER_MIX = {"in_house": 6, "private": 24, "charity": 12, "social_enterprise": 6, "mutual": 5,
                "other_council": 2, "nhs": 2}
HOURLY_RATES = {"in_house": 2600, "private": 2300, "charity": 2200, "social_enterprise": 2250, "mutual": 2350,
                "other_council": 2500, "nhs": 2800}


@dataclass
class Plan:
    council_id: str
    messages: list[Message] = field(default_factory=list)
    seq: int = 0

    def add(self, type_name: str, day: date, **fields) -> str:
        self.seq += 1
        event_id = f"{self.council_id}-{self.seq:07d}"
        self.messages.append(message(type_name, event_id, self.council_id, at_noon(day, self.seq), **fields))
        return event_id


def generate(people: int = 2000, seed: int = 2026, council_id: str = "E10000099") -> list[Message]:
    """All valid messages of the year, ordered by recorded time."""
    rng = random.Random(seed)
    plan = Plan(council_id)
    providers = _providers(plan, rng)
    orders_by_provider: dict[str, list[tuple[str, str, int, int, date]]] = {p: [] for p, _ in providers}
    for n in range(1, people + 1):
        _person(plan, rng, n, providers, orders_by_provider)
    _invoices(plan, rng, orders_by_provider)
    plan.messages.sort(key=lambda m: m.at)
    return plan.messages


def _providers(plan: Plan, rng: random.Random) -> list[tuple[str, str]]:
    providers = []
    for kind, count in PROVIDER_MIX.items():
        for i in range(1, count + 1):
            provider_id = f"PR-{kind[:3].upper()}-{i:02d}"
            plan.add("allocation.ProviderRegistered.v1", YEAR_START - timedelta(days=7), provider_id=provider_id,
                     name=f"{kind.replace('_', ' ').title()} care {i}", provider_type=kind,
                     effective_date=YEAR_START - timedelta(days=7))
            plan.add("allocation.ProviderBankDetailsChanged.v1", YEAR_START - timedelta(days=6), provider_id=provider_id,
                     account_ref=f"tok-{rng.randrange(10**9):09d}", verified_by="finance.officer.2",
                     effective_date=YEAR_START - timedelta(days=6))
            providers.append((provider_id, kind))
    return providers


def _person(plan: Plan, rng: random.Random, n: int, providers, orders_by_provider) -> None:
    budget_id, person_ref = f"PB-{n:05d}", f"P-{rng.randrange(16**10):010x}"
    start = YEAR_START + timedelta(days=rng.choice([0, 0, 0, 7, 14, 28, 56, 91]))
    weekly = rng.randrange(150_00, 900_00, 100)
    amount = weekly * 52
    indicative = amount + rng.choice([0, 0, 0, -2_000_00, 3_000_00])
    plan.add("allocation.IndicativeBudgetCalculated.v1", start, budget_id=budget_id, person_ref=person_ref,
             amount_pence=indicative, ras_version="RAS-2026.1", effective_date=start)
    plan.add("allocation.PersonalBudgetAgreed.v1", start, budget_id=budget_id, person_ref=person_ref,
             amount_pence=amount, indicative_pence=indicative,
             variance_reason=None if indicative == amount else "support plan review", start_date=start,
             end_date=YEAR_END, effective_date=start)
    if rng.random() < 0.15:
        plan.add("allocation.FundingSplitAgreed.v1", start, budget_id=budget_id, icb_pence=amount * rng.choice([30, 40, 50]) // 100,
                 pooled_pence=amount // 20 if rng.random() < 0.3 else 0, agreement_ref="s75-2026-01", effective_date=start)
    contribution = rng.choice([0, 0, 1500, 2500, 4000, 6500])
    mode = "netted" if rng.random() < 0.7 else "gross"
    plan.add("allocation.ContributionAssessed.v1", start, budget_id=budget_id, weekly_pence=contribution, mode=mode,
             effective_date=start)
    died_on = start + timedelta(days=rng.randrange(60, 300)) if rng.random() < 0.01 else None
    if rng.random() < 0.4:
        _direct_payments(plan, rng, budget_id, start, weekly, contribution, mode, died_on)
    else:
        _commission(plan, rng, budget_id, start, weekly, providers, orders_by_provider)
    if died_on:
        plan.add("allocation.PersonDied.v1", died_on, budget_id=budget_id, person_ref=person_ref,
                 date_of_death=died_on, effective_date=died_on)


def _direct_payments(plan: Plan, rng: random.Random, budget_id: str, start: date, weekly: int,
                     contribution: int, mode: str, died_on: date | None) -> None:
    period = 4 * (weekly - (contribution if mode == "netted" else 0))
    plan.add("allocation.DeliveryRouteAllocated.v1", start, budget_id=budget_id, route="direct_payment",
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


def _commission(plan: Plan, rng: random.Random, budget_id: str, start: date, weekly: int, providers, orders_by_provider) -> None:
    route = "isf" if rng.random() < 0.1 else "commissioned"
    plan.add("allocation.DeliveryRouteAllocated.v1", start, budget_id=budget_id, route=route,
             amount_pence=weekly * 52, holder_ref=None, effective_date=start)
    chosen = rng.sample(providers, rng.choice([1, 1, 2]))
    share = weekly * 85 // 100 // len(chosen)
    for i, (provider_id, kind) in enumerate(chosen, 1):
        rate = HOURLY_RATES[kind] + rng.choice([-100, 0, 0, 150])
        units = max(1, share // rate)
        order_id = f"SO-{budget_id}-{i}"
        plan.add("allocation.ServiceOrderCommissioned.v1", start, order_id=order_id, budget_id=budget_id,
                 provider_id=provider_id, service_type="home_care", unit="hour", rate_pence=rate,
                 planned_units_per_week=units, payment_basis="invoice", start_date=start, end_date=YEAR_END,
                 effective_date=start)
        orders_by_provider[provider_id].append((order_id, budget_id, rate, units, start))


def _invoices(plan: Plan, rng: random.Random, orders_by_provider) -> None:
    """Each provider invoices four weeks in arrears for the hours delivered, at most what was planned."""
    for provider_id, orders in orders_by_provider.items():
        period_start, n = YEAR_START, 0
        while period_start + timedelta(days=27) <= YEAR_END:
            period_end = period_start + timedelta(days=27)
            lines = [{"line_no": i + 1, "order_id": o, "budget_id": b, "period_start": max(period_start, s),
                      "period_end": period_end, "units": max(1, u * 4 - rng.choice([0, 0, 1, 2])), "rate_pence": r}
                     for i, (o, b, r, u, s) in enumerate(x for x in orders if x[4] <= period_start)]
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
