"""Command handlers for payment runs: create (gather what is due, instruct it: the ledger reserves)
and approve (never by the creator, never before the run is complete).

Run creation is set-based: one read of what is due, one plan (domain.runs.plan_run), one COPY of the
payments and of the instructions into the outbox. A run with more than `run_part_size` payments is
made in parts, one transaction each, so the ledger reserves the first part while the next is made and
no transaction holds a whole council's schedules: the council is split by budget / provider id
(timer.PART_OF), part k's transaction ends by sending the run's command again, under the id derived
for part k + 1, to itself (through the outbox), and the last part emits PaymentRunCreated. Each part
commits with its offsets, so a crash between parts resumes at the next part, and a crash inside one
leaves no trace of it: the part is decided again with the same event ids (no double payment).
"""
from __future__ import annotations

import structlog
from careruntime.codec import OUTBOX_HEADERS, encode
from careruntime.event_ids import stem
from careruntime.outbox import OutboxRow
from careschemas import payments_commands as cmd
from careschemas import payments_events as ev
from careschemas.registry import make_envelope

from ..adapters import repository as repo
from ..adapters.wire import SOURCE
from ..domain import reasons
from ..domain.limits import MAX_PENCE
from ..domain.runs import Candidate, RunPlan, check_approval, plan_run
from .context import Ctx, Refused
from .timer import PART_OF, advance, collect_due

log = structlog.get_logger("payments.runs")


async def _candidates(ctx: Ctx, due_on, part: tuple[int, int]) -> list[Candidate]:
    rows = await ctx.conn.fetch(
        """SELECT payment_id, kind, due_pence, due_date, budget_id, provider_id, invoice_id FROM payments
           WHERE council_id = $1 AND status = 'due' AND due_date <= $2 AND """
        + PART_OF.format(column="coalesce(budget_id, provider_id)") + " FOR UPDATE", ctx.council, due_on, *part)
    return [Candidate(*r) for r in rows]


async def _recoveries(ctx: Ctx, budget_ids: list[str]) -> dict[str, list[list]]:
    rows = await ctx.conn.fetch(
        """SELECT recovery_id, budget_id, outstanding_pence FROM recoveries
           WHERE council_id = $1 AND method = 'offset' AND outstanding_pence > 0 AND budget_id = ANY($2)
           ORDER BY recovery_id FOR UPDATE""", ctx.council, budget_ids)
    found: dict[str, list[list]] = {}
    for r in rows:
        found.setdefault(r["budget_id"], []).append([r["recovery_id"], r["outstanding_pence"]])
    return found


async def _parts_needed(ctx: Ctx, due_on) -> int:
    """How many parts a run up to `due_on` is made in (an estimate of its size: due payments and
    schedules with a period due; exactness does not matter, every part takes what is due in it)."""
    size = await ctx.conn.fetchval(
        """SELECT (SELECT count(*) FROM payments WHERE council_id = $1 AND status = 'due' AND due_date <= $2)
                + (SELECT count(*) FROM schedules WHERE council_id = $1 AND status = 'active'
                   AND first_due_date + (next_period * frequency_weeks * 7) <= $2)""", ctx.council, due_on)
    return max(1, -(-size // ctx.run_part_size))


async def _instruct_part(ctx: Ctx, c: cmd.CreatePaymentRun, part: tuple[int, int], so_far: int) -> RunPlan:
    """Make due, plan and instruct what is due in one part of the council (see the module docstring);
    `so_far`: the run's total from its earlier parts."""
    conn, council = ctx.conn, ctx.council
    # The timer may be behind: periods due by the run's date are made due here, and go straight into
    # the run (one write per payment, not an insert then an update).
    fresh = await collect_due(conn, council, c.due_on, part)
    await advance(conn, council, fresh)
    candidates = await _candidates(ctx, c.due_on, part)
    new_ids = {row[0] for row in fresh.payments}
    candidates += [Candidate(pid, kind, amount, due, budget_id=budget_id)
                   for pid, kind, budget_id, _, _, _, _, amount, due in fresh.payments]
    budget_ids = sorted({x.budget_id for x in candidates if x.budget_id})
    providers = sorted({x.provider_id for x in candidates if x.provider_id})
    credits = {r["provider_id"]: r["credit_pence"] for r in await conn.fetch(
        "SELECT provider_id, credit_pence FROM provider_credits WHERE council_id = $1 AND provider_id = ANY($2) "
        "AND credit_pence > 0 FOR UPDATE", council, providers)}
    budgets = {**await repo.budgets(conn, council, [b for b in budget_ids if b not in fresh.budgets]), **fresh.budgets}
    plan = plan_run(candidates, budgets, await _recoveries(ctx, budget_ids), credits, room=MAX_PENCE - so_far)
    if plan.left_due:
        log.warning("payments left due for the next run: the run's total would pass 2^63 - 1 pence",
                    council_id=council, run_id=c.run_id, left_due=len(plan.left_due), first=plan.left_due[0])
    final = {p.candidate.payment_id: ("instructed", p.amount_pence, c.run_id, None) for p in plan.payments}
    final.update({pid: ("cancelled", None, None, code) for pid, code, _ in plan.cancelled})
    final.update({pid: ("offset", None, None, "RECOVERED") for pid in plan.offset_in_full})
    await repo.add_payments(conn, council, fresh.payments, final)
    old = [p for p in plan.payments if p.candidate.payment_id not in new_ids]
    await conn.execute(
        """UPDATE payments p SET status = 'instructed', paid_pence = u.paid, run_id = $2
           FROM unnest($3::text[], $4::bigint[]) AS u(payment_id, paid)
           WHERE p.council_id = $1 AND p.payment_id = u.payment_id""",
        council, c.run_id, [p.candidate.payment_id for p in old], [p.amount_pence for p in old])
    cancelled = [x for x in plan.cancelled if x[0] not in new_ids]
    await repo.set_payment_status(conn, council, [x[0] for x in cancelled], "cancelled", [x[1] for x in cancelled])
    offset = [pid for pid in plan.offset_in_full if pid not in new_ids]
    await repo.set_payment_status(conn, council, offset, "offset", ["RECOVERED"] * len(offset))
    for recovery_id, _, amount in plan.recovered:
        await conn.execute("UPDATE recoveries SET outstanding_pence = outstanding_pence - $3 "
                           "WHERE council_id = $1 AND recovery_id = $2", council, recovery_id, amount)
    for provider_id, used in plan.credits_used.items():
        await conn.execute("UPDATE provider_credits SET credit_pence = credit_pence - $3 "
                           "WHERE council_id = $1 AND provider_id = $2", council, provider_id, used)
    for p in plan.payments:
        x = p.candidate
        if x.kind != "one_off":  # a one-off was reserved when it was made (OneOffPaymentMade)
            ctx.emit.instructed(payment_id=x.payment_id, run_id=c.run_id, kind=x.kind, budget_id=x.budget_id,
                                provider_id=x.provider_id, invoice_id=x.invoice_id, amount_pence=p.amount_pence,
                                due_date=x.due_date, effective_date=c.effective_date)
    for (recovery_id, budget_id, amount), payment_id in zip(plan.recovered, plan.recovered_from, strict=True):
        ctx.emit.event(ev.SurplusRecovered(recovery_id=recovery_id, budget_id=budget_id, amount_pence=amount,
                                           offset_payment_id=payment_id, effective_date=c.effective_date))
    return plan


def next_part_id(first_command_id: str, part: int) -> str:
    """The id of a run's continuation command: `<first command id>.part2`, or the hashed stem of a long id
    (careruntime.event_ids). It was the first 100 characters and `.partN`, so two runs whose first ids
    shared those 100 characters shared continuation ids, and the second run's was refused DUPLICATE_CONFLICT,
    leaving that run `creating` for ever."""
    suffix = f"part{part}"
    return stem(first_command_id, len(suffix)) + suffix


def _continuation(ctx: Ctx, c: cmd.CreatePaymentRun, command_id: str) -> OutboxRow:
    """The run's command again, to this service, under the id of its next part."""
    env = make_envelope(c, id=command_id, source=SOURCE, subject=c.run_id, council_id=ctx.council,
                        correlation_id=ctx.envelope.correlationid, causation_id=ctx.envelope.id,
                        time=ctx.envelope.time)
    return OutboxRow(ctx.commands_topic, c.run_id.encode(), encode(env), OUTBOX_HEADERS)


async def create_payment_run(ctx: Ctx, c: cmd.CreatePaymentRun) -> None:
    conn, council = ctx.conn, ctx.council
    run = await conn.fetchrow("SELECT * FROM runs WHERE council_id = $1 AND run_id = $2 FOR UPDATE", council, c.run_id)
    if run is None:
        parts, part, first_id = await _parts_needed(ctx, c.due_on), 0, ctx.envelope.id
    elif run["status"] == "creating" and ctx.envelope.id == run["next_command_id"]:
        parts, part, first_id = run["parts"], run["next_part"], run["first_command_id"]
    else:
        raise Refused(reasons.RUN_EXISTS, f"run {c.run_id} already exists")
    plan = await _instruct_part(ctx, c, (parts, part), run["total_pence"] if run else 0)
    if parts == 1 and not plan.payments:
        raise Refused(reasons.RUN_EMPTY, f"nothing due on or before {c.due_on}")
    last = part + 1 == parts
    next_id = None if last else next_part_id(first_id, part + 1)
    if run is None:
        run = await conn.fetchrow(
            """INSERT INTO runs (council_id, run_id, created_by, due_on, payment_count, total_pence, recorded_at,
               status, parts, next_part, next_command_id, first_command_id, instructed_on)
               VALUES ($1, $2, $3, $4, 0, 0, $5, 'creating', $6, 0, NULL, $7, $8) RETURNING *""",
            council, c.run_id, c.created_by, c.due_on, ctx.envelope.time, parts, first_id, c.effective_date)
    count, total = run["payment_count"] + len(plan.payments), run["total_pence"] + plan.total_pence
    await conn.execute(
        """UPDATE runs SET payment_count = $3, total_pence = $4, next_part = $5, next_command_id = $6,
           status = CASE WHEN $7 THEN 'created' ELSE 'creating' END WHERE council_id = $1 AND run_id = $2""",
        council, c.run_id, count, total, part + 1, next_id, last)
    if not last:
        # First in the outbox: the relay sends it before this part's instructions, so the next part is
        # made while they are published and reserved.
        ctx.emit.rows.insert(0, _continuation(ctx, c, next_id))
        return
    ctx.emit.event(ev.PaymentRunCreated(run_id=c.run_id, created_by=c.created_by, payment_count=count,
                                        total_pence=total, due_on=c.due_on, effective_date=c.effective_date))


async def approve_payment_run(ctx: Ctx, c: cmd.ApprovePaymentRun) -> None:
    run = await ctx.conn.fetchrow("SELECT created_by, approved_by, status FROM runs WHERE council_id = $1 "
                                  "AND run_id = $2 FOR UPDATE", ctx.council, c.run_id)
    if run is None:
        raise Refused(reasons.UNKNOWN_RUN, f"no run {c.run_id}")
    if run["status"] != "created":
        raise Refused(reasons.RUN_NOT_READY, f"run {c.run_id} is still being made; approve it when it is created")
    refused = check_approval(run["created_by"], run["approved_by"], c.approved_by)
    if refused:
        raise Refused(refused.code, refused.detail)
    await ctx.conn.execute("UPDATE runs SET approved_by = $3 WHERE council_id = $1 AND run_id = $2",
                           ctx.council, c.run_id, c.approved_by)
    ctx.emit.event(ev.PaymentRunApproved(run_id=c.run_id, approved_by=c.approved_by, effective_date=c.effective_date))
