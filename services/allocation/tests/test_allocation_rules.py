"""Every rule of issue 3, one scenario per rejection code (given events / when command / then the
code), plus the accepted twin of each where the rule has a boundary. A reason code without a scenario
here fails `test_every_reason_code_has_a_scenario`, so a new rule cannot arrive untested.

DUPLICATE_CONFLICT is decided by the service layer (idempotency), not by an aggregate: its scenario
runs the batch decision (`service.process`), still without I/O.
"""
from __future__ import annotations

from datetime import date

import pytest
from allocation.adapters.wire import command_hash
from allocation.domain import reasons
from allocation.domain.policy import CouncilPolicy
from allocation.service.process import CONFLICT, DUPLICATE, Item, Loaded, process
from allocation_testkit import (
    COUNCIL,
    END,
    START,
    agreed,
    command,
    commission,
    commissioned,
    event,
    given,
    indicative,
    registered,
    then_accepted,
    then_rejected,
    when,
)
from careschemas.registry import make_envelope

DIED = event("PersonDied", budget_id="PB-1", person_ref="P-1", date_of_death=date(2026, 9, 14))
SPLIT = event("FundingSplitAgreed", budget_id="PB-1", icb_pence=30_000_00, pooled_pence=0, agreement_ref="s75")
DP_ROUTE = event("DeliveryRouteAllocated", budget_id="PB-1", route="direct_payment", amount_pence=52_000_00)


def revise(amount: int):
    return command("RevisePersonalBudget", budget_id="PB-1", amount_pence=amount, reason="review")


def agree(amount: int = 52_000_00, **kw):
    return command("AgreePersonalBudget", budget_id="PB-1", person_ref=kw.pop("person_ref", "P-1"), amount_pence=amount,
                   start_date=START, end_date=END, **kw)


# code -> (given events, command, extra `when` options): each must be refused with exactly that code.
SCENARIOS = {
    "UNKNOWN_BUDGET": ((indicative(),), revise(1), {}),
    "BUDGET_ALREADY_AGREED": ((agreed(),), agree(), {}),
    "PERSON_MISMATCH": ((indicative(person_ref="P-1"),), agree(person_ref="P-2"), {}),
    "UNKNOWN_PROVIDER": ((agreed(),), commission(provider_id="PR-9"), {}),
    "PROVIDER_ALREADY_REGISTERED": ((registered("PR-1"),), command("RegisterProvider", provider_id="PR-1",
                                                                    name="again", provider_type="charity"), {}),
    "UNKNOWN_ORDER": ((agreed(),), command("VaryServiceOrder", order_id="SO-7", budget_id="PB-1", rate_pence=1,
                                           planned_units_per_week=1, end_date=END), {}),
    "ORDER_EXISTS": ((agreed(), commissioned("SO-1")), commission("SO-1"), {}),
    "BUDGET_CLOSED": ((agreed(), DIED), revise(60_000_00), {}),
    "DEATH_ALREADY_RECORDED": ((agreed(), DIED), command("RecordDeath", budget_id="PB-1", person_ref="P-1",
                                                          date_of_death=date(2026, 9, 14)), {}),
    "ORDER_ENDED": ((agreed(), commissioned("SO-1"), event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1",
                                                           end_date=date(2026, 4, 14), reason="x")),
                    command("EndServiceOrder", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 10),
                            reason="again"), {}),
    "SPLIT_EXCEEDS_BUDGET": ((agreed(), SPLIT), revise(29_999_99), {}),
    "ROUTES_EXCEED_BUDGET": ((agreed(), DP_ROUTE), command("AllocateDeliveryRoute", budget_id="PB-1",
                                                           route="commissioned", amount_pence=1), {}),
    "INSUFFICIENT_BUDGET": ((agreed(amount=500_00),), commission(rate=2000, units=10), {}),
    "VARIANCE_REASON_REQUIRED": ((indicative(amount=50_000_00),), agree(52_000_00), {}),
    "INDICATIVE_MISMATCH": ((indicative(amount=50_000_00),), agree(50_000_00, indicative_pence=49_000_00), {}),
    "ORDER_OUTSIDE_BUDGET": ((agreed(),), commission(end=date(2027, 4, 1)), {}),
    "DATE_OUT_OF_RANGE": ((agreed(),), command("EndPersonalBudget", budget_id="PB-1", end_date=date(2027, 4, 1),
                                               reason="x"), {}),
    "CONTRIBUTION_MODE_NOT_ALLOWED": ((agreed(),), command("AssessContribution", budget_id="PB-1", weekly_pence=1,
                                                           mode="gross"),
                                      {"policy": CouncilPolicy(allowed_contribution_modes=frozenset({"netted"}))}),
    "HOLDER_REQUIRED": ((agreed(),), command("AllocateDeliveryRoute", budget_id="PB-1", route="isf",
                                             amount_pence=1), {}),
    "BANK_DETAILS_UNCHANGED": ((registered("PR-1"), event("ProviderBankDetailsChanged", provider_id="PR-1",
                                                          account_ref="tok-1", verified_by="a.b")),
                               command("ChangeProviderBankDetails", provider_id="PR-1", account_ref="tok-1",
                                       verified_by="c.d"), {}),
}

# The accepted twin at each money boundary: exactly at the limit is allowed.
AT_THE_LIMIT = {
    "SPLIT_EXCEEDS_BUDGET": ((agreed(), SPLIT), revise(30_000_00)),
    "ROUTES_EXCEED_BUDGET": ((agreed(), DP_ROUTE), command("AllocateDeliveryRoute", budget_id="PB-1",
                                                           route="direct_payment", amount_pence=52_000_00)),
    "INSUFFICIENT_BUDGET": ((agreed(amount=800_00),), commission(rate=2000, units=10)),
    "ORDER_OUTSIDE_BUDGET": ((agreed(),), commission(start=START, end=END, rate=1, units=1)),
}


def test_every_reason_code_has_a_scenario():
    # The two the service, not a rule, decides: test_allocation_process covers them.
    assert set(SCENARIOS) | {reasons.DUPLICATE_CONFLICT, reasons.POLICY_INVALID} == set(reasons.ALL)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_each_rule_refuses_with_its_own_code(code):
    events, cmd, options = SCENARIOS[code]
    then_rejected(when(given(*events), cmd, **options), code)


@pytest.mark.parametrize("code", sorted(AT_THE_LIMIT))
def test_exactly_at_the_limit_is_accepted(code):
    events, cmd = AT_THE_LIMIT[code]
    then_accepted(when(given(*events), cmd))


def test_a_reused_command_id_with_other_content_is_a_conflict_and_a_resend_is_not():
    def item(offset: int, amount: int) -> Item:
        cmd = command("RegisterProvider", provider_id="PR-1", name=f"Provider {amount}", provider_type="private")
        env = make_envelope(cmd, id="c-1", source="urn:test", subject="PR-1", council_id=COUNCIL, correlation_id="k")
        return Item("allocation.commands.v1", 0, offset, env, cmd, command_hash(env))

    outcomes = process([item(0, 1), item(1, 1), item(2, 2), item(3, 2)], Loaded())
    assert [o.kind for o in outcomes] == ["accepted", DUPLICATE, CONFLICT, DUPLICATE]
    assert outcomes[2].rejection.code == reasons.DUPLICATE_CONFLICT
