"""The read model of allocation.events.v1: budgets (dates, ending, death, contribution, DP payee),
providers (type, bank account token) and service orders with their terms over time (each variation or
ending recorded under its event id, from its pivot day: payments.domain.orders), as the payments
decisions need them.

Each event is applied once (processed_messages guards against the relay's at-least-once delivery), in
partition order, inside the consumer's batch transaction, so a restart resumes exactly where the
stored offsets say. Events payments does not need are recorded as seen and otherwise ignored.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from careschemas import allocation_events as ev
from careschemas.common import Event

from ..adapters import repository as repo
from ..domain import orders
from ..domain.model import OrderView

Apply = Callable[[asyncpg.Connection, str, Event], Awaitable[None]]


async def _budget_agreed(conn, council: str, e: ev.PersonalBudgetAgreed) -> None:
    await conn.execute(
        """INSERT INTO budgets (council_id, budget_id, person_ref, start_date, end_date) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (council_id, budget_id) DO NOTHING""",
        council, e.budget_id, e.person_ref, e.start_date, e.end_date)


async def _budget_ended(conn, council: str, e: ev.PersonalBudgetEnded) -> None:
    await conn.execute("UPDATE budgets SET ended_on = LEAST(coalesce(ended_on, $3), $3) "
                       "WHERE council_id = $1 AND budget_id = $2", council, e.budget_id, e.end_date)


async def _died(conn, council: str, e: ev.PersonDied) -> None:
    await conn.execute("UPDATE budgets SET died_on = $3 WHERE council_id = $1 AND budget_id = $2",
                       council, e.budget_id, e.date_of_death)


async def _contribution(conn, council: str, e: ev.ContributionAssessed) -> None:
    await conn.execute("UPDATE budgets SET contribution_weekly_pence = $3, contribution_mode = $4 "
                       "WHERE council_id = $1 AND budget_id = $2", council, e.budget_id, e.weekly_pence, e.mode.value)


async def _route(conn, council: str, e: ev.DeliveryRouteAllocated) -> None:
    if e.route.value == "direct_payment":
        await conn.execute("UPDATE budgets SET dp_route_pence = $3, dp_account_ref = coalesce($4, dp_account_ref) "
                           "WHERE council_id = $1 AND budget_id = $2", council, e.budget_id, e.amount_pence, e.holder_ref)


async def _provider(conn, council: str, e: ev.ProviderRegistered) -> None:
    await conn.execute(
        """INSERT INTO providers (council_id, provider_id, provider_type, name) VALUES ($1, $2, $3, $4)
           ON CONFLICT (council_id, provider_id) DO UPDATE SET provider_type = EXCLUDED.provider_type,
           name = EXCLUDED.name""", council, e.provider_id, e.provider_type.value, e.name)


async def _bank_details(conn, council: str, e: ev.ProviderBankDetailsChanged) -> None:
    await conn.execute("UPDATE providers SET account_ref = $3 WHERE council_id = $1 AND provider_id = $2",
                       council, e.provider_id, e.account_ref)


def evolve_order(order: OrderView | None, e: Event) -> OrderView | None:
    """The service order after one of its allocation events (pure; None: a change of an order not known).
    A second commissioning of a known order id changes nothing."""
    if isinstance(e, ev.ServiceOrderCommissioned):
        return order or orders.commissioned(e.order_id, e.budget_id, e.provider_id, e.rate_pence,
                                            e.planned_units_per_week, e.start_date, e.end_date)
    if order is None:
        return None
    if isinstance(e, ev.ServiceOrderVaried):
        return orders.varied(order, e.rate_pence, e.planned_units_per_week, e.end_date, e.effective_date)
    if isinstance(e, ev.ServiceOrderEnded):
        return orders.ended(order, e.end_date, e.effective_date)
    raise TypeError(f"{type(e).__name__} is not a service order event")


async def _order_event(conn, council: str, e: Event, event_id: str) -> None:
    """Record the terms the event sets under its id; an event already recorded changes nothing."""
    if isinstance(e, ev.ServiceOrderCommissioned):
        await repo.add_order(conn, council, event_id, evolve_order(None, e))
        return
    after = evolve_order(await repo.order_to_change(conn, council, e.order_id), e)
    if after is not None:
        await repo.add_order_terms(conn, council, event_id, after)


APPLY: dict[type, Apply] = {
    ev.PersonalBudgetAgreed: _budget_agreed, ev.PersonalBudgetEnded: _budget_ended, ev.PersonDied: _died,
    ev.ContributionAssessed: _contribution, ev.DeliveryRouteAllocated: _route, ev.ProviderRegistered: _provider,
    ev.ProviderBankDetailsChanged: _bank_details,
}
ORDER_EVENTS = (ev.ServiceOrderCommissioned, ev.ServiceOrderVaried, ev.ServiceOrderEnded)
"""Order events record the terms they set under the event's id, so a redelivered one changes nothing."""


async def apply_event(conn: asyncpg.Connection, council: str, event: Event, event_id: str) -> bool:
    """Apply one allocation event (`event_id`: its envelope's id); False when payments has no use for its type."""
    if isinstance(event, ORDER_EVENTS):
        await _order_event(conn, council, event, event_id)
    elif (handler := APPLY.get(type(event))) is not None:
        await handler(conn, council, event)
    else:
        return False
    return True
