"""Command handlers for what the bank says about a payment: settled (the reservation is posted) or
returned (released). Both check the payment was instructed, is still open, the amount is the one
instructed, and the bank's date is not before the run that instructed it (BEFORE_INSTRUCTION: a statement
line matched to the wrong payment, or a date typed wrong; a run made before the column existed is not
checked); the events carry the payment's budget or provider, so they travel on its partition."""
from __future__ import annotations

from datetime import date

from careschemas import payments_commands as cmd
from careschemas import payments_events as ev

from ..adapters import repository as repo
from ..domain import reasons
from .context import Ctx, Refused


async def _payment(ctx: Ctx, payment_id: str, amount: int, allowed: tuple[str, ...], on: date):
    row = await ctx.conn.fetchrow(
        """SELECT p.*, r.instructed_on FROM payments p LEFT JOIN runs r USING (council_id, run_id)
           WHERE p.council_id = $1 AND p.payment_id = $2 FOR UPDATE OF p""", ctx.council, payment_id)
    if row is None or row["paid_pence"] is None:
        raise Refused(reasons.UNKNOWN_PAYMENT, f"payment {payment_id} was never instructed")
    if row["status"] not in allowed:
        raise Refused(reasons.PAYMENT_NOT_PENDING, f"payment {payment_id} is {row['status']}")
    if row["paid_pence"] != amount:
        raise Refused(reasons.AMOUNT_MISMATCH, f"payment {payment_id} was instructed for {row['paid_pence']}p, "
                                               f"not {amount}p")
    if row["instructed_on"] is not None and on < row["instructed_on"]:
        raise Refused(reasons.BEFORE_INSTRUCTION, f"payment {payment_id} was instructed on "
                                                  f"{row['instructed_on']} (run {row['run_id']}), not before {on}")
    return row


async def record_settlement(ctx: Ctx, c: cmd.RecordSettlement) -> None:
    row = await _payment(ctx, c.payment_id, c.amount_pence, ("instructed",), c.effective_date)
    await repo.set_payment_status(ctx.conn, ctx.council, [c.payment_id], "settled")
    if row["invoice_id"]:
        await ctx.conn.execute("UPDATE invoices SET status = 'paid' WHERE council_id = $1 AND invoice_id = $2",
                               ctx.council, row["invoice_id"])
    ctx.emit.event(ev.PaymentSettled(payment_id=c.payment_id, amount_pence=c.amount_pence, bank_ref=c.bank_ref,
                                     budget_id=row["budget_id"], provider_id=row["provider_id"],
                                     effective_date=c.effective_date))


async def record_return(ctx: Ctx, c: cmd.RecordReturn) -> None:
    row = await _payment(ctx, c.payment_id, c.amount_pence, ("instructed", "settled"), c.effective_date)
    await repo.set_payment_status(ctx.conn, ctx.council, [c.payment_id], "returned", [c.reason[:200]])
    ctx.emit.event(ev.PaymentReturned(payment_id=c.payment_id, amount_pence=c.amount_pence, reason=c.reason,
                                      budget_id=row["budget_id"], provider_id=row["provider_id"],
                                      effective_date=c.effective_date))
