"""Apply one business event to the book: idempotency, the posting rule, the invariants, the chain.

`apply` is the whole decision the ledger makes about an event. It is pure: the same book and the same
events in the same order give the same outcomes, entries and chain heads, which is what replay relies on.
"""
from __future__ import annotations

from . import chain, reasons
from .invariants import AmountOutOfRange, InvariantBroken
from .model import Book, Entry, Event, Line, Noted, Outcome, Posting, Rejection
from .rules import RULE_VERSION, RULES, record_entry_id

MAX_AMOUNT = 2**63 - 1  # the journal's amounts and balances are PostgreSQL bigints


def check_balanced(lines: tuple[Line, ...]) -> None:
    debits = credits = 0
    for line in lines:
        if (line.debit < 0 or line.credit < 0) or (line.debit > 0) == (line.credit > 0):
            raise InvariantBroken(f"line must be one-sided and positive: {line}")
        debits += line.debit
        credits += line.credit
    if debits != credits or len(lines) < 2:
        raise InvariantBroken(f"unbalanced posting: debits {debits} != credits {credits}")


def apply(book: Book, ev: Event, shard: str, defer_retriable: bool = False) -> Outcome:
    """Decide and record the outcome of `ev` on `shard`.

    With `defer_retriable`, a rejection that may only mean "not read yet" (RETRIABLE) leaves the book
    untouched and returns kind "deferred", so the caller can try the event again later.

    Raises AmountOutOfRange, with the book changed part way, when the posting does not fit the journal's
    64-bit amounts: the caller throws the book away, adds the event to `book.refused` and decides again.
    """
    seen = book.processed.get(ev.event_id)
    if seen is not None:
        if seen[0] == ev.content_hash:
            return Outcome(ev, "duplicate")
        conflict_key = f"{ev.event_id}#{ev.content_hash}"
        if conflict_key in book.processed:
            return Outcome(ev, "duplicate")
        book.processed[conflict_key] = (ev.content_hash, "rejected")
        return Outcome(ev, "rejected", rejection=Rejection(
            reasons.DUPLICATE_CONFLICT, f"event id {ev.event_id} was already used with different content"))

    if book.refused:
        too_large = book.refused.get(ev.event_id)
        if too_large is not None:
            book.processed[ev.event_id] = (ev.content_hash, "rejected")
            return Outcome(ev, "rejected", rejection=Rejection(reasons.AMOUNT_OUT_OF_RANGE, too_large))

    rule = RULES.get(ev.type)
    if rule is None:
        result: Posting | Rejection | Noted = Rejection(reasons.NO_POSTING_RULE, f"no posting rule for {ev.type}")
    else:
        result = rule.apply(book, ev)

    if isinstance(result, Rejection) and defer_retriable and result.code in reasons.RETRIABLE:
        return Outcome(ev, "deferred", rejection=result)
    if isinstance(result, Posting) and not result.lines:
        result = Noted("nothing to post")

    if isinstance(result, Rejection):
        book.processed[ev.event_id] = (ev.content_hash, "rejected")
        return Outcome(ev, "rejected", rejection=result)
    if isinstance(result, Noted):
        book.processed[ev.event_id] = (ev.content_hash, "noted")
        return Outcome(ev, "noted")

    check_balanced(result.lines)
    entry = _append(book, ev, shard, result)
    for line in result.lines:
        balance = book.balances.get(line.account, 0) + line.debit - line.credit
        if line.debit > MAX_AMOUNT or line.credit > MAX_AMOUNT or not -MAX_AMOUNT <= balance <= MAX_AMOUNT:
            raise AmountOutOfRange(ev.event_id, f"{ev.type} would post {max(line.debit, line.credit)}p to "
                                   f"{line.account} (balance {balance}p); amounts are at most {MAX_AMOUNT}p")
        book.balances[line.account] = balance
    record_entry_id(book, ev, entry.entry_id)
    book.processed[ev.event_id] = (ev.content_hash, "posted")
    return Outcome(ev, "posted", entry=entry)


def _append(book: Book, ev: Event, shard: str, posting: Posting) -> Entry:
    seq, prev_hash = book.heads.get(shard, (0, chain.GENESIS))
    seq += 1
    entry_id = f"{shard}:{seq}"  # shard is "<topic>:<partition>"; fits the schema Id pattern
    effective = ev.payload.effective_date
    text = chain.canonical(entry_id, effective.isoformat(), ev.recorded_at, ev.event_id, ev.type, RULE_VERSION,
                           posting.reverses_entry_id,
                           [(line.account, line.debit, line.credit) for line in posting.lines])
    digest = chain.link(prev_hash, text)
    book.heads[shard] = (seq, digest)
    return Entry(entry_id, shard, seq, ev.council_id, effective, ev.recorded_at, ev.event_id, ev.type,
                 RULE_VERSION, posting.lines, posting.reverses_entry_id, prev_hash, digest)
