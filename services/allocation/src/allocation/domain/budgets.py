"""Decisions about a personal budget's life and money: indicative amount, agreement, revision, funding
split, contribution, delivery routes, overspend authorisation, death and end.

Each function is `(budget | None, command, context) -> list[Event] | Rejection` and changes nothing.
"""
from __future__ import annotations

from careschemas import allocation_commands as cmds
from careschemas import allocation_events as ev
from careschemas.common import DeliveryRoute

from . import reasons
from .checks import (
    Decision,
    accepted,
    agreed_budget,
    closed,
    commitments_fit,
    open_budget,
    routes_fit,
    same_person,
    split_fits,
)
from .model import Budget, Context, Rejection

HELD_BY_SOMEONE = frozenset({DeliveryRoute.managed_account, DeliveryRoute.isf})


def calculate_indicative_budget(budget: Budget | None, cmd: cmds.CalculateIndicativeBudget, ctx: Context) -> Decision:
    """The RAS estimate may be (re)calculated at any time until the budget closes."""
    if budget is not None and budget.closed:
        return closed(budget)
    mismatch = same_person(budget, cmd.person_ref)
    if mismatch:
        return mismatch
    return [accepted(cmd)]


def agree_personal_budget(budget: Budget | None, cmd: cmds.AgreePersonalBudget, ctx: Context) -> Decision:
    """Agree once; keep the indicative amount, and a reason when the two differ beyond tolerance."""
    if budget is not None and budget.agreed:
        return Rejection(reasons.BUDGET_ALREADY_AGREED, f"budget {cmd.budget_id} was already agreed")
    mismatch = same_person(budget, cmd.person_ref)
    if mismatch:
        return mismatch
    calculated = budget.indicative_pence if budget is not None else None
    if cmd.indicative_pence is not None and calculated is not None and cmd.indicative_pence != calculated:
        return Rejection(reasons.INDICATIVE_MISMATCH,
                         f"indicative {cmd.indicative_pence}p given, {calculated}p was calculated")
    indicative = cmd.indicative_pence if cmd.indicative_pence is not None else calculated
    if indicative is not None and cmd.variance_reason is None and \
            ctx.policy.needs_variance_reason(cmd.amount_pence, indicative):
        return Rejection(reasons.VARIANCE_REASON_REQUIRED,
                         f"agreed {cmd.amount_pence}p differs from the indicative {indicative}p by more than "
                         f"{ctx.policy.variance_tolerance_bp / 100:g}%; say why in variance_reason")
    return [accepted(cmd, indicative_pence=indicative)]


def revise_personal_budget(budget: Budget | None, cmd: cmds.RevisePersonalBudget, ctx: Context) -> Decision:
    """A new total must still cover the other funders' shares, the routes and the commitments."""
    b = open_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    amount = cmd.amount_pence
    refused = (split_fits(amount=amount, icb=b.icb_pence, pooled=b.pooled_pence,
                          weekly_contribution=b.contribution_weekly_pence)
               or routes_fit(amount=amount, routes_total=b.routes_total_pence)
               or commitments_fit(b, committed=b.committed_pence, ceiling=amount + b.overspend_limit_pence))
    return refused or [accepted(cmd)]


def agree_funding_split(budget: Budget | None, cmd: cmds.AgreeFundingSplit, ctx: Context) -> Decision:
    b = open_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    refused = split_fits(amount=b.amount_pence, icb=cmd.icb_pence, pooled=cmd.pooled_pence,
                         weekly_contribution=b.contribution_weekly_pence)
    return refused or [accepted(cmd)]


def assess_contribution(budget: Budget | None, cmd: cmds.AssessContribution, ctx: Context) -> Decision:
    b = open_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    if cmd.mode.value not in ctx.policy.allowed_contribution_modes:
        return Rejection(reasons.CONTRIBUTION_MODE_NOT_ALLOWED,
                         f"this council collects contributions only as "
                         f"{', '.join(sorted(ctx.policy.allowed_contribution_modes))}")
    refused = split_fits(amount=b.amount_pence, icb=b.icb_pence, pooled=b.pooled_pence,
                         weekly_contribution=cmd.weekly_pence)
    return refused or [accepted(cmd)]


def allocate_delivery_route(budget: Budget | None, cmd: cmds.AllocateDeliveryRoute, ctx: Context) -> Decision:
    """Set one route's share of the budget (zero removes it); all routes together stay within the PB."""
    b = open_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    if cmd.route in HELD_BY_SOMEONE and cmd.amount_pence > 0 and cmd.holder_ref is None:
        return Rejection(reasons.HOLDER_REQUIRED, f"a {cmd.route.value} route must name who holds the money")
    current = b.routes.get(cmd.route.value)
    total = b.routes_total_pence - (current.amount_pence if current else 0) + cmd.amount_pence
    refused = routes_fit(amount=b.amount_pence, routes_total=total)
    return refused or [accepted(cmd)]


def authorise_overspend(budget: Budget | None, cmd: cmds.AuthoriseOverspend, ctx: Context) -> Decision:
    """A named authoriser sets how far commitments may exceed the PB; the new limit replaces the old one
    and cannot be set below what is already committed beyond the PB."""
    b = open_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    refused = commitments_fit(b, committed=b.committed_pence, ceiling=b.amount_pence + cmd.limit_pence)
    return refused or [accepted(cmd)]


def record_death(budget: Budget | None, cmd: cmds.RecordDeath, ctx: Context) -> Decision:
    """A closing command: accepted on an ended budget too. Orders running past the date of death end
    on it, so nothing stays committed for a time after the death."""
    b = agreed_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    if b.died_on is not None:
        return Rejection(reasons.DEATH_ALREADY_RECORDED, f"death already recorded on {b.died_on}")
    mismatch = same_person(b, cmd.person_ref)
    if mismatch:
        return mismatch
    return [accepted(cmd), *_end_orders_after(b, cmd.date_of_death, "Person died", cmd.effective_date)]


def end_personal_budget(budget: Budget | None, cmd: cmds.EndPersonalBudget, ctx: Context) -> Decision:
    """A closing command: accepted after a death too. Orders running past the end date end on it first,
    so their commitment is released before the budget closes."""
    b = agreed_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    if b.ended_on is not None:
        return closed(b)
    if not b.start_date <= cmd.end_date <= b.end_date:
        return Rejection(reasons.DATE_OUT_OF_RANGE,
                         f"end date {cmd.end_date} is outside the budget's {b.start_date}..{b.end_date}")
    return [*_end_orders_after(b, cmd.end_date, f"Budget ended: {cmd.reason}"[:500], cmd.effective_date),
            accepted(cmd)]


def _end_orders_after(b: Budget, last_day, reason: str, effective) -> list[ev.ServiceOrderEnded]:
    return [ev.ServiceOrderEnded(order_id=o.order_id, budget_id=b.budget_id, end_date=last_day, reason=reason,
                                 effective_date=effective)
            for o in sorted(b.orders.values(), key=lambda o: o.order_id)
            if o.status in ("active", "ended") and o.end_date > last_day]  # an ended order ends again, earlier
