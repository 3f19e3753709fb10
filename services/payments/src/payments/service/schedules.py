"""Command handlers for direct payments: schedules (create, suspend, resume), one-off payments and
surplus recovery. Each checks against the read model, writes its state and emits its event."""
from __future__ import annotations

from careschemas import payments_commands as cmd
from careschemas import payments_events as ev

from ..adapters import repository as repo
from ..domain import reasons
from ..domain.limits import beyond_count
from ..domain.model import Schedule
from ..domain.recovery import assess_surplus, weekly_rate
from ..domain.schedules import period_amount, resume
from .context import Ctx, Refused


async def _open_budget(ctx: Ctx, budget_id: str, on):
    budget = await repo.budget(ctx.conn, ctx.council, budget_id)
    if budget is None:
        raise Refused(reasons.UNKNOWN_BUDGET, f"no agreed budget {budget_id} in this council")
    refused = budget.refuses_payment_on(on)
    if refused:
        raise Refused(*refused)
    return budget


async def schedule_direct_payment(ctx: Ctx, c: cmd.ScheduleDirectPayment) -> None:
    await _open_budget(ctx, c.budget_id, c.first_due_date)
    if await repo.schedule(ctx.conn, ctx.council, c.schedule_id, lock=False):
        raise Refused(reasons.SCHEDULE_EXISTS, f"schedule {c.schedule_id} already exists")
    # The council's frequency applies when the command does not name one.
    weeks = c.frequency_weeks or ctx.policy.dp_frequency_weeks
    await ctx.conn.execute(
        """INSERT INTO schedules (council_id, schedule_id, budget_id, amount_pence, frequency_weeks, first_due_date,
           end_date, contribution_mode, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active')""",
        ctx.council, c.schedule_id, c.budget_id, c.amount_pence, weeks, c.first_due_date, c.end_date,
        c.contribution_mode.value)
    ctx.emit.event(ev.DirectPaymentScheduled(
        schedule_id=c.schedule_id, budget_id=c.budget_id, amount_pence=c.amount_pence, frequency_weeks=weeks,
        first_due_date=c.first_due_date, end_date=c.end_date, contribution_mode=c.contribution_mode,
        effective_date=c.effective_date))


async def _schedule(ctx: Ctx, schedule_id: str, budget_id: str) -> Schedule:
    found = await repo.schedule(ctx.conn, ctx.council, schedule_id)
    if found is None or found.budget_id != budget_id:
        raise Refused(reasons.UNKNOWN_SCHEDULE, f"no schedule {schedule_id} on budget {budget_id}")
    return found


async def suspend_direct_payment(ctx: Ctx, c: cmd.SuspendDirectPayment) -> None:
    s = await _schedule(ctx, c.schedule_id, c.budget_id)
    if s.status != "active":
        raise Refused(reasons.SCHEDULE_NOT_ACTIVE, f"schedule {c.schedule_id} is {s.status}")
    await ctx.conn.execute("UPDATE schedules SET status = 'suspended' WHERE council_id = $1 AND schedule_id = $2",
                           ctx.council, c.schedule_id)
    # Periods already due on or after the suspension, not yet in a run, are not paid.
    await ctx.conn.execute(
        """UPDATE payments SET status = 'cancelled', status_reason = 'SUSPENDED'
           WHERE council_id = $1 AND schedule_id = $2 AND status = 'due' AND due_date >= $3""",
        ctx.council, c.schedule_id, c.effective_date)
    ctx.emit.event(ev.DirectPaymentSuspended(schedule_id=c.schedule_id, budget_id=c.budget_id, reason=c.reason,
                                             effective_date=c.effective_date))


async def resume_direct_payment(ctx: Ctx, c: cmd.ResumeDirectPayment) -> None:
    s = await _schedule(ctx, c.schedule_id, c.budget_id)
    if s.status != "suspended":
        raise Refused(reasons.SCHEDULE_NOT_SUSPENDED, f"schedule {c.schedule_id} is {s.status}")
    # Cancelled periods (suspended while due) are skipped too: never paid late.
    cancelled = await ctx.conn.fetchval(
        "SELECT max(period) + 1 FROM payments WHERE council_id = $1 AND schedule_id = $2 AND status = 'cancelled'",
        ctx.council, c.schedule_id) or 0
    next_period = max(resume(s, c.effective_date), cancelled)
    await ctx.conn.execute("UPDATE schedules SET status = 'active', next_period = $3 "
                           "WHERE council_id = $1 AND schedule_id = $2", ctx.council, c.schedule_id, next_period)
    ctx.emit.event(ev.DirectPaymentResumed(schedule_id=c.schedule_id, budget_id=c.budget_id, reason=c.reason,
                                           effective_date=c.effective_date))


async def make_one_off_payment(ctx: Ctx, c: cmd.MakeOneOffPayment) -> None:
    await _open_budget(ctx, c.budget_id, c.effective_date)
    if await ctx.conn.fetchval("SELECT 1 FROM payments WHERE council_id = $1 AND payment_id = $2",
                               ctx.council, c.payment_id):
        raise Refused(reasons.PAYMENT_EXISTS, f"payment {c.payment_id} already exists")
    await repo.add_payments(ctx.conn, ctx.council, [(c.payment_id, "one_off", c.budget_id, None, None, None, None,
                                                     c.amount_pence, c.effective_date)])
    ctx.emit.event(ev.OneOffPaymentMade(payment_id=c.payment_id, budget_id=c.budget_id, amount_pence=c.amount_pence,
                                        reason=c.reason, effective_date=c.effective_date))


async def _raise(ctx: Ctx, recovery_id: str, budget_id: str, amount: int, weeks: int, method: str, on) -> None:
    if await repo.budget(ctx.conn, ctx.council, budget_id) is None:
        raise Refused(reasons.UNKNOWN_BUDGET, f"no agreed budget {budget_id} in this council")
    inserted = await ctx.conn.fetchval(
        """INSERT INTO recoveries (council_id, recovery_id, budget_id, method, amount_pence, outstanding_pence)
           VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING 1""",
        ctx.council, recovery_id, budget_id, method, amount)
    if not inserted:
        raise Refused(reasons.RECOVERY_EXISTS, f"recovery {recovery_id} already raised")
    ctx.emit.event(ev.SurplusRecoveryRaised(recovery_id=recovery_id, budget_id=budget_id, amount_pence=amount,
                                            weeks_in_credit=weeks, method=method, effective_date=on))


async def raise_surplus_recovery(ctx: Ctx, c: cmd.RaiseSurplusRecovery) -> None:
    await _raise(ctx, c.recovery_id, c.budget_id, c.amount_pence, c.weeks_in_credit, c.method, c.effective_date)


async def report_direct_payment_balance(ctx: Ctx, c: cmd.ReportDirectPaymentBalance) -> None:
    """A balance over the council's allowed weeks of DP payments (after liabilities) raises a recovery."""
    budget = await repo.budget(ctx.conn, ctx.council, c.budget_id)
    if budget is None:
        raise Refused(reasons.UNKNOWN_BUDGET, f"no agreed budget {c.budget_id} in this council")
    rows = await ctx.conn.fetch("SELECT * FROM schedules WHERE council_id = $1 AND budget_id = $2 AND status = 'active'",
                                ctx.council, c.budget_id)
    weekly = sum(weekly_rate(period_amount(repo.schedule_of({k: v for k, v in r.items() if k != "council_id"}), budget),
                             r["frequency_weeks"]) for r in rows)
    surplus = assess_surplus(c.balance_pence, c.liabilities_pence, weekly, ctx.policy.surplus_weeks)
    free = c.balance_pence - c.liabilities_pence
    if surplus is None:
        raise Refused(reasons.NO_SURPLUS, f"{free}p after liabilities is within "
                                          f"{ctx.policy.surplus_weeks} weeks of {weekly}p")
    out_of_range = beyond_count("weeks in credit", surplus.weeks_in_credit)  # a count on the wire
    if out_of_range:
        raise Refused(out_of_range.code, f"{out_of_range.detail} ({free}p after "
                                         f"liabilities at {weekly}p a week); raise the recovery with "
                                         "RaiseSurplusRecovery instead")
    await _raise(ctx, c.recovery_id, c.budget_id, surplus.amount_pence, surplus.weeks_in_credit,
                 ctx.policy.recovery_method, c.effective_date)

