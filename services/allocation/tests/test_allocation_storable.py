"""Commands the wire contract accepts but PostgreSQL could not store are caught before the rules
(the ingest dead-letters them as INVALID_PAYLOAD instead of failing its batch for ever)."""
from __future__ import annotations

import pytest
from allocation.adapters.storable import MAX_NUMBER, unstorable
from allocation_testkit import END, START, command


def agree(**fields):
    values = {"budget_id": "PB-1", "person_ref": "P-1", "amount_pence": 1, "start_date": START, "end_date": END}
    return command("AgreePersonalBudget", **{**values, **fields})


def test_an_ordinary_command_is_storable():
    assert unstorable(agree(amount_pence=MAX_NUMBER, variance_reason="Night-time support")) is None


@pytest.mark.parametrize(("cmd", "field"), [
    (agree(amount_pence=MAX_NUMBER + 1), "amount_pence"),
    (agree(amount_pence=2**63), "amount_pence"),
    (command("CommissionServiceOrder", order_id="SO-1", budget_id="PB-1", provider_id="PR-1", service_type="x",
             unit="hour", rate_pence=1, planned_units_per_week=MAX_NUMBER + 1, payment_basis="invoice",
             start_date=START, end_date=END), "planned_units_per_week"),
    (agree(variance_reason="Night\x00care"), "variance_reason"),
    (command("RegisterProvider", provider_id="PR-1", name="Bad\x00Name", provider_type="private"), "name"),
    (command("AuthoriseOverspend", budget_id="PB-1", authoriser="a\x00b", limit_pence=1, reason="r"), "authoriser"),
])
def test_numbers_beyond_a_bigint_and_nul_characters_are_not_storable(cmd, field):
    problem = unstorable(cmd)
    assert problem is not None and problem.startswith(field)
