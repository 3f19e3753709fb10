"""Bank files of approved runs: the run's instructions rendered as Bacs Standard 18 or ISO 20022
pain.001 (payments.formats), written to the configured directory, their sha256 recorded in
PaymentFileGenerated.

The file is a pure function of the run (its payments, the payees' accounts from the council's bank
directory, the run's recorded time), so a command decided again after a crash writes the same bytes
and the same digest. It is written to a temporary name and renamed, so a reader never sees half a file.
"""
from __future__ import annotations

import os
from datetime import datetime

from careschemas import payments_commands as cmd
from careschemas import payments_events as ev

from ..domain import reasons
from ..formats import (
    BankDirectoryInvalid, FileBatch, Instruction, PaymentFileInvalid, UnknownAccountRef, file_sha256, render_bacs18, render_pain001,
)
from .context import Ctx, Refused

RENDERERS = {"bacs18": (render_bacs18, "bacs18.txt"), "pain001": (render_pain001, "pain001.xml")}


async def run_batch(ctx: Ctx, run_id: str, processing_date, created_at: datetime) -> FileBatch:
    """The FileBatch of a run: its instructed payments, payees resolved from their account tokens."""
    rows = await ctx.conn.fetch(
        """SELECT p.payment_id, p.end_to_end_id, p.paid_pence, p.kind,
                  coalesce(b.dp_account_ref, b.person_ref) AS budget_ref, v.account_ref AS provider_ref
           FROM payments p
           LEFT JOIN budgets b ON b.council_id = p.council_id AND b.budget_id = p.budget_id
           LEFT JOIN providers v ON v.council_id = p.council_id AND v.provider_id = p.provider_id
           WHERE p.council_id = $1 AND p.run_id = $2 ORDER BY p.payment_id""", ctx.council, run_id)
    try:
        directory = ctx.bank.directory()
    except OSError as exc:
        raise Refused(reasons.BANK_DIRECTORY_INVALID, f"cannot read the bank directory: {exc}") from None
    except BankDirectoryInvalid as exc:
        raise Refused(reasons.BANK_DIRECTORY_INVALID, f"{exc.code}: {exc.detail}") from None
    instructions = []
    for r in rows:
        ref = r["provider_ref"] if r["kind"] == "invoice" else r["budget_ref"]
        try:
            payee = directory.resolve(ref or "")
        except UnknownAccountRef as exc:
            raise Refused(reasons.UNKNOWN_ACCOUNT_REF, f"payment {r['payment_id']}: {exc.detail}") from None
        instructions.append(Instruction(payment_id=r["payment_id"], end_to_end_id=r["end_to_end_id"],
                                        amount_pence=r["paid_pence"], payee=payee, reference=r["end_to_end_id"]))
    return FileBatch(run_id=run_id, council_id=ctx.council, created_at=created_at, processing_date=processing_date,
                     originator=ctx.bank.originator, instructions=tuple(instructions))


def write_atomically(path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


async def generate_payment_file(ctx: Ctx, c: cmd.GeneratePaymentFile) -> None:
    run = await ctx.conn.fetchrow("SELECT * FROM runs WHERE council_id = $1 AND run_id = $2 FOR UPDATE",
                                  ctx.council, c.run_id)
    if run is None:
        raise Refused(reasons.UNKNOWN_RUN, f"no run {c.run_id}")
    if run["approved_by"] is None:
        raise Refused(reasons.RUN_NOT_APPROVED, f"run {c.run_id} is not approved")
    batch = await run_batch(ctx, c.run_id, run["due_on"], run["recorded_at"])
    render, suffix = RENDERERS[c.file_format]
    try:
        data = render(batch)
    except PaymentFileInvalid as exc:
        raise Refused(reasons.PAYMENT_FILE_INVALID, f"{exc.code}: {exc.detail}") from None
    name = f"{ctx.council}-{c.run_id}.{suffix}"
    ctx.bank.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(ctx.bank.out_dir / name, data)
    digest = file_sha256(data)
    await ctx.conn.execute(
        """INSERT INTO run_files VALUES ($1, $2, $3, $4, $5) ON CONFLICT (council_id, run_id, file_format)
           DO UPDATE SET file_name = EXCLUDED.file_name, sha256 = EXCLUDED.sha256""",
        ctx.council, c.run_id, c.file_format, name, digest)
    ctx.emit.event(ev.PaymentFileGenerated(run_id=c.run_id, file_format=c.file_format, file_name=name, sha256=digest,
                                           payment_count=len(batch.instructions), total_pence=batch.total_pence,
                                           effective_date=c.effective_date))
