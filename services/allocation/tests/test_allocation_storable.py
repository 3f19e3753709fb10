"""Commands the wire contract accepts but this service could not store or price are caught before the
rules (the ingest dead-letters them as INVALID_PAYLOAD instead of failing its batch for ever)."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from allocation.adapters.storable import MAX_NUMBER, unstorable
from allocation_testkit import (
    END, START, after, agreed, command, commission, commissioned, event, given, then_rejected, when,
)


def agree(**fields):
    values = {"budget_id": "PB-1", "person_ref": "P-1", "amount_pence": 1, "start_date": START, "end_date": END}
    return command("AgreePersonalBudget", **{**values, **fields})


def test_an_ordinary_command_is_storable():
    assert unstorable(agree(amount_pence=MAX_NUMBER, variance_reason="Night-time support")) is None
    assert unstorable(agree(start_date=date(1, 1, 2), end_date=date(9999, 12, 30))) is None


def test_numbers_beyond_a_bigint_counts_beyond_an_integer_and_nul_characters_never_get_this_far():
    """The contract refuses them (careschemas.common.MAX_INT, MAX_COUNT, WORDS): the codec dead-letters them as
    INVALID_PAYLOAD before this check, which is left with what the contract allows and this service does not."""
    with pytest.raises(ValidationError):
        agree(amount_pence=2**63)
    with pytest.raises(ValidationError):
        agree(variance_reason="Night\x00care")
    with pytest.raises(ValidationError):
        command("RegisterProvider", provider_id="PR-1", name="Bad\x00Name", provider_type="private")
    with pytest.raises(ValidationError):
        command("AuthoriseOverspend", budget_id="PB-1", authoriser="a\x00b", limit_pence=1, reason="r")
    with pytest.raises(ValidationError):
        command("CommissionServiceOrder", order_id="SO-1", budget_id="PB-1", provider_id="PR-1", service_type="x",
                unit="hour", rate_pence=1, planned_units_per_week=2**31, payment_basis="invoice",
                start_date=START, end_date=END)


def test_a_nul_character_in_a_payload_built_in_code_is_still_caught():
    """Not from the wire any more (the contract refuses it), but a payload made without validation is checked too."""
    valid = agree()
    built = type(valid).model_construct(**{**valid.__dict__, "variance_reason": "Night\x00care"})
    assert unstorable(built).startswith("variance_reason contains a NUL character")


def test_an_order_ending_on_the_calendars_last_day_could_not_be_varied():
    """Why the calendar's edges are refused: re-pricing steps a day past the order's end."""
    budget = given(agreed(end_date=date.max), commissioned(end=date.max))
    with pytest.raises(OverflowError):
        when(budget, command("VaryServiceOrder", order_id="SO-1", budget_id="PB-1", rate_pence=1,
                             planned_units_per_week=1, end_date=date.max))


@pytest.mark.parametrize(("cmd", "field"), [
    (agree(amount_pence=MAX_NUMBER + 1), "amount_pence"),
    (command("CommissionServiceOrder", order_id="SO-1", budget_id="PB-1", provider_id="PR-1", service_type="x",
             unit="hour", rate_pence=MAX_NUMBER + 1, planned_units_per_week=1, payment_basis="invoice",
             start_date=START, end_date=END), "rate_pence"),
    (agree(end_date=date.max), "end_date"),  # "open-ended" as 9999-12-31
    (agree(start_date=date.min), "start_date"),
])
def test_big_numbers_and_the_calendars_edges_are_caught(cmd, field):
    problem = unstorable(cmd)
    assert problem is not None and problem.startswith(field)


def test_sums_of_numbers_within_the_largest_stay_far_inside_a_bigint():
    """Why the allocation service needs no check of its own sums: with every number at most MAX_NUMBER,
    commitments are refused beyond the agreed amount plus the authorised overspend (2 x MAX_NUMBER at
    most), and the other sums (contribution x 52, shares, routes) are only compared, never stored."""
    budget = given(agreed(amount=MAX_NUMBER, end_date=date(2027, 3, 31)),
                   event("OverspendAuthorised", budget_id="PB-1", authoriser="head.of.service",
                         limit_pence=MAX_NUMBER, reason="r"))
    priciest = commission(rate=MAX_NUMBER, units=2**31 - 1, end=date(2027, 3, 31))  # ~10^29 pence over the year
    then_rejected(when(budget, priciest), "INSUFFICIENT_BUDGET")
    fills = commission(rate=2 * MAX_NUMBER // 365, units=7, end=date(2027, 3, 31))  # 365 days at 7 a week
    budget = after(budget, when(budget, fills))
    assert budget.committed_pence <= 2 * MAX_NUMBER < 2**63 - 1
    then_rejected(when(budget, command("AssessContribution", budget_id="PB-1", weekly_pence=MAX_NUMBER,
                                       mode="gross")), "SPLIT_EXCEEDS_BUDGET")
