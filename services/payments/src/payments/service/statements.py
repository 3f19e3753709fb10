"""Bank statements in: a camt.053/054 file is parsed (payments.formats.parse_camt), reconciled against
the instructed payments it mentions (payments.formats.reconcile) and turned into RecordSettlement and
RecordReturn commands; entries that match nothing are listed with a reason, never dropped.

Command ids derive from the statement's digest and the entry reference, so importing the same file
twice sends the same commands again, which the worker answers as duplicates (nothing happens twice).
The caller parses the file first (payments.formats.parse_camt), so a malformed one is refused with
the parser's coded StatementError before the database is asked or anything is sent.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import asyncpg
from careschemas import payments_commands as cmd

from ..formats import Reconciliation, Statement, StatementEntry, reconcile


@dataclass
class StatementPlan:
    statement_id: str
    digest: str
    commands: list[tuple[str, cmd.RecordSettlement | cmd.RecordReturn]] = field(default_factory=list)
    unmatched: list[tuple[StatementEntry, str]] = field(default_factory=list)
    reconciliation: Reconciliation | None = None


def command_id(digest: str, entry_ref: str, kind: str) -> str:
    return f"stmt-{digest[:16]}-{kind}-{hashlib.sha256(entry_ref.encode()).hexdigest()[:16]}"


async def plan_statement(conn: asyncpg.Connection, council: str, statement: Statement, digest: str) -> StatementPlan:
    """Reconcile a parsed statement file (`digest`: its file_sha256) against this council's instructed or
    settled payments."""
    e2e_ids = [e.end_to_end_id for e in statement.entries if e.end_to_end_id]
    rows = await conn.fetch(
        """SELECT end_to_end_id, payment_id, paid_pence FROM payments WHERE council_id = $1
           AND end_to_end_id = ANY($2) AND status IN ('instructed', 'settled', 'returned')""", council, e2e_ids)
    rec = reconcile(statement, {r["end_to_end_id"]: (r["payment_id"], r["paid_pence"]) for r in rows})
    plan = StatementPlan(statement.statement_id, digest, reconciliation=rec)
    for s in rec.settled:
        plan.commands.append((command_id(digest, s.entry_ref, "s"), cmd.RecordSettlement(
            payment_id=s.payment_id, amount_pence=s.amount_pence, bank_ref=s.entry_ref[:64],
            effective_date=s.booked_on)))
    for r in rec.returned:
        plan.commands.append((command_id(digest, r.entry_ref, "r"), cmd.RecordReturn(
            payment_id=r.payment_id, amount_pence=r.amount_pence, reason=f"bank return {r.reason_code}",
            effective_date=r.booked_on)))
    plan.unmatched = [(e, rec.unmatched_reasons.get(e.entry_ref, "unmatched")) for e in rec.unmatched]
    return plan
