"""Allocation commands (family "allocation", topic allocation.commands.v1), sent by the council's case
system. Each carries the fields of the event it leads to (`LEADS_TO`); the allocation service validates
it against its own state and emits that event, or `allocation.CommandRejected.v1` with a reason code."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from .common import (
    AccountRef, Actor, BudgetId, Command, ContributionMode, Day, DeliveryRoute, Id, Name, OrderId, PaymentBasis,
    Pence, PersonRef, PositiveInt, PositivePence, ProviderId, ProviderType, ShortText, Text, Unit, require_order,
)


class CalculateIndicativeBudget(Command):
    """Record the RAS estimate for a budget."""

    TYPE: ClassVar[str] = "allocation.CalculateIndicativeBudget.v1"
    LEADS_TO: ClassVar[str] = "allocation.IndicativeBudgetCalculated.v1"
    budget_id: BudgetId
    person_ref: PersonRef
    amount_pence: Pence
    ras_version: ShortText
    effective_date: Day


class AgreePersonalBudget(Command):
    """Agree a yearly personal budget, with the indicative amount and why they differ, where known."""

    TYPE: ClassVar[str] = "allocation.AgreePersonalBudget.v1"
    LEADS_TO: ClassVar[str] = "allocation.PersonalBudgetAgreed.v1"
    budget_id: BudgetId
    person_ref: PersonRef
    amount_pence: PositivePence
    indicative_pence: Pence | None = None
    variance_reason: Text | None = None
    start_date: Day
    end_date: Day
    effective_date: Day

    @model_validator(mode="after")
    def _end_after_start(self) -> AgreePersonalBudget:
        require_order(self.start_date, self.end_date, strict=True, what="end_date")
        return self


class RevisePersonalBudget(Command):
    """Change the agreed yearly total from the effective date."""

    TYPE: ClassVar[str] = "allocation.RevisePersonalBudget.v1"
    LEADS_TO: ClassVar[str] = "allocation.PersonalBudgetRevised.v1"
    budget_id: BudgetId
    amount_pence: PositivePence
    reason: Text
    effective_date: Day


class EndPersonalBudget(Command):
    """End a budget."""

    TYPE: ClassVar[str] = "allocation.EndPersonalBudget.v1"
    LEADS_TO: ClassVar[str] = "allocation.PersonalBudgetEnded.v1"
    budget_id: BudgetId
    end_date: Day
    reason: Text
    effective_date: Day


class AgreeFundingSplit(Command):
    """Agree the ICB and pooled-fund shares of a budget."""

    TYPE: ClassVar[str] = "allocation.AgreeFundingSplit.v1"
    LEADS_TO: ClassVar[str] = "allocation.FundingSplitAgreed.v1"
    budget_id: BudgetId
    icb_pence: Pence
    pooled_pence: Pence
    agreement_ref: ShortText | None = None
    effective_date: Day


class AssessContribution(Command):
    """Record the person's weekly contribution and how it is collected."""

    TYPE: ClassVar[str] = "allocation.AssessContribution.v1"
    LEADS_TO: ClassVar[str] = "allocation.ContributionAssessed.v1"
    budget_id: BudgetId
    weekly_pence: Pence
    mode: ContributionMode
    effective_date: Day


class AllocateDeliveryRoute(Command):
    """Assign part of a budget to a delivery route."""

    TYPE: ClassVar[str] = "allocation.AllocateDeliveryRoute.v1"
    LEADS_TO: ClassVar[str] = "allocation.DeliveryRouteAllocated.v1"
    budget_id: BudgetId
    route: DeliveryRoute
    amount_pence: Pence
    holder_ref: Id | None = None
    effective_date: Day


class RegisterProvider(Command):
    """Register a provider and its type."""

    TYPE: ClassVar[str] = "allocation.RegisterProvider.v1"
    LEADS_TO: ClassVar[str] = "allocation.ProviderRegistered.v1"
    provider_id: ProviderId
    name: Name
    provider_type: ProviderType
    effective_date: Day


class ChangeProviderBankDetails(Command):
    """Record a verified change of a provider's bank account (as a vault token)."""

    TYPE: ClassVar[str] = "allocation.ChangeProviderBankDetails.v1"
    LEADS_TO: ClassVar[str] = "allocation.ProviderBankDetailsChanged.v1"
    provider_id: ProviderId
    account_ref: AccountRef
    verified_by: Actor
    effective_date: Day


class CommissionServiceOrder(Command):
    """Buy a care package line from a provider for the person."""

    TYPE: ClassVar[str] = "allocation.CommissionServiceOrder.v1"
    LEADS_TO: ClassVar[str] = "allocation.ServiceOrderCommissioned.v1"
    order_id: OrderId
    budget_id: BudgetId
    provider_id: ProviderId
    service_type: ShortText
    unit: Unit
    rate_pence: PositivePence
    planned_units_per_week: PositiveInt
    payment_basis: PaymentBasis
    start_date: Day
    end_date: Day
    effective_date: Day

    @model_validator(mode="after")
    def _end_not_before_start(self) -> CommissionServiceOrder:
        require_order(self.start_date, self.end_date, strict=False, what="end_date")
        return self


class VaryServiceOrder(Command):
    """Change rate, planned units or end date of a service order from effective_date."""

    TYPE: ClassVar[str] = "allocation.VaryServiceOrder.v1"
    LEADS_TO: ClassVar[str] = "allocation.ServiceOrderVaried.v1"
    order_id: OrderId
    budget_id: BudgetId
    rate_pence: PositivePence
    planned_units_per_week: PositiveInt
    end_date: Day
    effective_date: Day


class EndServiceOrder(Command):
    """End a service order."""

    TYPE: ClassVar[str] = "allocation.EndServiceOrder.v1"
    LEADS_TO: ClassVar[str] = "allocation.ServiceOrderEnded.v1"
    order_id: OrderId
    budget_id: BudgetId
    end_date: Day
    reason: Text
    effective_date: Day


class RecordDeath(Command):
    """Record that the person died."""

    TYPE: ClassVar[str] = "allocation.RecordDeath.v1"
    LEADS_TO: ClassVar[str] = "allocation.PersonDied.v1"
    budget_id: BudgetId
    person_ref: PersonRef
    date_of_death: Day
    effective_date: Day


class AuthoriseOverspend(Command):
    """Allow a budget's spend beyond its agreed amount, up to a limit."""

    TYPE: ClassVar[str] = "allocation.AuthoriseOverspend.v1"
    LEADS_TO: ClassVar[str] = "allocation.OverspendAuthorised.v1"
    budget_id: BudgetId
    authoriser: Actor
    limit_pence: PositivePence = Field(description="How far beyond the agreed amount spend may go, in pence.")
    reason: Text
    effective_date: Day
