"""Given events / when command / then events: service orders and the commitments they make."""
from __future__ import annotations

from datetime import date

from allocation.domain import reasons
from allocation.domain.model import weekly_commitment
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
    then,
    then_accepted,
    then_rejected,
    when,
)


def authorised(limit: int):
    return event("OverspendAuthorised", budget_id="PB-1", authoriser="head.of.asc", limit_pence=limit,
                 reason="Hospital discharge")


def vary(rate: int = 2000, units: int = 10, end: date = date(2026, 4, 28), on: date = START, order_id="SO-1"):
    return command("VaryServiceOrder", order_id=order_id, budget_id="PB-1", rate_pence=rate,
                   planned_units_per_week=units, end_date=end, effective_date=on)


def varied(rate: int = 2000, units: int = 10, end: date = date(2026, 4, 28), on: date = START):
    return event("ServiceOrderVaried", order_id="SO-1", budget_id="PB-1", rate_pence=rate,
                 planned_units_per_week=units, end_date=end, effective_date=on)


def end_order(on: date, order_id: str = "SO-1"):
    return command("EndServiceOrder", order_id=order_id, budget_id="PB-1", end_date=on, reason="No longer needed")


# -- the commitment formula ------------------------------------------------------------------------

def test_a_commitment_is_rate_times_units_per_week_times_days_over_seven_rounded_down():
    assert weekly_commitment(2000, 10, START, date(2026, 4, 28)) == 80_000  # 28 days
    assert weekly_commitment(2450, 14, START, START) == 2450 * 14 // 7  # one day
    assert weekly_commitment(1001, 1, START, date(2026, 4, 2)) == 286  # 2002 / 7 = 286.0
    assert weekly_commitment(1000, 1, START, date(2026, 4, 2)) == 285  # 2000 / 7 = 285.7, down
    assert weekly_commitment(2000, 10, START, date(2026, 3, 31)) == 0  # ends the day before it starts
    assert weekly_commitment(2000, 10, START, date(2026, 3, 1)) == 0  # ended long before: never negative


# -- commission -----------------------------------------------------------------------------------------

def test_commissioning_within_the_budget():
    then(when(given(agreed(amount=80_000)), commission()), commissioned())


def test_commitments_beyond_the_budget_are_refused():
    then_rejected(when(given(agreed(amount=79_999)), commission()), reasons.INSUFFICIENT_BUDGET)


def test_commitments_of_all_orders_count_together():
    state = given(agreed(amount=100_000), commissioned("SO-1"))  # 80,000
    then_rejected(when(state, commission("SO-2", rate=5000, units=2, end=date(2026, 4, 15))),  # 15 days: 21,428
                  reasons.INSUFFICIENT_BUDGET)
    then_accepted(when(state, commission("SO-2", rate=5000, units=2, end=date(2026, 4, 14))))  # 14 days: 20,000


def test_an_authorised_overspend_lets_commitments_go_beyond_the_budget_up_to_its_limit():
    state = given(agreed(amount=50_000), authorised(30_000))
    then(when(state, commission()), commissioned())
    then_rejected(when(given(agreed(amount=50_000), authorised(29_999)), commission()), reasons.INSUFFICIENT_BUDGET)


def test_an_order_must_lie_within_the_budget_dates():
    state = given(agreed())
    then_rejected(when(state, commission(start=date(2026, 3, 31))), reasons.ORDER_OUTSIDE_BUDGET)
    then_rejected(when(state, commission(end=date(2027, 4, 1))), reasons.ORDER_OUTSIDE_BUDGET)
    then_accepted(when(state, commission(rate=1, units=1, start=START, end=END)))


def test_the_provider_must_be_registered():
    then_rejected(when(given(agreed()), commission(), providers=()), reasons.UNKNOWN_PROVIDER)


def test_an_order_id_is_used_once_in_the_council():
    then_rejected(when(given(agreed(), commissioned()), commission()), reasons.ORDER_EXISTS)
    then_rejected(when(given(agreed()), commission(), order_budgets={"SO-1": "PB-OTHER"}), reasons.ORDER_EXISTS)


def test_an_order_needs_an_agreed_budget():
    then_rejected(when(None, commission()), reasons.UNKNOWN_BUDGET)


# -- vary ---------------------------------------------------------------------------------------------

def test_varying_reprices_the_order_from_the_effective_date():
    state = given(agreed(amount=100_000), commissioned())
    decision = when(state, vary(units=5, on=date(2026, 4, 15)))
    then(decision, varied(units=5, on=date(2026, 4, 15)))
    assert after(state, decision).committed_pence == 40_000 + 20_000  # two weeks at 10 h, two at 5 h


def test_a_variation_that_raises_commitments_beyond_the_budget_is_refused():
    state = given(agreed(amount=100_000), commissioned())  # 80,000
    then_rejected(when(state, vary(units=20, on=date(2026, 4, 15))), reasons.INSUFFICIENT_BUDGET)  # 120,000
    then_accepted(when(state, vary(units=15, on=date(2026, 4, 15))))  # 40,000 + 60,000


def test_a_variation_that_lowers_commitments_is_allowed_even_over_budget():
    # Facts recorded before a stricter rule (or an authorisation since withdrawn) can leave a budget over
    # its ceiling; bringing commitments down must never be refused for it.
    state = given(agreed(amount=50_000), commissioned())  # 80,000 committed on 50,000
    then_accepted(when(state, vary(units=5, on=date(2026, 4, 15))))
    then_rejected(when(state, vary(units=11, on=date(2026, 4, 15))), reasons.INSUFFICIENT_BUDGET)


def test_a_variation_may_extend_an_order_but_not_past_the_budget():
    state = given(agreed(), commissioned())
    then_accepted(when(state, vary(end=END)))
    then_rejected(when(state, vary(end=date(2027, 4, 1))), reasons.ORDER_OUTSIDE_BUDGET)
    then_rejected(when(state, vary(end=date(2026, 3, 31))), reasons.DATE_OUT_OF_RANGE)


def test_only_a_known_active_order_is_varied():
    then_rejected(when(given(agreed()), vary()), reasons.UNKNOWN_ORDER)
    state = given(agreed(), commissioned(),
                  event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 14), reason="r"))
    then_rejected(when(state, vary()), reasons.ORDER_ENDED)


# -- end ------------------------------------------------------------------------------------------------

def test_ending_an_order_early_releases_the_rest_of_its_commitment():
    state = given(agreed(amount=100_000), commissioned())
    decision = when(state, end_order(date(2026, 4, 14)))
    then(decision, event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 14),
                         reason="No longer needed"))
    assert after(state, decision).committed_pence == 40_000


def test_ending_cannot_lengthen_an_order():
    then_rejected(when(given(agreed(), commissioned()), end_order(date(2026, 4, 29))), reasons.DATE_OUT_OF_RANGE)


def test_an_order_ends_once():
    state = given(agreed(), commissioned(),
                  event("ServiceOrderEnded", order_id="SO-1", budget_id="PB-1", end_date=date(2026, 4, 14), reason="r"))
    then_rejected(when(state, end_order(date(2026, 4, 10))), reasons.ORDER_ENDED)
    then_rejected(when(given(agreed()), end_order(date(2026, 4, 10))), reasons.UNKNOWN_ORDER)


def test_ending_an_order_is_a_closing_command_accepted_after_death():
    state = given(agreed(), commissioned(end=date(2026, 12, 31)),
                  event("PersonDied", budget_id="PB-1", person_ref="P-1", date_of_death=date(2026, 12, 1)))
    then_accepted(when(state, end_order(date(2026, 11, 30))))


def test_applying_an_order_event_twice_leaves_the_same_commitment():
    state = given(agreed(amount=100_000), commissioned(), varied(units=5, on=date(2026, 4, 15)))
    again = after(state, [varied(units=5, on=date(2026, 4, 15))])
    assert again.committed_pence == 60_000


def test_a_commissioned_order_keeps_its_terms():
    state = given(agreed())
    decision = when(state, commission(rate=2450, units=14, unit="hour", payment_basis="actuals",
                                      service_type="home_care"))
    order = after(state, decision).orders["SO-1"]
    assert (order.provider_id, order.service_type, order.unit, order.rate_pence, order.planned_units_per_week,
            order.payment_basis, order.start_date, order.end_date, order.status) == (
        "PR-1", "home_care", "hour", 2450, 14, "actuals", START, date(2026, 4, 28), "active")
