"""Checks shared by the decision functions: which budget is open to which command, and the money
invariants (PB = shares + contribution, routes within PB, commitments within PB unless authorised)."""
from __future__ import annotations

from typing import Any

from careschemas.common import Command, Event
from careschemas.registry import payload_model

from . import reasons
from .model import WEEKS_PER_YEAR, Budget, Rejection

Decision = list[Event] | Rejection


def accepted(cmd: Command, **overrides: Any) -> Event:
    """The event the command leads to, carrying the command's fields (and any overrides).

    Built without validating again: the command was validated on the way in, and each command has
    exactly its event's fields, types and checks (a test holds the two in step). Validating every
    event a second time was a sixth of the worker's time per command."""
    model = payload_model(cmd.LEADS_TO)
    values = {name: getattr(cmd, name) for name in type(cmd).model_fields}
    values.update(overrides)
    return model.model_construct(**values)


def agreed_budget(budget: Budget | None, budget_id: str) -> Budget | Rejection:
    """The budget if it has been agreed (open or closed)."""
    if budget is None or not budget.agreed:
        return Rejection(reasons.UNKNOWN_BUDGET, f"no agreed personal budget {budget_id} in this council")
    return budget


def open_budget(budget: Budget | None, budget_id: str) -> Budget | Rejection:
    """The budget if it is agreed and neither ended nor closed by a death."""
    found = agreed_budget(budget, budget_id)
    if isinstance(found, Rejection):
        return found
    if found.closed:
        return closed(found)
    return found


def closed(budget: Budget) -> Rejection:
    since = budget.died_on if budget.died_on is not None else budget.ended_on
    return Rejection(reasons.BUDGET_CLOSED, f"budget {budget.budget_id} is {budget.status} (since {since})")


def same_person(budget: Budget | None, person_ref: str) -> Rejection | None:
    if budget is not None and budget.person_ref and budget.person_ref != person_ref:
        return Rejection(reasons.PERSON_MISMATCH,
                         f"budget {budget.budget_id} belongs to another person than {person_ref}")
    return None


def split_fits(*, amount: int, icb: int, pooled: int, weekly_contribution: int) -> Rejection | None:
    """PB = council share + ICB share + pooled share + contribution, with the council share >= 0."""
    others = icb + pooled + weekly_contribution * WEEKS_PER_YEAR
    if others > amount:
        return Rejection(reasons.SPLIT_EXCEEDS_BUDGET,
                         f"ICB {icb}p + pooled {pooled}p + contribution {weekly_contribution}p x 52 = {others}p "
                         f"exceeds the agreed {amount}p")
    return None


def routes_fit(*, amount: int, routes_total: int) -> Rejection | None:
    if routes_total > amount:
        return Rejection(reasons.ROUTES_EXCEED_BUDGET,
                         f"delivery routes would total {routes_total}p, more than the agreed {amount}p")
    return None


def commitments_fit(budget: Budget, *, committed: int, ceiling: int, before: int | None = None) -> Rejection | None:
    """Commitments stay within the agreed amount plus any authorised overspend. A change that does not
    raise commitments (`committed <= before`) is always allowed: it can only help."""
    if committed > ceiling and (before is None or committed > before):
        authorised = budget.overspend_limit_pence
        return Rejection(reasons.INSUFFICIENT_BUDGET,
                         f"commitments would be {committed}p; budget {budget.budget_id} allows "
                         f"{ceiling - authorised}p + {authorised}p authorised overspend")
    return None
