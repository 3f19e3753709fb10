"""asyncpg repository of the ledger: load the slice of state a batch needs, write a batch's results.

Everything a batch writes goes out in one transaction, set-based: COPY for the journal and the
processed-event log, one upsert each for balances, shard heads and working state, then the outbox.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from ..domain import accounts as acct
from ..domain.model import Book, Outcome
from . import state_codec

JOURNAL_COLUMNS = ("entry_id", "shard", "shard_seq", "council_id", "effective_date", "recorded_at",
                   "cause_event_id", "cause_type", "rule_version", "reverses_entry_id",
                   "accounts", "debits", "credits", "prev_hash", "hash")
PROCESSED_COLUMNS = ("event_id", "content_hash", "council_id", "event_type", "shard", "source_offset",
                     "outcome", "entry_id", "reason_code", "detail")

# which payload reference fills which part of the book
REF_KINDS = {"budget_id": "budgets", "order_id": "orders", "schedule_id": "schedules",
             "payment_id": "holds", "recovery_id": "recoveries"}


@dataclass
class BatchResult:
    outcomes: list[tuple[Outcome, str, int]] = field(default_factory=list)  # (outcome, shard, offset)


async def load_heads(conn, shards: Iterable[str]) -> dict[str, tuple[int, str]]:
    rows = await conn.fetch("SELECT shard, shard_seq, hash FROM shard_heads WHERE shard = ANY($1::text[])", list(shards))
    return {r["shard"]: (r["shard_seq"], r["hash"]) for r in rows}


async def load_slice(conn, book: Book, refs: dict[str, set[str]], event_ids: set[str], loaded_owners: set[str]) -> None:
    """Fill the book with what the batch refers to and the book does not hold yet."""
    for ref, kind in REF_KINDS.items():
        wanted = [k for k in refs.get(ref, ()) if k not in state_codec.container(book, kind)]
        if wanted:
            rows = await conn.fetch("SELECT key, data FROM ledger_state WHERE kind = $1 AND key = ANY($2::text[])", kind, wanted)
            target = state_codec.container(book, kind)
            for r in rows:
                target[r["key"]] = state_codec.load(kind, orjson.loads(r["data"]))
    invoice_keys = [k for k in refs.get("invoice_key", ()) if k not in book.invoices]
    if invoice_keys:
        rows = await conn.fetch("SELECT key FROM ledger_state WHERE kind = 'invoices' AND key = ANY($1::text[])", invoice_keys)
        book.invoices.update(r["key"] for r in rows)
    owners = [o for o in refs.get("budget_id", set()) | refs.get("provider_id", set()) if o not in loaded_owners]
    if owners:
        rows = await conn.fetch("SELECT account, balance_pence FROM accounts WHERE owner_ref = ANY($1::text[])", owners)
        for r in rows:
            book.balances[r["account"]] = r["balance_pence"]
        loaded_owners.update(owners)
    unseen = [e for e in event_ids if e not in book.processed]
    if unseen:
        rows = await conn.fetch("SELECT event_id, content_hash, outcome, reason_code FROM processed_events "
                                "WHERE event_id = ANY($1::text[])", unseen)
        for r in rows:
            if r["reason_code"] == "DUPLICATE_CONFLICT":
                book.processed[f"{r['event_id']}#{r['content_hash']}"] = (r["content_hash"], r["outcome"])
            else:
                book.processed[r["event_id"]] = (r["content_hash"], r["outcome"])


def _processed_row(outcome: Outcome, shard: str, offset: int) -> tuple:
    ev = outcome.event
    rejection = outcome.rejection
    return (ev.event_id, ev.content_hash, ev.council_id, ev.type, shard, offset, outcome.kind,
            outcome.entry.entry_id if outcome.entry else None,
            rejection.code if rejection else None, rejection.detail if rejection else None)


async def write_batch(conn, book: Book, results: list[tuple[Outcome, str, int]]) -> None:
    journal, processed, deltas = [], [], {}
    touched_shards = set()
    for outcome, shard, offset in results:
        if outcome.kind == "duplicate":
            continue
        processed.append(_processed_row(outcome, shard, offset))
        entry = outcome.entry
        if entry is None:
            continue
        touched_shards.add(shard)
        journal.append((entry.entry_id, entry.shard, entry.shard_seq, entry.council_id, entry.effective_date,
                        entry.recorded_at, entry.cause_event_id, entry.cause_type, entry.rule_version,
                        entry.reverses_entry_id, [ln.account for ln in entry.lines],
                        [ln.debit for ln in entry.lines], [ln.credit for ln in entry.lines],
                        entry.prev_hash, entry.hash))
        for ln in entry.lines:
            deltas[ln.account] = deltas.get(ln.account, 0) + ln.debit - ln.credit
    if journal:
        await conn.copy_records_to_table("journal_entries", records=journal, columns=JOURNAL_COLUMNS)
    if processed:
        await conn.copy_records_to_table("processed_events", records=processed, columns=PROCESSED_COLUMNS)
    if deltas:
        await _add_to_balances(conn, deltas)
    if touched_shards:
        shards = sorted(touched_shards)
        await conn.execute(
            "INSERT INTO shard_heads (shard, shard_seq, hash) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) "
            "ON CONFLICT (shard) DO UPDATE SET shard_seq = EXCLUDED.shard_seq, hash = EXCLUDED.hash",
            shards, [book.heads[s][0] for s in shards], [book.heads[s][1] for s in shards])
    await _write_state(conn, book)


async def _add_to_balances(conn, deltas: dict[str, int]) -> None:
    names = sorted(deltas)  # a fixed lock order, so concurrent writers cannot deadlock
    parsed = [acct.parse(a) for a in names]
    await conn.execute(
        "INSERT INTO accounts (account, council_id, kind, owner_ref, balance_pence) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) "
        "ON CONFLICT (account) DO UPDATE SET balance_pence = accounts.balance_pence + EXCLUDED.balance_pence",
        names, [p[0] for p in parsed], [p[1] for p in parsed], [p[2] for p in parsed], [deltas[a] for a in names])


async def _write_state(conn, book: Book) -> None:
    dirty = book.take_dirty()
    kinds, keys, councils, data = [], [], [], []
    for kind, changed in dirty.items():
        for key in sorted(changed):
            if kind == "invoices":
                council, payload = key.split("/", 1)[0], "{}"
            else:
                obj = state_codec.container(book, kind)[key]
                council, payload = state_codec.council_of(book, kind, obj), state_codec.dump(obj)
            kinds.append(kind), keys.append(key), councils.append(council), data.append(payload)
    if kinds:
        await conn.execute(
            "INSERT INTO ledger_state (kind, key, council_id, data) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) "
            "ON CONFLICT (kind, key) DO UPDATE SET data = EXCLUDED.data", kinds, keys, councils, data)
