"""Given events / when command / then events: a personal budget's life and money, with no I/O."""
from __future__ import annotations

from datetime import date

import pytest
from allocation.domain import reasons
from allocation.domain.policy import CouncilPolicy
from allocation.service.summary import budget_summary
from allocation_testkit import (
    END,
    START,
    after,
    agreed,
    command,
    commission,
    commissioned,
    event,
    given,
    indicative,
    then,
    then_accepted,
    then_rejected,
    when,
)

# -- indicative and agreed amounts -----------------------------------------------------------------


def test_an_indicative_budget_is_recorded_for_a_new_budget():
    cmd = command("CalculateIndicativeBudget", budget_id="PB-1", person_ref="P-1", amount_pence=50_000_00,
                  ras_version="RAS-1")
    then(when(None, cmd), indicative())


def test_an_indicative_budget_may_be_recalculated_while_the_budget_is_open():
    cmd = command("CalculateIndicativeBudget", budget_id="PB-1", person_ref="P-1", amount_pence=55_000_00,
                  ras_version="RAS-2")
    then(when(given(indicative(), agreed()), cmd), indicative(amount=55_000_00, ras_version="RAS-2"))


def test_an_indicative_budget_for_another_person_is_refused():
    cmd = command("CalculateIndicativeBudget", budget_id="PB-1", person_ref="P-2", amount_pence=1,
                  ras_version="RAS-1")
    then_rejected(when(given(indicative()), cmd), reasons.PERSON_MISMATCH)


def agree(amount: int = 52_000_00, **kw):
    kw.setdefault("start_date", START)
    kw.setdefault("end_date", END)
    kw.setdefault("person_ref", "P-1")
    return command("AgreePersonalBudget", budget_id="PB-1", amount_pence=amount, **kw)


def test_agreeing_a_budget_without_an_indicative_amount():
    then(when(None, agree()), agreed())


def test_agreeing_carries_the_calculated_indicative_amount_and_the_reason_they_differ():
    decision = when(given(indicative(amount=50_000_00)), agree(variance_reason="Night-time support"))
    then(decision, agreed(indicative_pence=50_000_00, variance_reason="Night-time support"))


def test_an_agreed_amount_different_from_the_indicative_needs_a_reason():
    then_rejected(when(given(indicative(amount=50_000_00)), agree()), reasons.VARIANCE_REASON_REQUIRED)


def test_the_same_amount_as_the_indicative_needs_no_reason():
    then(when(given(indicative(amount=52_000_00)), agree()), agreed(indicative_pence=52_000_00))


def test_a_council_tolerance_lets_small_variances_pass_without_a_reason():
    policy = CouncilPolicy(variance_tolerance_bp=500)  # 5 %
    then(when(given(indicative(amount=50_000_00)), agree(52_500_00), policy=policy),
         agreed(amount=52_500_00, indicative_pence=50_000_00))
    then_rejected(when(given(indicative(amount=50_000_00)), agree(52_500_01), policy=policy),
                  reasons.VARIANCE_REASON_REQUIRED)


def test_an_indicative_amount_in_the_command_must_match_the_calculated_one():
    then_rejected(when(given(indicative(amount=50_000_00)), agree(indicative_pence=49_000_00,
                                                                  variance_reason="x")),
                  reasons.INDICATIVE_MISMATCH)


def test_a_budget_is_agreed_only_once():
    then_rejected(when(given(agreed()), agree()), reasons.BUDGET_ALREADY_AGREED)


def test_agreeing_for_another_person_than_the_indicative_one_is_refused():
    then_rejected(when(given(indicative(person_ref="P-9", amount=52_000_00)), agree()), reasons.PERSON_MISMATCH)


# -- revision ---------------------------------------------------------------------------------------

def revise(amount: int):
    return command("RevisePersonalBudget", budget_id="PB-1", amount_pence=amount, reason="Annual review")


def test_revising_an_agreed_budget():
    then(when(given(agreed()), revise(60_000_00)),
         event("PersonalBudgetRevised", budget_id="PB-1", amount_pence=60_000_00, reason="Annual review"))


def test_revising_an_unknown_or_merely_indicative_budget_is_refused():
    then_rejected(when(None, revise(1)), reasons.UNKNOWN_BUDGET)
    then_rejected(when(given(indicative()), revise(1)), reasons.UNKNOWN_BUDGET)


def test_a_revision_below_the_other_funders_shares_is_refused():
    state = given(agreed(amount=10_000_00), event("FundingSplitAgreed", budget_id="PB-1", icb_pence=6_000_00,
                                                  pooled_pence=2_000_00))
    then_rejected(when(state, revise(7_999_99)), reasons.SPLIT_EXCEEDS_BUDGET)
    then(when(state, revise(8_000_00)),
         event("PersonalBudgetRevised", budget_id="PB-1", amount_pence=8_000_00, reason="Annual review"))


def test_a_revision_below_the_delivery_routes_is_refused():
    state = given(agreed(amount=10_000_00), route("direct_payment", 9_000_00))
    then_rejected(when(state, revise(8_999_99)), reasons.ROUTES_EXCEED_BUDGET)


def test_a_revision_below_the_commitments_is_refused_unless_authorised():
    state = given(agreed(amount=100_000), commissioned(rate=2000, units=10))  # 80,000 committed
    then_rejected(when(state, revise(79_999)), reasons.INSUFFICIENT_BUDGET)
    state = given(agreed(amount=100_000), commissioned(rate=2000, units=10),
                  event("OverspendAuthorised", budget_id="PB-1", authoriser="Head of ASC", limit_pence=10_000,
                        reason="Hospital discharge"))
    then_accepted(when(state, revise(70_000)))
    then_rejected(when(state, revise(69_999)), reasons.INSUFFICIENT_BUDGET)


# -- PB = shares + contribution ------------------------------------------------------------------------

def split(icb: int, pooled: int = 0):
    return command("AgreeFundingSplit", budget_id="PB-1", icb_pence=icb, pooled_pence=pooled,
                   agreement_ref="S75-1")


def contribution(weekly: int, mode: str = "netted"):
    return command("AssessContribution", budget_id="PB-1", weekly_pence=weekly, mode=mode)


def test_a_funding_split_leaves_the_council_the_remainder():
    state = given(agreed(amount=52_000_00))
    decision = when(state, split(20_000_00, 2_000_00))
    then(decision, event("FundingSplitAgreed", budget_id="PB-1", icb_pence=20_000_00, pooled_pence=2_000_00,
                         agreement_ref="S75-1"))
    assert after(state, decision).council_share_pence == 30_000_00


def test_shares_that_would_leave_the_council_below_zero_are_refused():
    then_rejected(when(given(agreed(amount=52_000_00)), split(50_000_00, 2_000_01)), reasons.SPLIT_EXCEEDS_BUDGET)


def test_the_whole_budget_may_be_funded_by_the_nhs():
    then(when(given(agreed(amount=52_000_00)), split(52_000_00)),
         event("FundingSplitAgreed", budget_id="PB-1", icb_pence=52_000_00, pooled_pence=0, agreement_ref="S75-1"))


def test_a_contribution_counts_52_weeks_against_the_budget():
    state = given(agreed(amount=52_000_00), event("FundingSplitAgreed", budget_id="PB-1", icb_pence=50_000_00,
                                                  pooled_pence=0))
    decision = when(state, contribution(3_846))  # 3,846 x 52 = 199,992 <= 200,000
    then(decision, event("ContributionAssessed", budget_id="PB-1", weekly_pence=3_846, mode="netted"))
    assert after(state, decision).council_share_pence == 8
    then_rejected(when(state, contribution(3_847)), reasons.SPLIT_EXCEEDS_BUDGET)


def test_a_split_must_leave_room_for_the_assessed_contribution():
    state = given(agreed(amount=52_000_00), event("ContributionAssessed", budget_id="PB-1", weekly_pence=10_000,
                                                  mode="gross"))  # 5,200,00 a year
    then_rejected(when(state, split(46_800_01)), reasons.SPLIT_EXCEEDS_BUDGET)
    then_accepted(when(state, split(46_800_00)))


def test_a_council_may_allow_only_netted_contributions():
    policy = CouncilPolicy(allowed_contribution_modes=frozenset({"netted"}))
    then_rejected(when(given(agreed()), contribution(2_500, "gross"), policy=policy),
                  reasons.CONTRIBUTION_MODE_NOT_ALLOWED)
    then(when(given(agreed()), contribution(2_500, "netted"), policy=policy),
         event("ContributionAssessed", budget_id="PB-1", weekly_pence=2_500, mode="netted"))


# -- delivery routes ---------------------------------------------------------------------------------

def route(kind: str, amount: int, holder_ref: str | None = None, as_command: bool = False):
    name = "AllocateDeliveryRoute" if as_command else "DeliveryRouteAllocated"
    build = command if as_command else event
    return build(name, budget_id="PB-1", route=kind, amount_pence=amount, holder_ref=holder_ref)


def test_routes_may_mix_up_to_the_budget():
    state = given(agreed(amount=10_000_00), route("direct_payment", 6_000_00))
    then(when(state, route("commissioned", 4_000_00, as_command=True)), route("commissioned", 4_000_00))
    then_rejected(when(state, route("commissioned", 4_000_01, as_command=True)), reasons.ROUTES_EXCEED_BUDGET)


def test_allocating_a_route_again_replaces_its_amount():
    state = given(agreed(amount=10_000_00), route("direct_payment", 6_000_00))
    decision = when(state, route("direct_payment", 10_000_00, as_command=True))
    then(decision, route("direct_payment", 10_000_00))
    assert after(state, decision).routes_total_pence == 10_000_00


def test_a_zero_amount_takes_a_route_away():
    state = given(agreed(amount=10_000_00), route("direct_payment", 6_000_00))
    assert after(state, when(state, route("direct_payment", 0, as_command=True))).routes == {}


@pytest.mark.parametrize("kind", ["managed_account", "isf"])
def test_money_held_by_a_third_party_must_name_the_holder(kind):
    state = given(agreed())
    then_rejected(when(state, route(kind, 1_000, as_command=True)), reasons.HOLDER_REQUIRED)
    then(when(state, route(kind, 1_000, "ISF-7", as_command=True)), route(kind, 1_000, "ISF-7"))


# -- overspend authorisation --------------------------------------------------------------------------

def authorise(limit: int):
    return command("AuthoriseOverspend", budget_id="PB-1", authoriser="head.of.asc", limit_pence=limit,
                   reason="End of life care")


def test_an_overspend_is_authorised_by_a_named_authoriser_up_to_a_limit():
    then(when(given(agreed()), authorise(5_000)),
         event("OverspendAuthorised", budget_id="PB-1", authoriser="head.of.asc", limit_pence=5_000,
               reason="End of life care"))


def test_a_limit_cannot_be_lowered_below_what_is_already_committed_beyond_the_budget():
    state = given(agreed(amount=50_000), event("OverspendAuthorised", budget_id="PB-1", authoriser="a",
                                               limit_pence=30_000, reason="r"), commissioned(rate=2000, units=10))
    then_rejected(when(state, authorise(29_999)), reasons.INSUFFICIENT_BUDGET)
    then_accepted(when(state, authorise(30_000)))


# -- death, end, and nothing after them but the closing commands ----------------------------------------

def died(on: date = date(2026, 9, 14)):
    return event("PersonDied", budget_id="PB-1", person_ref="P-1", date_of_death=on)


def record_death(on: date = date(2026, 9, 14), person_ref: str = "P-1"):
    return command("RecordDeath", budget_id="PB-1", person_ref=person_ref, date_of_death=on)


def end_budget(on: date = date(2026, 9, 30)):
    return command("EndPersonalBudget", budget_id="PB-1", end_date=on, reason="Moved away")


def test_a_death_ends_the_orders_that_run_past_it():
    state = given(agreed(), commissioned("SO-1", end=date(2026, 12, 31)), commissioned("SO-2", end=date(2026, 5, 31)))
    then(when(state, record_death()), died(), event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1",
                                                    end_date=date(2026, 9, 14), reason="Person died"))


def test_a_death_for_another_person_or_recorded_twice_is_refused():
    then_rejected(when(given(agreed()), record_death(person_ref="P-2")), reasons.PERSON_MISMATCH)
    then_rejected(when(given(agreed(), died()), record_death()), reasons.DEATH_ALREADY_RECORDED)


def test_a_death_is_recorded_on_an_ended_budget_too():
    state = given(agreed(), event("PersonalBudgetEnded", budget_id="PB-1", end_date=date(2026, 6, 30), reason="x"))
    then(when(state, record_death()), died())


def test_ending_a_budget_first_ends_the_orders_that_run_past_it():
    state = given(agreed(), commissioned("SO-1", end=date(2026, 12, 31)))
    then(when(state, end_budget()),
         event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 9, 30),
               reason="Budget ended: Moved away"),
         event("PersonalBudgetEnded", budget_id="PB-1", end_date=date(2026, 9, 30), reason="Moved away"))


def test_a_budget_ends_within_its_dates_and_only_once():
    then_rejected(when(given(agreed()), end_budget(date(2027, 4, 1))), reasons.DATE_OUT_OF_RANGE)
    then_rejected(when(given(agreed()), end_budget(date(2026, 3, 31))), reasons.DATE_OUT_OF_RANGE)
    state = given(agreed(), event("PersonalBudgetEnded", budget_id="PB-1", end_date=date(2026, 9, 30), reason="x"))
    then_rejected(when(state, end_budget()), reasons.BUDGET_CLOSED)


def test_a_budget_is_ended_after_a_death():
    then(when(given(agreed(), died()), end_budget()),
         event("PersonalBudgetEnded", budget_id="PB-1", end_date=date(2026, 9, 30), reason="Moved away"))


CHANGES = [
    revise(60_000_00), split(1), contribution(1), route("direct_payment", 1, as_command=True), authorise(1),
    command("CalculateIndicativeBudget", budget_id="PB-1", person_ref="P-1", amount_pence=1, ras_version="R"),
    command("CommissionServiceOrder", order_id="SO-9", budget_id="PB-1", provider_id="PR-1", service_type="x",
            unit="hour", rate_pence=1, planned_units_per_week=1, payment_basis="invoice", start_date=START,
            end_date=START),
    command("VaryServiceOrder", order_id="SO-1", budget_id="PB-1", rate_pence=1, planned_units_per_week=1,
            end_date=date(2026, 4, 28)),
]


@pytest.mark.parametrize("closing", [died(), event("PersonalBudgetEnded", budget_id="PB-1",
                                                   end_date=date(2026, 9, 30), reason="x")], ids=["died", "ended"])
@pytest.mark.parametrize("cmd", CHANGES, ids=lambda c: type(c).__name__)
def test_nothing_changes_after_death_or_end_except_by_the_closing_commands(closing, cmd):
    then_rejected(when(given(agreed(), commissioned("SO-1"), closing), cmd), reasons.BUDGET_CLOSED)


# -- what the accepted events leave in the budget (gaps found by mutation: docs/allocation-test-matrix.md) --

def test_a_revision_sets_the_amount_later_commands_are_judged_by():
    state = given(agreed(amount=50_000))
    revised = after(state, when(state, revise(100_000)))
    assert revised.amount_pence == 100_000
    then_accepted(when(revised, commission()))  # 80,000: over the old amount, within the new one


def test_a_reassessed_contribution_replaces_the_amount_and_the_mode():
    state = given(agreed(), event("ContributionAssessed", budget_id="PB-1", weekly_pence=2_500, mode="netted"))
    reassessed = after(state, when(state, contribution(3_000, "gross")))
    assert (reassessed.contribution_weekly_pence, reassessed.contribution_mode) == (3_000, "gross")
    assert budget_summary(reassessed)["funding"]["contribution_mode"] == "gross"


def test_the_authoriser_and_the_limit_are_kept_and_shown():
    state = given(agreed())
    summary = budget_summary(after(state, when(state, authorise(5_000))))
    assert (summary["overspend_limit_pence"], summary["overspend_authoriser"]) == (5_000, "head.of.asc")


def test_an_ended_budget_shows_the_day_it_ended_as_its_end():
    state = given(agreed())
    ended = after(state, when(state, end_budget(date(2026, 9, 30))))
    assert (ended.end_date, ended.ended_on, ended.status) == (date(2026, 9, 30), date(2026, 9, 30), "ended")


def test_a_death_ends_again_an_order_already_ended_after_it():
    """An order ended as of 30 Nov keeps nothing committed after a death on 14 Sep: it is ended again,
    earlier (the ledger accepts the shorter end from rule version 2026.2). One ended before the death is
    left alone."""
    state = given(agreed(), commissioned("SO-1", end=date(2026, 12, 31)), commissioned("SO-2", end=date(2026, 12, 31)),
                  event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 11, 30),
                        reason="Moving to residential care"),
                  event("ServiceOrderEnded", order_id="SO-2", budget_id="PB-1", end_date=date(2026, 8, 31),
                        reason="No longer needed"))
    committed_until_november = state.orders["SO-1"].commitment
    decision = when(state, record_death())
    then(decision, died(), event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1",
                                 end_date=date(2026, 9, 14), reason="Person died"))
    ended = after(state, decision).orders["SO-1"]
    assert (ended.status, ended.end_date) == ("ended", date(2026, 9, 14))
    assert ended.commitment < committed_until_november
