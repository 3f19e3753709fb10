"""Allocation events (family "allocation", topic allocation.events.v1): budgets, funding, routes,
providers, service orders, deaths, overspend authorisations, and rejected allocation commands."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from .common import (
    AccountRef, Actor, BudgetId, ContributionMode, Day, DeliveryRoute, Detail, Event, Id, Name, OrderId, PaymentBasis,
    Pence, PersonRef, PositiveInt, PositivePence, ProviderId, ProviderType, ReasonCode, ShortText, Text,
    TypeName, Unit, require_order,
)


class IndicativeBudgetCalculated(Event):
    """The Resource Allocation System's estimate of a yearly budget. Not an entitlement."""

    TYPE: ClassVar[str] = "allocation.IndicativeBudgetCalculated.v1"
    budget_id: BudgetId
    person_ref: PersonRef
    amount_pence: Pence
    ras_version: ShortText = Field(description="Version of the RAS formula that produced the estimate.")
    effective_date: Day


class PersonalBudgetAgreed(Event):
    """The agreed yearly cost of meeting the person's needs, with the indicative amount and why they differ."""

    TYPE: ClassVar[str] = "allocation.PersonalBudgetAgreed.v1"
    budget_id: BudgetId
    person_ref: PersonRef
    amount_pence: PositivePence
    indicative_pence: Pence | None = None
    variance_reason: Text | None = None
    start_date: Day
    end_date: Day = Field(description="Last day of the budget period; after start_date.")
    effective_date: Day

    @model_validator(mode="after")
    def _end_after_start(self) -> PersonalBudgetAgreed:
        require_order(self.start_date, self.end_date, strict=True, what="end_date")
        return self


class PersonalBudgetRevised(Event):
    """A new agreed yearly total, from the effective date."""

    TYPE: ClassVar[str] = "allocation.PersonalBudgetRevised.v1"
    budget_id: BudgetId
    amount_pence: PositivePence = Field(description="The new agreed yearly total in pence.")
    reason: Text
    effective_date: Day


class PersonalBudgetEnded(Event):
    """The budget stops; nothing may be paid for a period after end_date."""

    TYPE: ClassVar[str] = "allocation.PersonalBudgetEnded.v1"
    budget_id: BudgetId
    end_date: Day
    reason: Text
    effective_date: Day


class FundingSplitAgreed(Event):
    """NHS (ICB) and pooled-fund shares of a budget; the council pays the remainder of the agreed amount."""

    TYPE: ClassVar[str] = "allocation.FundingSplitAgreed.v1"
    budget_id: BudgetId
    icb_pence: Pence
    pooled_pence: Pence
    agreement_ref: ShortText | None = Field(default=None, description="e.g. an s75 or joint-budget reference.")
    effective_date: Day


class ContributionAssessed(Event):
    """The person's weekly means-tested contribution, and whether DPs are netted or paid gross."""

    TYPE: ClassVar[str] = "allocation.ContributionAssessed.v1"
    budget_id: BudgetId
    weekly_pence: Pence
    mode: ContributionMode
    effective_date: Day


class DeliveryRouteAllocated(Event):
    """Part of a budget assigned to one delivery route (a budget may mix several)."""

    TYPE: ClassVar[str] = "allocation.DeliveryRouteAllocated.v1"
    budget_id: BudgetId
    route: DeliveryRoute
    amount_pence: Pence
    holder_ref: Id | None = Field(default=None, description="Who holds the money: nominated person, managed "
                                  "account or ISF provider (opaque reference).")
    effective_date: Day


class ProviderRegistered(Event):
    """A supplier of care and its type (in-house or one of the external types)."""

    TYPE: ClassVar[str] = "allocation.ProviderRegistered.v1"
    provider_id: ProviderId
    name: Name
    provider_type: ProviderType
    effective_date: Day


class ProviderBankDetailsChanged(Event):
    """A provider's bank details changed, and who verified the change. Bank details never travel: only a token."""

    TYPE: ClassVar[str] = "allocation.ProviderBankDetailsChanged.v1"
    provider_id: ProviderId
    account_ref: AccountRef
    verified_by: Actor
    effective_date: Day


class ServiceOrderCommissioned(Event):
    """A care package line bought from a provider for the person."""

    TYPE: ClassVar[str] = "allocation.ServiceOrderCommissioned.v1"
    order_id: OrderId
    budget_id: BudgetId
    provider_id: ProviderId
    service_type: ShortText = Field(description="e.g. home_care, day_service, respite, supported_living.")
    unit: Unit
    rate_pence: PositivePence = Field(description="Price of one unit in pence.")
    planned_units_per_week: PositiveInt
    payment_basis: PaymentBasis
    start_date: Day
    end_date: Day = Field(description="Last day of service; on or after start_date.")
    effective_date: Day

    @model_validator(mode="after")
    def _end_not_before_start(self) -> ServiceOrderCommissioned:
        require_order(self.start_date, self.end_date, strict=False, what="end_date")
        return self


class ServiceOrderVaried(Event):
    """New rate, planned units or end date of a service order, applying from effective_date."""

    TYPE: ClassVar[str] = "allocation.ServiceOrderVaried.v1"
    order_id: OrderId
    budget_id: BudgetId
    rate_pence: PositivePence
    planned_units_per_week: PositiveInt
    end_date: Day
    effective_date: Day


class ServiceOrderEnded(Event):
    """A service order stops; nothing may be paid for a period after end_date."""

    TYPE: ClassVar[str] = "allocation.ServiceOrderEnded.v1"
    order_id: OrderId
    budget_id: BudgetId
    end_date: Day
    reason: Text
    effective_date: Day


class PersonDied(Event):
    """The person died; nothing may be paid for a period after date_of_death."""

    TYPE: ClassVar[str] = "allocation.PersonDied.v1"
    budget_id: BudgetId
    person_ref: PersonRef
    date_of_death: Day
    effective_date: Day


class OverspendAuthorised(Event):
    """An authoriser allows a budget's spend to exceed the agreed amount, up to limit_pence."""

    TYPE: ClassVar[str] = "allocation.OverspendAuthorised.v1"
    budget_id: BudgetId
    authoriser: Actor
    limit_pence: PositivePence = Field(description="How far beyond the agreed amount spend may go, in pence.")
    reason: Text
    effective_date: Day


class CommandRejected(Event):
    """The allocation service refused a command; nothing else changed."""

    TYPE: ClassVar[str] = "allocation.CommandRejected.v1"
    command_id: Id = Field(description="Envelope id of the rejected command.")
    command_type: TypeName
    reason_code: ReasonCode
    detail: Detail
    effective_date: Day
