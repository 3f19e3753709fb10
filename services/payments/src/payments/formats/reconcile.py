"""Match statement entries to the payments a run instructed, by EndToEndId and exact amount.

A booked debit with a known EndToEndId and the instructed amount settles that payment; a booked
credit carrying return information (RtrInf, or the RRTN transaction code) returns it. Everything
else is unmatched with a reason from payments.formats.reasons, so nothing is settled, returned or
dropped silently: a different amount, an unknown id, a pending entry, a second settlement.
"""

from __future__ import annotations

from collections.abc import Mapping

from payments.formats import reasons
from payments.formats.model import Reconciliation, ReturnedPayment, SettledPayment, Statement, StatementEntry

CURRENCY = "GBP"


def reconcile(statement: Statement, instructed: Mapping[str, tuple[str, int]]) -> Reconciliation:
    """instructed maps end_to_end_id to (payment_id, amount_pence) for the payments sent to the bank."""
    settled: list[SettledPayment] = []
    returned: list[ReturnedPayment] = []
    unmatched: list[StatementEntry] = []
    why: dict[str, str] = {}
    settled_ids: set[str] = set()
    returned_ids: set[str] = set()

    for entry in statement.entries:
        reason = _unmatched_reason(entry, instructed, settled_ids, returned_ids)
        if reason is not None:
            unmatched.append(entry)
            why[entry.entry_ref] = reason
            continue
        assert entry.end_to_end_id is not None  # guaranteed by _unmatched_reason
        payment_id, amount = instructed[entry.end_to_end_id]
        if entry.return_reason is not None:
            returned_ids.add(entry.end_to_end_id)
            returned.append(
                ReturnedPayment(
                    payment_id, entry.end_to_end_id, amount, entry.booked_on, entry.entry_ref, entry.return_reason
                )
            )
        else:
            settled_ids.add(entry.end_to_end_id)
            settled.append(SettledPayment(payment_id, entry.end_to_end_id, amount, entry.booked_on, entry.entry_ref))
    return Reconciliation(tuple(settled), tuple(returned), tuple(unmatched), why)


def _unmatched_reason(
    entry: StatementEntry,
    instructed: Mapping[str, tuple[str, int]],
    settled_ids: set[str],
    returned_ids: set[str],
) -> str | None:
    if not entry.is_booked:
        return reasons.NOT_BOOKED
    if entry.end_to_end_id is None:
        return reasons.NO_END_TO_END_ID
    known = instructed.get(entry.end_to_end_id)
    if known is None:
        return reasons.UNKNOWN_END_TO_END_ID
    if entry.currency != CURRENCY:
        return reasons.CURRENCY_MISMATCH
    if entry.amount_pence != known[1]:
        return reasons.AMOUNT_MISMATCH
    if entry.return_reason is not None:
        if not entry.credit:
            return reasons.UNEXPECTED_DEBIT_RETURN
        return reasons.DUPLICATE_RETURN if entry.end_to_end_id in returned_ids else None
    if entry.credit:
        return reasons.UNEXPECTED_CREDIT
    return reasons.DUPLICATE_SETTLEMENT if entry.end_to_end_id in settled_ids else None
