"""Allocation events and commands: valid examples and the invalid cases each family refuses."""
from __future__ import annotations

import pytest

from careschemas.allocation_commands import AgreePersonalBudget
from careschemas.allocation_events import PersonalBudgetAgreed, ServiceOrderCommissioned
from careschemas.common import ContributionMode, DeliveryRoute, PaymentBasis, Unit

from schemas_testkit import DROP, invalid, valid

AGREED = "allocation.PersonalBudgetAgreed.v1"
AGREE = "allocation.AgreePersonalBudget.v1"
ORDER = "allocation.ServiceOrderCommissioned.v1"
COMMISSION = "allocation.CommissionServiceOrder.v1"


def test_agreed_budget_keeps_indicative_and_variance():
    budget = valid(AGREED)
    assert isinstance(budget, PersonalBudgetAgreed)
    assert budget.amount_pence == 1_820_000 and budget.indicative_pence == 1_750_000
    assert budget.variance_reason
    assert valid(AGREED, indicative_pence=None, variance_reason=None).indicative_pence is None
    assert valid(AGREED, indicative_pence=DROP, variance_reason=DROP).variance_reason is None


@pytest.mark.parametrize("type_name", [AGREED, AGREE])
def test_budget_end_must_be_after_start(type_name):
    invalid(type_name, start_date="2025-04-01", end_date="2025-04-01")
    invalid(type_name, start_date="2025-04-01", end_date="2025-03-31")
    assert valid(type_name, start_date="2025-04-01", end_date="2025-04-02").end_date.isoformat() == "2025-04-02"


@pytest.mark.parametrize("type_name", [AGREED, AGREE])
def test_agreed_amount_is_positive_and_indicative_non_negative(type_name):
    invalid(type_name, amount_pence=0)
    invalid(type_name, indicative_pence=-1)
    assert valid(type_name, indicative_pence=0).indicative_pence == 0


def test_command_may_leave_the_indicative_amount_to_the_service():
    cmd = AgreePersonalBudget.model_validate({k: v for k, v in valid(AGREE).model_dump().items()
                                              if k not in ("indicative_pence", "variance_reason")})
    assert cmd.indicative_pence is None


@pytest.mark.parametrize("type_name", [ORDER, COMMISSION])
def test_service_order_dates_and_amounts(type_name):
    assert valid(type_name, start_date="2025-04-01", end_date="2025-04-01")  # a one-day order is fine
    invalid(type_name, start_date="2025-04-02", end_date="2025-04-01")
    invalid(type_name, rate_pence=0)
    invalid(type_name, rate_pence=24.5)
    invalid(type_name, planned_units_per_week=0)
    invalid(type_name, planned_units_per_week="14")
    invalid(type_name, unit="minute")
    invalid(type_name, payment_basis="monthly")


def test_service_order_enums():
    order = valid(ORDER, unit="quarter_hour", payment_basis="actuals")
    assert isinstance(order, ServiceOrderCommissioned)
    assert order.unit is Unit.quarter_hour and order.payment_basis is PaymentBasis.actuals
    assert {u.value for u in Unit} == {"hour", "quarter_hour", "night", "week", "session"}


def test_funding_split_and_contribution():
    assert valid("allocation.FundingSplitAgreed.v1", agreement_ref=None).agreement_ref is None
    invalid("allocation.FundingSplitAgreed.v1", icb_pence=-1)
    invalid("allocation.FundingSplitAgreed.v1", pooled_pence=1.5)
    assert valid("allocation.ContributionAssessed.v1", mode="gross").mode is ContributionMode.gross
    invalid("allocation.ContributionAssessed.v1", mode="net")
    invalid("allocation.ContributionAssessed.v1", weekly_pence=-100)


def test_delivery_routes():
    for route in ("direct_payment", "managed_account", "commissioned", "isf"):
        assert valid("allocation.DeliveryRouteAllocated.v1", route=route).route is DeliveryRoute(route)
    invalid("allocation.DeliveryRouteAllocated.v1", route="cash")


def test_provider_registration():
    assert valid("allocation.ProviderRegistered.v1", provider_type="mutual").provider_type == "mutual"
    invalid("allocation.ProviderRegistered.v1", provider_type="plc")
    invalid("allocation.ProviderRegistered.v1", name="x" * 121)
    invalid("allocation.ProviderRegistered.v1", name="")
    assert valid("allocation.ProviderRegistered.v1", name="x" * 120)


def test_bank_detail_change_names_the_verifier():
    invalid("allocation.ProviderBankDetailsChanged.v1", verified_by="")
    invalid("allocation.ProviderBankDetailsChanged.v1", verified_by=DROP)


def test_variation_death_overspend_and_rejection():
    invalid("allocation.ServiceOrderVaried.v1", rate_pence=-2600)
    invalid("allocation.PersonDied.v1", date_of_death="yesterday")
    invalid("allocation.OverspendAuthorised.v1", limit_pence=0)
    invalid("allocation.OverspendAuthorised.v1", authoriser=DROP)
    invalid("allocation.CommandRejected.v1", reason_code="unknown budget")
    invalid("allocation.CommandRejected.v1", command_type="AgreePersonalBudget")


def test_revision_and_end():
    invalid("allocation.PersonalBudgetRevised.v1", amount_pence=0)
    invalid("allocation.PersonalBudgetEnded.v1", end_date=DROP)
    invalid("allocation.EndServiceOrder.v1", reason="")
