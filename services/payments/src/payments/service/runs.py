"""Command handlers for payment runs: create (gather what is due, instruct it: the ledger reserves),
approve (never by the creator), and the bank's settlements and returns of the run's payments.

Run creation is set-based: one read of the due payments, one plan (domain.runs.plan_run), one COPY of
the instructions into the outbox. A crash anywhere before the batch commits leaves no trace; the
command is then decided again and emits the same events with the same ids (no double payment).
"""
from __future__ import annotations

from careschemas import payments_commands as cmd
from careschemas import payments_events as ev

from ..adapters import repository as repo
from ..domain import reasons
from ..domain.runs import Candidate, check_approval, plan_run
from .context import Ctx, Refused
from .timer import advance, collect_due


async def _candidates(ctx: Ctx, due_on) -> list[Candidate]:
    rows = await ctx.conn.fetch(
        """SELECT payment_id, kind, due_pence, due_date, budget_id, provider_id, invoice_id FROM payments
           WHERE council_id = $1 AND status = 'due' AND due_date <= $2 FOR UPDATE""", ctx.council, due_on)
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


async def create_payment_run(ctx: Ctx, c: cmd.CreatePaymentRun) -> None:
    conn, council = ctx.conn, ctx.council
    if await conn.fetchval("SELECT 1 FROM runs WHERE council_id = $1 AND run_id = $2", council, c.run_id):
        raise Refused(reasons.RUN_EXISTS, f"run {c.run_id} already exists")
    # The timer may be behind: periods due by the run's date are made due here, and go straight into
    # the run (one write per payment, not an insert then an update).
    fresh = await collect_due(conn, council, c.due_on)
    await advance(conn, council, fresh)
    candidates = await _candidates(ctx, c.due_on)
    new_ids = {row[0] for row in fresh.payments}
    candidates += [Candidate(pid, kind, amount, due, budget_id=budget_id)
                   for pid, kind, budget_id, _, _, _, _, amount, due in fresh.payments]
    budget_ids = sorted({x.budget_id for x in candidates if x.budget_id})
    credits = {r["provider_id"]: r["credit_pence"] for r in await conn.fetch(
        "SELECT provider_id, credit_pence FROM provider_credits WHERE council_id = $1 AND credit_pence > 0 FOR UPDATE",
        council)}
    budgets = {**await repo.budgets(conn, council, [b for b in budget_ids if b not in fresh.budgets]), **fresh.budgets}
    plan = plan_run(candidates, budgets, await _recoveries(ctx, budget_ids), credits)
    if not plan.payments:
        raise Refused(reasons.RUN_EMPTY, f"nothing due on or before {c.due_on}")
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
    await conn.execute(
        """INSERT INTO runs (council_id, run_id, created_by, due_on, payment_count, total_pence, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        council, c.run_id, c.created_by, c.due_on, len(plan.payments), plan.total_pence, ctx.envelope.time)
    ctx.emit.event(ev.PaymentRunCreated(run_id=c.run_id, created_by=c.created_by, payment_count=len(plan.payments),
                                        total_pence=plan.total_pence, due_on=c.due_on, effective_date=c.effective_date))


async def approve_payment_run(ctx: Ctx, c: cmd.ApprovePaymentRun) -> None:
    run = await ctx.conn.fetchrow("SELECT created_by, approved_by FROM runs WHERE council_id = $1 AND run_id = $2 "
                                  "FOR UPDATE", ctx.council, c.run_id)
    if run is None:
        raise Refused(reasons.UNKNOWN_RUN, f"no run {c.run_id}")
    refused = check_approval(run["created_by"], run["approved_by"], c.approved_by)
    if refused:
        raise Refused(refused.code, refused.detail)
    await ctx.conn.execute("UPDATE runs SET approved_by = $3 WHERE council_id = $1 AND run_id = $2",
                           ctx.council, c.run_id, c.approved_by)
    ctx.emit.event(ev.PaymentRunApproved(run_id=c.run_id, approved_by=c.approved_by, effective_date=c.effective_date))


async def _payment(ctx: Ctx, payment_id: str, amount: int, allowed: tuple[str, ...]):
    row = await ctx.conn.fetchrow("SELECT * FROM payments WHERE council_id = $1 AND payment_id = $2 FOR UPDATE",
                                  ctx.council, payment_id)
    if row is None or row["paid_pence"] is None:
        raise Refused(reasons.UNKNOWN_PAYMENT, f"payment {payment_id} was never instructed")
    if row["status"] not in allowed:
        raise Refused(reasons.PAYMENT_NOT_PENDING, f"payment {payment_id} is {row['status']}")
    if row["paid_pence"] != amount:
        raise Refused(reasons.AMOUNT_MISMATCH, f"payment {payment_id} was instructed for {row['paid_pence']}p, "
                                               f"not {amount}p")
    return row


async def record_settlement(ctx: Ctx, c: cmd.RecordSettlement) -> None:
    row = await _payment(ctx, c.payment_id, c.amount_pence, ("instructed",))
    await repo.set_payment_status(ctx.conn, ctx.council, [c.payment_id], "settled")
    if row["invoice_id"]:
        await ctx.conn.execute("UPDATE invoices SET status = 'paid' WHERE council_id = $1 AND invoice_id = $2",
                               ctx.council, row["invoice_id"])
    ctx.emit.event(ev.PaymentSettled(payment_id=c.payment_id, amount_pence=c.amount_pence, bank_ref=c.bank_ref,
                                     budget_id=row["budget_id"], provider_id=row["provider_id"],
                                     effective_date=c.effective_date))


async def record_return(ctx: Ctx, c: cmd.RecordReturn) -> None:
    row = await _payment(ctx, c.payment_id, c.amount_pence, ("instructed", "settled"))
    await repo.set_payment_status(ctx.conn, ctx.council, [c.payment_id], "returned", [c.reason[:200]])
    ctx.emit.event(ev.PaymentReturned(payment_id=c.payment_id, amount_pence=c.amount_pence, reason=c.reason,
                                      budget_id=row["budget_id"], provider_id=row["provider_id"],
                                      effective_date=c.effective_date))
