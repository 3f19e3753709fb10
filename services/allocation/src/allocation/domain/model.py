"""The aggregates: a personal budget (with its service orders) and a provider, and the context a
decision reads besides its own aggregate.

A budget owns its service orders: every order command carries the budget id, is keyed by it on the
wire and so arrives in the budget's order, and "commitments stay within the budget" is a rule about
the budget as a whole. Providers are separate aggregates (keyed by provider id); a budget decision
only reads them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .policy import DEFAULT_POLICY, CouncilPolicy

ONE_DAY = timedelta(days=1)
WEEKS_PER_YEAR = 52  # a weekly contribution counts 52 times against a yearly budget (as the ledger does)


def weekly_commitment(rate: int, units_per_week: int, start: date, end: date) -> int:
    """rate x units per week over [start, end] inclusive, in whole pence (rounded down).

    Deliberately the same formula as the ledger's `rules_common.weekly_commitment`, duplicated rather
    than imported: services share only the wire contracts. If the two ever differ, the ledger would
    refuse commitments this service accepted (its check is the backstop), so change both together.
    """
    days = (end - start).days + 1
    return rate * units_per_week * days // 7 if days > 0 else 0


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused command: a reason code from `reasons` and a sentence for people."""

    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Order:
    """A service order (care package line). Priced in segments: `fixed_pence` is the commitment of the
    segments before `segment_start` (earlier variations); the current rate runs from there to end_date."""

    order_id: str
    provider_id: str
    service_type: str
    unit: str
    rate_pence: int
    planned_units_per_week: int
    payment_basis: str
    start_date: date
    end_date: date
    segment_start: date
    fixed_pence: int = 0
    status: str = "active"  # active | ended

    @property
    def commitment(self) -> int:
        return self.fixed_pence + weekly_commitment(
            self.rate_pence, self.planned_units_per_week, self.segment_start, self.end_date)

    def repriced(self, rate: int, units: int, end: date, effective: date) -> Order:
        """The order with a new rate, units and end date from `effective` (the ledger's segment rule)."""
        pivot = max(self.segment_start, min(effective, end + ONE_DAY))
        fixed = self.fixed_pence + weekly_commitment(
            self.rate_pence, self.planned_units_per_week, self.segment_start, pivot - ONE_DAY)
        return replace(self, rate_pence=rate, planned_units_per_week=units, end_date=end, segment_start=pivot,
                       fixed_pence=fixed)


@dataclass(frozen=True, slots=True)
class Route:
    amount_pence: int
    holder_ref: str | None = None


@dataclass(slots=True)
class Budget:
    """A personal budget from its indicative calculation to its end."""

    council_id: str
    budget_id: str
    person_ref: str
    indicative_pence: int | None = None
    ras_version: str | None = None
    agreed: bool = False
    amount_pence: int = 0
    variance_reason: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    icb_pence: int = 0
    pooled_pence: int = 0
    agreement_ref: str | None = None
    contribution_weekly_pence: int = 0
    contribution_mode: str | None = None
    routes: dict[str, Route] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    overspend_limit_pence: int = 0
    overspend_authoriser: str | None = None
    ended_on: date | None = None
    died_on: date | None = None
    version: int = 0  # events applied

    @property
    def closed(self) -> bool:
        return self.ended_on is not None or self.died_on is not None

    @property
    def status(self) -> str:
        if self.died_on is not None:
            return "deceased"
        if self.ended_on is not None:
            return "ended"
        return "agreed" if self.agreed else "indicative"

    @property
    def contribution_annual_pence(self) -> int:
        return self.contribution_weekly_pence * WEEKS_PER_YEAR

    @property
    def council_share_pence(self) -> int:
        """What the council funds: the agreed amount minus the other shares and the contribution."""
        return self.amount_pence - self.icb_pence - self.pooled_pence - self.contribution_annual_pence

    @property
    def routes_total_pence(self) -> int:
        return sum(r.amount_pence for r in self.routes.values())

    @property
    def committed_pence(self) -> int:
        return sum(o.commitment for o in self.orders.values())

    @property
    def spend_ceiling_pence(self) -> int:
        """How far commitments may go: the agreed amount plus any authorised overspend."""
        return self.amount_pence + self.overspend_limit_pence


@dataclass(slots=True)
class Provider:
    council_id: str
    provider_id: str
    name: str
    provider_type: str
    account_ref: str | None = None
    verified_by: str | None = None
    bank_changed_on: date | None = None
    version: int = 0


@dataclass(frozen=True)
class Context:
    """What a decision may read besides its own aggregate: the council's policy, the council's
    providers it names, and which budget holds each order id it names (order ids are unique per council)."""

    policy: CouncilPolicy = DEFAULT_POLICY
    providers: Mapping[str, Provider] = field(default_factory=dict)
    order_budgets: Mapping[str, str] = field(default_factory=dict)
