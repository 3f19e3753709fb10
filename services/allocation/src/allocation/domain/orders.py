"""Decisions about a budget's service orders: commission, vary, end.

Commitments are priced as the ledger prices them (rate x planned units per week x days / 7, segment by
segment from each variation's effective date), so an order this service accepts is one the ledger
can commit.
"""
from __future__ import annotations

from careschemas import allocation_commands as cmds

from . import reasons
from .checks import Decision, accepted, agreed_budget, commitments_fit, open_budget
from .model import Budget, Context, Order, Rejection


def commission_service_order(budget: Budget | None, cmd: cmds.CommissionServiceOrder, ctx: Context) -> Decision:
    b = open_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    if cmd.order_id in b.orders or cmd.order_id in ctx.order_budgets:
        return Rejection(reasons.ORDER_EXISTS, f"service order {cmd.order_id} already exists")
    if cmd.provider_id not in ctx.providers:
        return Rejection(reasons.UNKNOWN_PROVIDER, f"no registered provider {cmd.provider_id} in this council")
    if cmd.start_date < b.start_date or cmd.end_date > b.end_date:
        return Rejection(reasons.ORDER_OUTSIDE_BUDGET,
                         f"order {cmd.start_date}..{cmd.end_date} is outside budget {b.start_date}..{b.end_date}")
    order = Order(cmd.order_id, cmd.provider_id, cmd.service_type, cmd.unit.value, cmd.rate_pence,
                  cmd.planned_units_per_week, cmd.payment_basis.value, cmd.start_date, cmd.end_date,
                  segment_start=cmd.start_date)
    refused = commitments_fit(b, committed=b.committed_pence + order.commitment, ceiling=b.spend_ceiling_pence)
    return refused or [accepted(cmd)]


def _active_order(b: Budget, order_id: str) -> Order | Rejection:
    order = b.orders.get(order_id)
    if order is None:
        return Rejection(reasons.UNKNOWN_ORDER, f"no service order {order_id} on budget {b.budget_id}")
    if order.status != "active":
        return Rejection(reasons.ORDER_ENDED, f"service order {order_id} has ended")
    return order


def vary_service_order(budget: Budget | None, cmd: cmds.VaryServiceOrder, ctx: Context) -> Decision:
    """New rate, units or end date from the effective date; may extend up to the budget's end."""
    b = open_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    order = _active_order(b, cmd.order_id)
    if isinstance(order, Rejection):
        return order
    if cmd.end_date < order.start_date:
        return Rejection(reasons.DATE_OUT_OF_RANGE,
                         f"end date {cmd.end_date} is before the order's start {order.start_date}")
    if cmd.end_date > b.end_date:
        return Rejection(reasons.ORDER_OUTSIDE_BUDGET, f"end date {cmd.end_date} is after the budget's end {b.end_date}")
    varied = order.repriced(cmd.rate_pence, cmd.planned_units_per_week, cmd.end_date, cmd.effective_date)
    before = b.committed_pence
    refused = commitments_fit(b, committed=before - order.commitment + varied.commitment,
                              ceiling=b.spend_ceiling_pence, before=before)
    return refused or [accepted(cmd)]


def end_service_order(budget: Budget | None, cmd: cmds.EndServiceOrder, ctx: Context) -> Decision:
    """A closing command: accepted after the budget ended or the person died. Only shortens an order
    (to lengthen one, vary it)."""
    b = agreed_budget(budget, cmd.budget_id)
    if isinstance(b, Rejection):
        return b
    order = _active_order(b, cmd.order_id)
    if isinstance(order, Rejection):
        return order
    if cmd.end_date > order.end_date:
        return Rejection(reasons.DATE_OUT_OF_RANGE,
                         f"end date {cmd.end_date} is after the order's end {order.end_date}; vary it instead")
    return [accepted(cmd)]
