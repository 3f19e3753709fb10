"""The command table: which aggregate each allocation command addresses and which function decides it.

One decision function per command. `decide` is the whole decision the service makes about a command:
pure, so the same state, command and context always give the same events or the same rejection.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from careschemas import allocation_commands as cmds
from careschemas.common import Command

from . import budgets, orders, providers
from .checks import Decision
from .model import Budget, Context, Provider

BUDGET, PROVIDER = "budget", "provider"


@dataclass(frozen=True)
class Handler:
    kind: str  # which aggregate: BUDGET (keyed by budget_id) or PROVIDER (keyed by provider_id)
    decide: Callable[[Any, Any, Context], Decision]


HANDLERS: dict[type[Command], Handler] = {
    cmds.CalculateIndicativeBudget: Handler(BUDGET, budgets.calculate_indicative_budget),
    cmds.AgreePersonalBudget: Handler(BUDGET, budgets.agree_personal_budget),
    cmds.RevisePersonalBudget: Handler(BUDGET, budgets.revise_personal_budget),
    cmds.EndPersonalBudget: Handler(BUDGET, budgets.end_personal_budget),
    cmds.AgreeFundingSplit: Handler(BUDGET, budgets.agree_funding_split),
    cmds.AssessContribution: Handler(BUDGET, budgets.assess_contribution),
    cmds.AllocateDeliveryRoute: Handler(BUDGET, budgets.allocate_delivery_route),
    cmds.AuthoriseOverspend: Handler(BUDGET, budgets.authorise_overspend),
    cmds.RecordDeath: Handler(BUDGET, budgets.record_death),
    cmds.CommissionServiceOrder: Handler(BUDGET, orders.commission_service_order),
    cmds.VaryServiceOrder: Handler(BUDGET, orders.vary_service_order),
    cmds.EndServiceOrder: Handler(BUDGET, orders.end_service_order),
    cmds.RegisterProvider: Handler(PROVIDER, providers.register_provider),
    cmds.ChangeProviderBankDetails: Handler(PROVIDER, providers.change_provider_bank_details),
}


def handler_for(cmd: Command) -> Handler:
    """The handler of a command. Raises KeyError for a payload that is not an allocation command."""
    return HANDLERS[type(cmd)]


def aggregate_id(cmd: Command) -> str:
    """The id of the aggregate a command addresses (its budget or its provider)."""
    return cmd.budget_id if handler_for(cmd).kind == BUDGET else cmd.provider_id


def decide(state: Budget | Provider | None, cmd: Command, ctx: Context) -> Decision:
    return handler_for(cmd).decide(state, cmd, ctx)
