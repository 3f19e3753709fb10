"""How events change the aggregates: `evolve_budget` and `evolve_provider`.

Decisions never change state; the service applies the events a decision returned, here, and the
unit tests build their "given" state the same way. Applying an event twice leaves the same state
(apart from `version`), which the read-only budget view relies on (it may see a relayed event again).
"""
from __future__ import annotations

from dataclasses import replace

from careschemas import allocation_events as ev
from careschemas.common import Event

from .model import Budget, Order, Provider, Route


def evolve_budget(budget: Budget | None, event: Event, council_id: str) -> Budget:
    """The budget after `event` (mutated in place when it exists already)."""
    if budget is None:
        budget = Budget(council_id, event.budget_id, getattr(event, "person_ref", ""))
    handler = _BUDGET[type(event)]
    handler(budget, event)
    budget.version += 1
    return budget


def evolve_provider(provider: Provider | None, event: Event, council_id: str) -> Provider:
    if isinstance(event, ev.ProviderRegistered):
        provider = Provider(council_id, event.provider_id, event.name, event.provider_type.value)
    elif isinstance(event, ev.ProviderBankDetailsChanged):
        assert provider is not None, "bank details of an unregistered provider"
        provider.account_ref = event.account_ref
        provider.verified_by = event.verified_by
        provider.bank_changed_on = event.effective_date
    else:
        raise TypeError(f"not a provider event: {type(event).__name__}")
    provider.version += 1
    return provider


def _indicative(b: Budget, e: ev.IndicativeBudgetCalculated) -> None:
    b.person_ref, b.indicative_pence, b.ras_version = e.person_ref, e.amount_pence, e.ras_version


def _agreed(b: Budget, e: ev.PersonalBudgetAgreed) -> None:
    b.person_ref, b.agreed, b.amount_pence = e.person_ref, True, e.amount_pence
    b.start_date, b.end_date, b.variance_reason = e.start_date, e.end_date, e.variance_reason
    if e.indicative_pence is not None:
        b.indicative_pence = e.indicative_pence


def _revised(b: Budget, e: ev.PersonalBudgetRevised) -> None:
    b.amount_pence = e.amount_pence


def _ended(b: Budget, e: ev.PersonalBudgetEnded) -> None:
    b.ended_on = e.end_date
    b.end_date = min(b.end_date, e.end_date) if b.end_date else e.end_date


def _split(b: Budget, e: ev.FundingSplitAgreed) -> None:
    b.icb_pence, b.pooled_pence, b.agreement_ref = e.icb_pence, e.pooled_pence, e.agreement_ref


def _contribution(b: Budget, e: ev.ContributionAssessed) -> None:
    b.contribution_weekly_pence, b.contribution_mode = e.weekly_pence, e.mode.value


def _route(b: Budget, e: ev.DeliveryRouteAllocated) -> None:
    if e.amount_pence == 0:
        b.routes.pop(e.route.value, None)  # zero takes the route away
    else:
        b.routes[e.route.value] = Route(e.amount_pence, e.holder_ref)


def _overspend(b: Budget, e: ev.OverspendAuthorised) -> None:
    b.overspend_limit_pence, b.overspend_authoriser = e.limit_pence, e.authoriser


def _died(b: Budget, e: ev.PersonDied) -> None:
    b.died_on = e.date_of_death


def _commissioned(b: Budget, e: ev.ServiceOrderCommissioned) -> None:
    b.orders[e.order_id] = Order(
        e.order_id, e.provider_id, e.service_type, e.unit.value, e.rate_pence, e.planned_units_per_week,
        e.payment_basis.value, e.start_date, e.end_date, segment_start=e.start_date)


def _varied(b: Budget, e: ev.ServiceOrderVaried) -> None:
    order = b.orders[e.order_id]
    b.orders[e.order_id] = order.repriced(e.rate_pence, e.planned_units_per_week, e.end_date, e.effective_date)


def _order_ended(b: Budget, e: ev.ServiceOrderEnded) -> None:
    order = b.orders[e.order_id]
    end = min(e.end_date, order.end_date)
    b.orders[e.order_id] = replace(
        order.repriced(order.rate_pence, order.planned_units_per_week, end, e.effective_date), status="ended")


_BUDGET = {
    ev.IndicativeBudgetCalculated: _indicative,
    ev.PersonalBudgetAgreed: _agreed,
    ev.PersonalBudgetRevised: _revised,
    ev.PersonalBudgetEnded: _ended,
    ev.FundingSplitAgreed: _split,
    ev.ContributionAssessed: _contribution,
    ev.DeliveryRouteAllocated: _route,
    ev.OverspendAuthorised: _overspend,
    ev.PersonDied: _died,
    ev.ServiceOrderCommissioned: _commissioned,
    ev.ServiceOrderVaried: _varied,
    ev.ServiceOrderEnded: _order_ended,
}

BUDGET_EVENTS: frozenset[type] = frozenset(_BUDGET)
PROVIDER_EVENTS: frozenset[type] = frozenset({ev.ProviderRegistered, ev.ProviderBankDetailsChanged})
