"""A decided batch as a snapshot of plain rows, ready for COPY and the upserts (`batch_rows`).

Split from `repository` (which sends them) because it is CPU only, and is compiled with the domain
(ledger.native). `batch_rows` takes a snapshot: the book may move on to the next batch meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..domain.model import Book, Outcome
from . import state_codec


class Cause(Protocol):
    """What the journal keeps of an event's envelope besides the event itself."""

    subject: str
    correlationid: str


@dataclass
class BatchRows:
    """Everything one batch writes, as rows ready for COPY or unnest upserts."""

    journal: list[tuple] = field(default_factory=list)
    processed: list[tuple] = field(default_factory=list)
    deltas: dict[str, int] = field(default_factory=dict)  # account -> change of balance
    heads: list[tuple[str, int, str]] = field(default_factory=list)  # (shard, seq, hash), sorted by shard
    state: tuple[list, list, list, list] = ([], [], [], [])  # kinds, keys, councils, JSON data


def _processed_row(outcome: Outcome, shard: str, offset: int) -> tuple:
    ev = outcome.event
    rejection = outcome.rejection
    return (ev.event_id, ev.content_hash, ev.council_id, ev.type, shard, offset, outcome.kind,
            outcome.entry.entry_id if outcome.entry else None,
            rejection.code if rejection else None, rejection.detail if rejection else None)


def batch_rows(book: Book, results: list[tuple[Outcome, str, int, Cause]]) -> BatchRows:
    """The rows of a batch whose outcomes the book already holds; takes the book's dirty marks.

    Each result carries its cause's envelope: the entry's message (built later from the journal by
    `entries_relay`) repeats the cause's subject and correlation id.
    """
    rows = BatchRows()
    journal, processed, deltas = rows.journal, rows.processed, rows.deltas
    touched_shards = set()
    for outcome, shard, offset, cause in results:
        if outcome.kind == "duplicate":
            continue
        processed.append(_processed_row(outcome, shard, offset))
        entry = outcome.entry
        if entry is None:
            continue
        touched_shards.add(shard)
        accounts, debits, credits = [], [], []
        for line in entry.lines:
            account = line.account
            accounts.append(account)
            debits.append(line.debit)
            credits.append(line.credit)
            deltas[account] = deltas.get(account, 0) + line.debit - line.credit
        journal.append((entry.entry_id, entry.shard, entry.shard_seq, entry.council_id, entry.effective_date,
                        entry.recorded_at, entry.cause_event_id, entry.cause_type, entry.rule_version,
                        entry.reverses_entry_id, accounts, debits, credits, entry.prev_hash, entry.hash,
                        cause.subject, cause.correlationid))
    rows.heads = [(s, *book.heads[s]) for s in sorted(touched_shards)]
    rows.state = _state_rows(book)
    return rows


def _state_rows(book: Book) -> tuple[list, list, list, list]:
    dirty = book.take_dirty()
    kinds: list[str] = []
    keys: list[str] = []
    councils: list[str] = []
    data: list[str] = []
    for kind, changed in dirty.items():
        for key in sorted(changed):
            if kind == "invoices":
                council, payload = key.split("/", 1)[0], "{}"
            else:
                obj = state_codec.container(book, kind)[key]
                council, payload = state_codec.council_of(book, kind, obj), state_codec.dump(obj)
            kinds.append(kind)
            keys.append(key)
            councils.append(council)
            data.append(payload)
    return kinds, keys, councils, data
