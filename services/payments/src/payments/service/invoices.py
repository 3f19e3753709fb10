"""Command handlers for provider invoices: receive (match or hold), approve, reject, dispute, credit
notes and overpayments. An approved invoice becomes a due payment to its provider; a credit note
reduces what is still to pay, or (invoice already paid) becomes a credit clawed back from the
provider's next payments."""
from __future__ import annotations

from datetime import date

import orjson
from careschemas import invoice_commands as cmd
from careschemas import invoice_events as ev
from careschemas.invoice_events import INVOICE_LINE, InvoiceLine

from ..adapters import repository as repo
from ..domain import reasons
from ..domain.invoices import lines_without_order, match_invoice, periods_of
from ..domain.limits import beyond
from ..domain.model import LineView, PriorInvoice
from .context import Ctx, Refused


def _views(lines) -> list[LineView]:
    return [LineView(ln.line_no, ln.order_id, ln.budget_id, ln.period_start, ln.period_end, ln.units, ln.rate_pence)
            for ln in lines]


async def _consumed(ctx: Ctx, order_ids: list[str]):
    rows = await ctx.conn.fetch(
        """SELECT order_id, period_start, period_end, units FROM invoice_lines
           WHERE council_id = $1 AND order_id = ANY($2)""", ctx.council, order_ids)

    def consumed(order_id: str, start: date, end: date) -> int:
        return sum(r["units"] for r in rows if r["order_id"] == order_id and r["period_start"] <= end
                   and start <= r["period_end"])
    return consumed


async def _priors(ctx: Ctx, provider_id: str) -> list[PriorInvoice]:
    rows = await ctx.conn.fetch(
        """SELECT invoice_id, invoice_number, total_pence, lines FROM invoices
           WHERE council_id = $1 AND provider_id = $2 AND status <> 'rejected'""", ctx.council, provider_id)
    return [PriorInvoice(r["invoice_id"], r["invoice_number"], r["total_pence"],
                         periods_of(_views(INVOICE_LINE.validate_python(x) for x in orjson.loads(r["lines"]))))
            for r in rows]


async def receive_invoice(ctx: Ctx, c: cmd.ReceiveInvoice) -> None:
    if not await ctx.conn.fetchval("SELECT 1 FROM providers WHERE council_id = $1 AND provider_id = $2",
                                   ctx.council, c.provider_id):
        raise Refused(reasons.UNKNOWN_PROVIDER, f"no provider {c.provider_id} in this council")
    exists = await ctx.conn.fetchrow(
        "SELECT invoice_id, invoice_number FROM invoices WHERE council_id = $1 AND (invoice_id = $2 OR "
        "(provider_id = $3 AND invoice_number = $4)) LIMIT 1", ctx.council, c.invoice_id, c.provider_id,
        c.invoice_number)
    if exists and exists["invoice_id"] == c.invoice_id:
        raise Refused(reasons.INVOICE_EXISTS, f"invoice {c.invoice_id} was already received")
    if exists:
        raise Refused(reasons.DUPLICATE_INVOICE_NUMBER,
                      f"{c.provider_id} already sent invoice number {c.invoice_number!r} ({exists['invoice_id']})")
    lines = _views(c.lines)
    order_ids = sorted({ln.order_id for ln in lines})
    hold = match_invoice(provider_id=c.provider_id, invoice_number=c.invoice_number, invoice_date=c.invoice_date,
                         lines=lines, orders=await repo.orders(ctx.conn, ctx.council, order_ids),
                         consumed=await _consumed(ctx, order_ids), priors=await _priors(ctx, c.provider_id),
                         tolerance_bp=ctx.policy.invoice_tolerance_bp)
    total = sum(ln.cost_pence for ln in lines)
    await ctx.conn.execute(
        """INSERT INTO invoices (council_id, invoice_id, provider_id, invoice_number, invoice_date, total_pence,
           status, hold_reason, lines) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)""",
        ctx.council, c.invoice_id, c.provider_id, c.invoice_number, c.invoice_date, total,
        "held" if hold else "matched", hold.reason_code if hold else None,
        orjson.dumps([INVOICE_LINE.dump_python(ln, mode="json") for ln in c.lines]).decode())
    await ctx.conn.executemany(
        """INSERT INTO invoice_lines (council_id, invoice_id, line_no, order_id, period_start, period_end, units)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(ctx.council, c.invoice_id, ln.line_no, ln.order_id, ln.period_start, ln.period_end, ln.units) for ln in lines])
    ctx.emit.event(ev.InvoiceReceived(invoice_id=c.invoice_id, provider_id=c.provider_id,
                                      invoice_number=c.invoice_number, invoice_date=c.invoice_date, lines=c.lines,
                                      effective_date=c.effective_date))
    if hold:
        ctx.emit.event(ev.InvoiceHeld(invoice_id=c.invoice_id, provider_id=c.provider_id, reason_code=hold.reason_code,
                                      detail=hold.detail, effective_date=c.effective_date))
    else:
        ctx.emit.event(ev.InvoiceMatched(invoice_id=c.invoice_id, provider_id=c.provider_id,
                                         effective_date=c.effective_date))


async def _invoice(ctx: Ctx, invoice_id: str, provider_id: str, open_only: bool = True):
    row = await ctx.conn.fetchrow("SELECT * FROM invoices WHERE council_id = $1 AND invoice_id = $2 FOR UPDATE",
                                  ctx.council, invoice_id)
    if row is None or row["provider_id"] != provider_id:
        raise Refused(reasons.UNKNOWN_INVOICE, f"no invoice {invoice_id} from {provider_id}")
    if open_only and row["status"] not in ("matched", "held"):
        raise Refused(reasons.INVOICE_NOT_OPEN, f"invoice {invoice_id} is {row['status']}")
    return row


def _lines(row) -> list[InvoiceLine]:
    return [INVOICE_LINE.validate_python(x) for x in orjson.loads(row["lines"])]


async def approve_invoice(ctx: Ctx, c: cmd.ApproveInvoice) -> None:
    row = await _invoice(ctx, c.invoice_id, c.provider_id)
    lines = _lines(row)
    views = _views(lines)
    orphans = lines_without_order(views, await repo.orders(ctx.conn, ctx.council, [v.order_id for v in views]),
                                  c.provider_id)
    if orphans:
        raise Refused(reasons.ORDER_REQUIRED, f"lines {orphans} name no service order of {c.provider_id}")
    await ctx.conn.execute("UPDATE invoices SET status = 'approved' WHERE council_id = $1 AND invoice_id = $2",
                           ctx.council, c.invoice_id)
    net = row["total_pence"] - row["credited_pence"]
    if net > 0:
        await repo.add_payments(ctx.conn, ctx.council, [(f"INVPAY-{c.invoice_id}", "invoice", None, c.provider_id,
                                                         c.invoice_id, None, None, net, c.effective_date)])
    ctx.emit.event(ev.InvoiceApproved(invoice_id=c.invoice_id, provider_id=c.provider_id, approved_by=c.approved_by,
                                      lines=lines, effective_date=c.effective_date))


async def reject_invoice(ctx: Ctx, c: cmd.RejectInvoice) -> None:
    await _invoice(ctx, c.invoice_id, c.provider_id)
    await ctx.conn.execute("UPDATE invoices SET status = 'rejected' WHERE council_id = $1 AND invoice_id = $2",
                           ctx.council, c.invoice_id)
    await ctx.conn.execute("DELETE FROM invoice_lines WHERE council_id = $1 AND invoice_id = $2",
                           ctx.council, c.invoice_id)  # its units no longer count against the plan
    ctx.emit.event(ev.InvoiceRejected(invoice_id=c.invoice_id, provider_id=c.provider_id, reason_code=c.reason_code,
                                      detail=c.detail, effective_date=c.effective_date))


async def dispute_invoice(ctx: Ctx, c: cmd.DisputeInvoice) -> None:
    await _invoice(ctx, c.invoice_id, c.provider_id)
    await ctx.conn.execute("UPDATE invoices SET status = 'held', hold_reason = 'DISPUTED' "
                           "WHERE council_id = $1 AND invoice_id = $2", ctx.council, c.invoice_id)
    ctx.emit.event(ev.InvoiceHeld(invoice_id=c.invoice_id, provider_id=c.provider_id, reason_code="DISPUTED",
                                  detail=c.reason, effective_date=c.effective_date))


async def receive_credit_note(ctx: Ctx, c: cmd.ReceiveCreditNote) -> None:
    row = await _invoice(ctx, c.invoice_id, c.provider_id, open_only=False)
    credit = sum(ln.units * ln.rate_pence for ln in c.lines)
    if row["status"] == "rejected" or row["credited_pence"] + credit > row["total_pence"]:
        raise Refused(reasons.CREDIT_EXCEEDS_INVOICE, f"invoice {c.invoice_id} ({row['status']}) is "
                      f"{row['total_pence']}p with {row['credited_pence']}p credited; cannot credit {credit}p more")
    if await ctx.conn.fetchval("SELECT 1 FROM credit_notes WHERE council_id = $1 AND credit_note_id = $2",
                               ctx.council, c.credit_note_id):
        raise Refused(reasons.INVOICE_EXISTS, f"credit note {c.credit_note_id} was already received")
    await ctx.conn.execute("INSERT INTO credit_notes VALUES ($1, $2, $3, $4, $5)",
                           ctx.council, c.credit_note_id, c.provider_id, c.invoice_id, credit)
    await ctx.conn.execute("UPDATE invoices SET credited_pence = credited_pence + $3 "
                           "WHERE council_id = $1 AND invoice_id = $2", ctx.council, c.invoice_id, credit)
    payment = await ctx.conn.fetchrow(
        "SELECT payment_id, status, due_pence FROM payments WHERE council_id = $1 AND invoice_id = $2 FOR UPDATE",
        ctx.council, c.invoice_id)
    if payment is not None and payment["status"] == "due":
        left = payment["due_pence"] - credit
        await ctx.conn.execute(
            "UPDATE payments SET due_pence = greatest($3, 1), status = CASE WHEN $3 > 0 THEN status ELSE 'cancelled' END, "
            "status_reason = CASE WHEN $3 > 0 THEN status_reason ELSE 'CREDITED' END "
            "WHERE council_id = $1 AND payment_id = $2", ctx.council, payment["payment_id"], left)
    elif payment is not None and payment["status"] in ("instructed", "settled"):
        owed = await ctx.conn.fetchval("SELECT credit_pence FROM provider_credits WHERE council_id = $1 "
                                       "AND provider_id = $2 FOR UPDATE", ctx.council, c.provider_id) or 0
        out_of_range = beyond(f"{c.provider_id}'s credit owed back ({owed}p + {credit}p)", owed + credit)
        if out_of_range:
            raise Refused(out_of_range.code, out_of_range.detail)
        await ctx.conn.execute(  # already paid: clawed back from the provider's next payments
            """INSERT INTO provider_credits VALUES ($1, $2, $3) ON CONFLICT (council_id, provider_id)
               DO UPDATE SET credit_pence = provider_credits.credit_pence + EXCLUDED.credit_pence""",
            ctx.council, c.provider_id, credit)
    ctx.emit.event(ev.CreditNoteReceived(credit_note_id=c.credit_note_id, provider_id=c.provider_id,
                                         invoice_id=c.invoice_id, lines=c.lines, effective_date=c.effective_date))


async def record_overpayment(ctx: Ctx, c: cmd.RecordOverpayment) -> None:
    if await repo.budget(ctx.conn, ctx.council, c.budget_id) is None:
        raise Refused(reasons.UNKNOWN_BUDGET, f"no agreed budget {c.budget_id} in this council")
    ctx.emit.event(ev.OverpaymentIdentified(overpayment_id=c.overpayment_id, provider_id=c.provider_id,
                                            budget_id=c.budget_id, amount_pence=c.amount_pence, reason=c.reason,
                                            effective_date=c.effective_date))
