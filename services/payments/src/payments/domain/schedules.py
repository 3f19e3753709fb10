"""Direct-payment schedules: which periods fall due by a date, what each pays, suspension, resumption
and the stop at the budget's end or the person's death. Pure functions of a Schedule and a BudgetView.

Payments are in advance: period n is paid on its due date first_due_date + n x frequency_weeks weeks
and covers the frequency_weeks weeks from then. A period is paid only when it ends on or before the
schedule's end and the budget's end or ending (the ledger commits the same whole periods), and starts
on or before the date of death (a period paid in advance before a death is not clawed back here). Netted: the period pays the gross amount minus the contribution for the period's
weeks (never below zero). Gross: the full amount; the contribution is invoiced to the person apart.
"""
from __future__ import annotations

from datetime import date, timedelta

from .model import BudgetView, DuePayment, Schedule


def period_amount(schedule: Schedule, budget: BudgetView) -> int:
    """What one period pays, in pence."""
    if schedule.contribution_mode == "netted":
        contribution = budget.contribution_weekly_pence * schedule.frequency_weeks
        return max(0, schedule.amount_pence - contribution)
    return schedule.amount_pence


def _ends(schedule: Schedule, budget: BudgetView) -> date:
    """The last day a paid period may cover: the schedule's end, the budget's end or its ending."""
    ends = schedule.end_date if schedule.end_date < budget.end_date else budget.end_date
    return budget.ended_on if budget.ended_on is not None and budget.ended_on < ends else ends


def _by(first: date, offset: timedelta, last: date) -> bool:
    """first + offset <= last, without making that day: it may lie beyond 9999-12-31 (a schedule in the
    calendar's last weeks), which Python's dates cannot hold."""
    return offset <= last - first


def payable(schedule: Schedule, budget: BudgetView, period: int) -> bool:
    """Whether period `period` may ever be paid (see the module docstring)."""
    starts = timedelta(weeks=schedule.frequency_weeks * period)
    if not _by(schedule.first_due_date, starts + timedelta(weeks=schedule.frequency_weeks, days=-1),
               _ends(schedule, budget)):
        return False
    return budget.died_on is None or _by(schedule.first_due_date, starts, budget.died_on)


def first_period_on_or_after(schedule: Schedule, day: date) -> int:
    """The first period whose due date is on or after `day` (0 if the schedule has not started)."""
    if day <= schedule.first_due_date:
        return 0
    step = 7 * schedule.frequency_weeks
    return -(-(day - schedule.first_due_date).days // step)


def falling_due(schedule: Schedule, budget: BudgetView, up_to: date) -> tuple[list[DuePayment], int]:
    """The periods from `schedule.next_period` whose due date is on or before `up_to`, and the next
    period after them. A suspended schedule makes nothing due (resume() skips what it missed); a
    period that pays nothing (fully netted) is passed over but counted, so it is never revisited.
    (The loop is `payable` unrolled: a payment run calls this for every schedule of a council.)"""
    if schedule.status != "active":
        return [], schedule.next_period
    due: list[DuePayment] = []
    period = schedule.next_period
    amount = period_amount(schedule, budget)
    ends = _ends(schedule, budget)
    died = budget.died_on
    step = timedelta(weeks=schedule.frequency_weeks)
    first = schedule.first_due_date
    # Days from the first due date, as timedeltas (a date beyond 9999-12-31 cannot be made; see _by): a
    # period starting `starts` after it is due by up_to, ends by `ends` and starts by the death.
    last_start = up_to if died is None else min(up_to, died)
    latest = min(last_start - first, ends - first - (step - timedelta(days=1)))
    starts = step * period
    while starts <= latest:
        if amount > 0:
            due.append(DuePayment(schedule.schedule_id, schedule.budget_id, period, first + starts, amount))
        period += 1
        starts += step
    return due, period


def is_finished(schedule: Schedule, budget: BudgetView) -> bool:
    """True when no period from next_period on can ever fall due."""
    return not payable(schedule, budget, schedule.next_period)


def resume(schedule: Schedule, on: date) -> int:
    """The next period after resuming on `on`: periods that fell due while suspended are not paid."""
    return max(schedule.next_period, first_period_on_or_after(schedule, on))


def periods_in_full(schedule: Schedule, budget: BudgetView) -> int:
    """How many periods the schedule can pay from its start (what the ledger commits for it)."""
    period = 0
    while payable(schedule, budget, period):
        period += 1
    return period
