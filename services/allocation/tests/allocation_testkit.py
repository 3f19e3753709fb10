"""Given events / when command / then events: builders of real wire models and the three steps.

No I/O and no mocks: commands and events are the schemas' validated models, state is built by
applying events with the domain's own `evolve_*`.
"""
from __future__ import annotations

from datetime import date

from allocation.domain.decide import decide
from allocation.domain.evolve import PROVIDER_EVENTS, evolve_budget, evolve_provider
from allocation.domain.model import Budget, Context, Provider, Rejection
from allocation.domain.policy import CouncilPolicy
from careschemas.common import Command, Event
from careschemas.registry import payload_model

COUNCIL = "C001"
DAY = date(2026, 4, 1)
START, END = date(2026, 4, 1), date(2027, 3, 31)


def command(name: str, /, **fields) -> Command:
    fields.setdefault("effective_date", DAY)
    return payload_model(f"allocation.{name}.v1").model_validate(fields)


def event(name: str, /, **fields) -> Event:
    fields.setdefault("effective_date", DAY)
    return payload_model(f"allocation.{name}.v1").model_validate(fields)


def given(*events: Event) -> Budget | Provider | None:
    """The aggregate the events build (all events of one aggregate)."""
    state = None
    for ev in events:
        if type(ev) in PROVIDER_EVENTS:
            state = evolve_provider(state, ev, COUNCIL)
        else:
            state = evolve_budget(state, ev, COUNCIL)
    return state


def when(state, cmd: Command, *, policy: CouncilPolicy | None = None, providers=("PR-1",),
         order_budgets: dict[str, str] | None = None):
    """Decide `cmd`; `providers` are the registered provider ids the context knows."""
    ctx = Context(policy=policy or CouncilPolicy(),
                  providers={p: given(registered(p)) for p in providers},
                  order_budgets=order_budgets or {})
    return decide(state, cmd, ctx)


def then(decision, *expected: Event) -> None:
    assert not isinstance(decision, Rejection), decision
    assert list(decision) == list(expected)


def then_accepted(decision) -> list[Event]:
    assert not isinstance(decision, Rejection), decision
    assert decision
    return decision


def then_rejected(decision, code: str) -> Rejection:
    assert isinstance(decision, Rejection), f"expected {code}, got events {decision}"
    assert decision.code == code, decision
    assert decision.detail
    return decision


def after(state, decision):
    """The state once the decision's events are applied (the service does the same)."""
    assert not isinstance(decision, Rejection), decision
    for ev in decision:
        state = given_more(state, ev)
    return state


def given_more(state, ev: Event):
    if type(ev) in PROVIDER_EVENTS:
        return evolve_provider(state, ev, COUNCIL)
    return evolve_budget(state, ev, COUNCIL)


# -- builders with defaults -------------------------------------------------------------------------

def agreed(budget_id: str = "PB-1", amount: int = 52_000_00, **kw) -> Event:
    kw.setdefault("start_date", START)
    kw.setdefault("end_date", END)
    kw.setdefault("person_ref", "P-1")
    return event("PersonalBudgetAgreed", budget_id=budget_id, amount_pence=amount, **kw)


def indicative(budget_id: str = "PB-1", amount: int = 50_000_00, person_ref: str = "P-1",
               ras_version: str = "RAS-1") -> Event:
    return event("IndicativeBudgetCalculated", budget_id=budget_id, person_ref=person_ref, amount_pence=amount,
                 ras_version=ras_version)


def registered(provider_id: str = "PR-1", provider_type: str = "private") -> Event:
    return event("ProviderRegistered", provider_id=provider_id, name=f"Provider {provider_id}",
                 provider_type=provider_type)


ORDER_FIELDS = {"provider_id": "PR-1", "service_type": "home_care", "unit": "hour", "payment_basis": "invoice"}


def commission(order_id: str = "SO-1", rate: int = 2000, units: int = 10, start: date = START,
               end: date = date(2026, 4, 28), budget_id: str = "PB-1", **kw) -> Command:
    """Default: 4 weeks x 10 h x £20 = 80,000p."""
    return command("CommissionServiceOrder", **{**ORDER_FIELDS, **kw}, order_id=order_id, budget_id=budget_id,
                   rate_pence=rate, planned_units_per_week=units, start_date=start, end_date=end)


def commissioned(order_id: str = "SO-1", rate: int = 2000, units: int = 10, start: date = START,
                 end: date = date(2026, 4, 28), budget_id: str = "PB-1", **kw) -> Event:
    return event("ServiceOrderCommissioned", **{**ORDER_FIELDS, **kw}, order_id=order_id, budget_id=budget_id,
                 rate_pence=rate, planned_units_per_week=units, start_date=start, end_date=end)
