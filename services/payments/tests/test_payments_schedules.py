"""Direct-payment schedules: due periods in advance, netting, suspension/resumption, stop at end or death."""
from __future__ import annotations

from datetime import date, timedelta

from payments.domain.model import BudgetView, Schedule
from payments.domain.schedules import falling_due, is_finished, periods_in_full, resume

D0 = date(2026, 4, 6)


def budget(**kw) -> BudgetView:
    return BudgetView(**{"budget_id": "PB-1", "person_ref": "P-1", "start_date": D0, "end_date": date(2027, 4, 4),
                         **kw})


def schedule(**kw) -> Schedule:
    return Schedule(**{"schedule_id": "S-1", "budget_id": "PB-1", "amount_pence": 100_000, "frequency_weeks": 4,
                       "first_due_date": D0, "end_date": date(2027, 4, 4), "contribution_mode": "gross", **kw})


def test_four_weekly_in_advance_from_the_first_due_date():
    due, nxt = falling_due(schedule(), budget(), D0 + timedelta(weeks=8))
    assert [(d.period, d.due_date, d.amount_pence) for d in due] == [
        (0, D0, 100_000), (1, D0 + timedelta(weeks=4), 100_000), (2, D0 + timedelta(weeks=8), 100_000)]
    assert nxt == 3
    assert due[0].payment_id == "S-1-P000"


def test_the_next_call_starts_where_the_last_stopped_so_no_period_repeats_or_is_skipped():
    s = schedule()
    seen = []
    for day in (D0, D0 + timedelta(days=3), D0 + timedelta(weeks=9), D0 + timedelta(weeks=30)):
        due, s.next_period = falling_due(s, budget(), day)
        seen += [d.period for d in due]
    assert seen == list(range(8))


def test_a_council_frequency_of_two_weeks():
    due, _ = falling_due(schedule(frequency_weeks=2, amount_pence=50_000), budget(), D0 + timedelta(weeks=4))
    assert [d.due_date for d in due] == [D0, D0 + timedelta(weeks=2), D0 + timedelta(weeks=4)]


def test_netted_pays_gross_minus_the_contribution_for_the_period_and_gross_pays_in_full():
    b = budget(contribution_weekly_pence=2_500, contribution_mode="netted")
    netted, _ = falling_due(schedule(contribution_mode="netted"), b, D0)
    gross, _ = falling_due(schedule(contribution_mode="gross"), b, D0)
    assert netted[0].amount_pence == 100_000 - 4 * 2_500
    assert gross[0].amount_pence == 100_000


def test_a_contribution_larger_than_the_payment_pays_nothing_but_moves_on():
    due, nxt = falling_due(schedule(contribution_mode="netted"), budget(contribution_weekly_pence=30_000), D0)
    assert due == [] and nxt == 1


def test_stops_at_the_budget_end_whole_periods_only():
    b = budget(end_date=D0 + timedelta(weeks=10))  # periods 0 and 1 end inside, period 2 does not
    due, nxt = falling_due(schedule(), b, D0 + timedelta(weeks=52))
    assert [d.period for d in due] == [0, 1] and nxt == 2
    assert periods_in_full(schedule(), b) == 2


def test_stops_at_an_early_ending_and_at_death():
    ended = budget(ended_on=D0 + timedelta(weeks=8, days=-1))
    assert [d.period for d in falling_due(schedule(), ended, D0 + timedelta(weeks=52))[0]] == [0, 1]
    died = budget(died_on=D0 + timedelta(weeks=5))  # period 1 (due week 4) started before the death
    due, _ = falling_due(schedule(), died, D0 + timedelta(weeks=52))
    assert [d.period for d in due] == [0, 1]
    s = schedule(next_period=2)
    assert is_finished(s, died)


def test_suspended_makes_nothing_due_and_resuming_skips_what_fell_due_meanwhile():
    s = schedule(status="suspended", next_period=1)
    assert falling_due(s, budget(), D0 + timedelta(weeks=20)) == ([], 1)
    s.next_period = resume(s, D0 + timedelta(weeks=9))  # periods 1, 2 were missed
    s.status = "active"
    due, _ = falling_due(s, budget(), D0 + timedelta(weeks=12))
    assert [d.period for d in due] == [3]


def test_a_schedule_in_the_calendars_last_weeks_stops_where_its_next_period_would_end_beyond_9999():
    """Period 2 would end on 10000-01-06, a day Python cannot make: it is not payable, and nothing fails."""
    last = date(9999, 12, 30)
    s = schedule(frequency_weeks=1, first_due_date=date(9999, 12, 17), end_date=date.max)
    b = budget(end_date=last)
    due, s.next_period = falling_due(s, b, date.max)
    assert [(d.period, d.due_date) for d in due] == [(0, date(9999, 12, 17)), (1, date(9999, 12, 24))]
    assert s.next_period == 2 and is_finished(s, b) and periods_in_full(s, b) == 2
    four_weekly = schedule(first_due_date=date(9999, 12, 20), end_date=date.max)  # its first period ends in 10000
    assert falling_due(four_weekly, budget(end_date=date.max), date.max) == ([], 0)
    assert is_finished(four_weekly, budget(end_date=date.max)) and resume(four_weekly, date.max) == 1
