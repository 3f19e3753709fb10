"""Field types shared by every payload: strict pence, calendar dates, ids, reason codes, bank tokens."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careschemas.common import EXTERNAL_PROVIDER_TYPES, ProviderType

from schemas_testkit import DROP, invalid, valid

AGREED = "allocation.PersonalBudgetAgreed.v1"


@pytest.mark.parametrize("bad", [12.5, 12.0, "12", True, None, -1, [12], {"pence": 12}])
def test_pence_is_a_strict_non_negative_int(bad):
    invalid("allocation.IndicativeBudgetCalculated.v1", amount_pence=bad)


@pytest.mark.parametrize("bad", [0, -5])
def test_positive_pence_refuses_zero_and_negative(bad):
    invalid(AGREED, amount_pence=bad)


def test_zero_is_allowed_where_amounts_may_be_zero():
    assert valid("allocation.IndicativeBudgetCalculated.v1", amount_pence=0).amount_pence == 0
    assert valid("allocation.FundingSplitAgreed.v1", icb_pence=0, pooled_pence=0).icb_pence == 0


@settings(max_examples=40, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_float_is_ever_accepted_as_pence(value):
    invalid(AGREED, amount_pence=value)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=10**13))
def test_any_positive_int_is_accepted_as_pence(value):
    assert valid(AGREED, amount_pence=value).amount_pence == value


@pytest.mark.parametrize("bad", ["2025-13-01", "01/04/2025", "2025-4-1", 20250401, 1_743_465_600, "2025-04-01T00:00:00",
                                 datetime(2025, 4, 1, 12, 0), "", None])
def test_dates_are_calendar_dates_only(bad):
    invalid(AGREED, effective_date=bad)


def test_dates_accept_iso_strings_and_date_objects():
    assert valid(AGREED, effective_date="2025-04-02").effective_date == date(2025, 4, 2)
    assert valid(AGREED, effective_date=date(2025, 4, 2)).effective_date == date(2025, 4, 2)


@pytest.mark.parametrize("bad", ["", "has space", "a/b", "-leading", "x" * 129, 42])
def test_ids_follow_the_envelope_pattern(bad):
    invalid(AGREED, budget_id=bad)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 501])
def test_reasons_are_non_blank_text(bad):
    invalid("allocation.PersonalBudgetRevised.v1", reason=bad)


@pytest.mark.parametrize("bad", ["no_order", "No_Order", "NO-ORDER", "_NO", "NO__ORDER", ""])
def test_reason_codes_are_upper_snake(bad):
    invalid("invoices.InvoiceHeld.v1", reason_code=bad)


@pytest.mark.parametrize("raw", ["12345678", "12-34-56", "GB29NWBK60161331926819", "123456-12345678"])
def test_bank_details_travel_only_as_tokens(raw):
    invalid("allocation.ProviderBankDetailsChanged.v1", account_ref=raw)
    invalid("allocation.ChangeProviderBankDetails.v1", account_ref=raw)


def test_extra_fields_are_refused_everywhere():
    invalid(AGREED, surname="Smith")


def test_required_fields_are_required():
    invalid(AGREED, budget_id=DROP)
    invalid(AGREED, effective_date=DROP)


def test_payloads_are_frozen():
    budget = valid(AGREED)
    with pytest.raises(Exception):
        budget.amount_pence = 1  # type: ignore[misc]


def test_every_provider_type_but_in_house_is_external():
    assert EXTERNAL_PROVIDER_TYPES == set(ProviderType) - {ProviderType.in_house}
    assert {p.value for p in ProviderType} == {
        "in_house", "private", "charity", "social_enterprise", "mutual", "other_council", "nhs"}
