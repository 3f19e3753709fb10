"""The due-date timer: direct-payment periods fall due on a business clock.

`make_due` turns every period of the council's active schedules whose due date is on or before a day
into a due payment (status 'due', picked up by the next payment run) and moves each schedule's
next_period past them, in the caller's transaction. Because the periods and the schedule's position
commit together, and (council, schedule, period) is unique, a crash or restart at any point neither
skips nor repeats a period. Payment runs call it for their own date too, so a stopped timer never
makes a run miss a payment; the timer process (`python -m payments timer`) keeps due payments
visible ahead of the runs. Schedules locked by another transaction wait (FOR UPDATE), then are read
as that transaction left them. The process counts its ticks, the periods it made due and its failed
ticks in `TimerMetrics` (served on /metrics).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import structlog
from careruntime.cli_args import DATABASE_UNREACHABLE
from prometheus_client import CollectorRegistry, Counter, Gauge

from ..adapters import repository as repo
from ..domain.model import BudgetView, Schedule
from ..domain.policy import PolicyError
from ..domain.schedules import falling_due, is_finished

log = structlog.get_logger("payments.timer")


@dataclass
class FallingDue:
    """Periods that fall due, and where each schedule stands after them (not written yet)."""

    payments: list[tuple] = field(default_factory=list)  # repository.add_payments rows
    moved: list[tuple[str, int]] = field(default_factory=list)  # (schedule id, next period)
    finished: list[str] = field(default_factory=list)
    budgets: dict[str, BudgetView] = field(default_factory=dict)  # as read with the schedules


PART_OF = "mod(abs(hashtext({column})::bigint), $3) = $4"
"""SQL: the row belongs to part $4 of $3 (a payment run made in parts splits the council by budget or
provider id, so each budget's offsets and each provider's credits stay within one part)."""


async def collect_due(conn: asyncpg.Connection, council: str, up_to: date,
                      part: tuple[int, int] = (1, 0)) -> FallingDue:
    """Lock the council's active schedules with a period due by `up_to` (in `part` = (parts, k) of the
    council) and work out those periods."""
    rows = await conn.fetch(
        """SELECT s.schedule_id, s.budget_id, s.amount_pence, s.frequency_weeks, s.first_due_date, s.end_date,
                  s.contribution_mode, s.status, s.next_period,
                  b.person_ref, b.start_date, b.end_date AS b_end, b.ended_on, b.died_on,
                  b.contribution_weekly_pence, b.contribution_mode AS b_mode, b.dp_account_ref
           FROM schedules s JOIN budgets b USING (council_id, budget_id)
           WHERE s.council_id = $1 AND s.status = 'active'
             AND s.first_due_date + (s.next_period * s.frequency_weeks * 7) <= $2
             AND """ + PART_OF.format(column="s.budget_id") + """
           ORDER BY s.schedule_id FOR UPDATE OF s""", council, up_to, *part)
    out = FallingDue()
    for r in rows:
        schedule = Schedule(r["schedule_id"], r["budget_id"], r["amount_pence"], r["frequency_weeks"],
                            r["first_due_date"], r["end_date"], r["contribution_mode"], r["status"], r["next_period"])
        budget = BudgetView(r["budget_id"], r["person_ref"], r["start_date"], r["b_end"], r["ended_on"], r["died_on"],
                            r["contribution_weekly_pence"], r["b_mode"], r["dp_account_ref"])
        out.budgets[budget.budget_id] = budget
        due, schedule.next_period = falling_due(schedule, budget, up_to)
        out.payments += [(d.payment_id, "direct_payment", d.budget_id, None, None, d.schedule_id, d.period,
                          d.amount_pence, d.due_date) for d in due]
        out.moved.append((schedule.schedule_id, schedule.next_period))
        if is_finished(schedule, budget):
            out.finished.append(schedule.schedule_id)
    return out


async def advance(conn: asyncpg.Connection, council: str, due: FallingDue) -> None:
    """Store each schedule's next period (and 'finished'), in the caller's transaction."""
    if due.moved:
        await conn.execute(
            """UPDATE schedules s SET next_period = u.next_period,
                      status = CASE WHEN u.schedule_id = ANY($4::text[]) THEN 'finished' ELSE s.status END
               FROM unnest($2::text[], $3::int[]) AS u(schedule_id, next_period)
               WHERE s.council_id = $1 AND s.schedule_id = u.schedule_id""",
            council, [m[0] for m in due.moved], [m[1] for m in due.moved], due.finished)


async def make_due(conn: asyncpg.Connection, council: str, up_to: date) -> int:
    """Make due every period up to `up_to` of the council's active schedules; returns how many."""
    due = await collect_due(conn, council, up_to)
    await repo.add_payments(conn, council, due.payments)
    await advance(conn, council, due)
    return len(due.payments)


async def tick(pool: asyncpg.Pool, business_day: date) -> dict[str, int]:
    """One tick for every council that has schedules: {council: periods made due}."""
    made: dict[str, int] = {}
    async with pool.acquire() as conn:
        councils = [r["council_id"] for r in await conn.fetch(
            "SELECT DISTINCT council_id FROM schedules WHERE status = 'active'")]
        for council in councils:
            try:
                lead = (await repo.policy(conn, council)).timer_lead_days
            except (PolicyError, TypeError, AttributeError) as exc:  # a row written by hand, not with `policy`
                log.error("stored policy not valid: this council's direct payments are not made due until it is "
                          "fixed", council_id=council, reason=str(exc))
                continue  # the other councils' ticks go on; this one is said at every tick until fixed
            async with conn.transaction():
                made[council] = await make_due(conn, council, business_day + timedelta(days=lead))
                await conn.execute(
                    """INSERT INTO timer_ticks (council_id, business_on, made_due) VALUES ($1, $2, $3)
                       ON CONFLICT (council_id) DO UPDATE SET business_on = EXCLUDED.business_on,
                       made_due = timer_ticks.made_due + EXCLUDED.made_due, ticked_at = now()""",
                    council, business_day, made[council])
    return made


class TimerMetrics:
    """The timer process's own metrics (its /metrics), registered in the process's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.ticks = Counter("payments_timer_ticks", "Timer ticks that committed.", registry=registry)
        self.made_due = Counter("payments_timer_periods_made_due", "Direct-payment periods the timer made due.",
                                ["council"], registry=registry)
        self.errors = Counter("payments_timer_errors", "Timer ticks that failed and were rolled back, by kind.",
                              ["kind"], registry=registry)
        self.business_day = Gauge("payments_timer_business_day_seconds",
                                  "The business day of the last committed tick (midnight UTC, Unix seconds).",
                                  registry=registry)

    def ticked(self, business_day: date, made: dict[str, int]) -> None:
        self.ticks.inc()
        for council, count in made.items():
            self.made_due.labels(council).inc(count)
        self.business_day.set(datetime.combine(business_day, time(), tzinfo=UTC).timestamp())

    def failed(self, exc: BaseException) -> None:
        self.errors.labels("postgres" if isinstance(exc, asyncpg.PostgresError) else "connection").inc()


async def run_timer(pool: asyncpg.Pool, clock, interval_s: float, stop: asyncio.Event,
                    metrics: TimerMetrics | None = None) -> None:
    """Tick every `interval_s` on the business clock `clock()` until `stop` is set; a failed tick is
    rolled back and retried at the next interval."""
    while not stop.is_set():
        business_day = clock()
        try:
            made = await tick(pool, business_day)
            if metrics:
                metrics.ticked(business_day, made)
            if any(made.values()):
                log.info("periods made due", business_day=str(business_day), made=made)
        except DATABASE_UNREACHABLE as exc:  # asyncpg's InterfaceError too: a session lost mid-tick must not end it
            if metrics:
                metrics.failed(exc)
            log.warning("timer tick failed; retrying next interval", exc_info=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            pass
